package rules_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/vigie-bot/vigie/rules"
)

// A list or model file that is not a regular file, or is too large, is refused
// with the line of the rule file that names it, not read: /dev/zero filled the
// memory of vigie check, a FIFO held it (and a reload, all reloads) forever.
func TestListAndModelFilesRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no /dev/zero nor FIFOs")
	}
	dir := t.TempDir()
	sparse := func(name string, size int64) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(size); err != nil { // no blocks written
			t.Fatal(err)
		}
	}
	sparse("big.txt", 16<<20+1)
	sparse("big.bin", 64<<20+1)
	if err := os.Mkdir(filepath.Join(dir, "folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok.txt"), []byte("connard\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `lists:
  ok: {file: ok.txt}
  zero: {file: /dev/zero}
  fifo: {file: fifo}
  big: {file: big.txt}
  folder: {file: folder}
models:
  zero: {file: /dev/zero}
  fifo: {file: fifo}
  big: {file: big.bin}
rules: []
`
	file := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := rules.Load(file)
	if err == nil {
		t.Fatal("loaded")
	}
	got := strings.ReplaceAll(err.Error(), dir, "DIR")
	want := `DIR/rules.yaml:3:16: list "zero": cannot read /dev/zero: not a regular file (a character device)
DIR/rules.yaml:4:16: list "fifo": cannot read DIR/fifo: not a regular file (a FIFO)
DIR/rules.yaml:5:15: list "big": cannot read DIR/big.txt: 16777217 bytes, larger than the 16 MiB allowed
DIR/rules.yaml:6:18: list "folder": cannot read DIR/folder: is a folder, not a file
DIR/rules.yaml:8:16: model "zero": cannot read /dev/zero: not a regular file (a character device)
DIR/rules.yaml:9:16: model "fifo": cannot read DIR/fifo: not a regular file (a FIFO)
DIR/rules.yaml:10:15: model "big": cannot read DIR/big.bin: 67108865 bytes, larger than the 64 MiB allowed`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// The rule file itself is refused, not read, when it is not a regular file or
// is too large: `vigie check /dev/zero` filled the memory, a FIFO held a load
// (and a reload) until something wrote to it.
func TestRuleFileNotRegularRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no /dev/zero nor FIFOs")
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(16<<20 + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for file, want := range map[string]string{
		"/dev/zero": "read rule file: /dev/zero: not a regular file (a character device)",
		fifo:        "read rule file: DIR/fifo.yaml: not a regular file (a FIFO)",
		big:         "read rule file: DIR/big.yaml: 16777217 bytes, larger than the 16 MiB allowed",
		dir:         "read rule file: DIR: is a folder, not a file",
	} {
		_, err := rules.Load(file)
		if err == nil {
			t.Errorf("%s loaded", file)
			continue
		}
		if got := strings.ReplaceAll(err.Error(), dir, "DIR"); got != want {
			t.Errorf("Load(%s) = %q, want %q", file, got, want)
		}
	}
}
