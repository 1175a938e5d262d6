package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServiceUnit reads vigie.service as systemd would: under
// ProtectSystem=strict every path is read-only but those of ReadWritePaths,
// and the console's Apply writes the rule file, and the versions it keeps,
// in the rule file's folder. That folder must be writable, or Apply fails
// on the very install the unit's comments describe.
func TestServiceUnit(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "vigie.service"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	service := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			section = line
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && section == "[Service]" {
			service[k] = append(service[k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var config string
	for _, start := range service["ExecStart"] {
		fields := strings.Fields(start)
		for i, fl := range fields {
			if fl == "--config" && i+1 < len(fields) {
				config = fields[i+1]
			}
		}
	}
	if config == "" {
		t.Fatalf("ExecStart %q names no --config", service["ExecStart"])
	}
	if len(service["ProtectSystem"]) == 0 || service["ProtectSystem"][0] != "strict" {
		t.Skip("not ProtectSystem=strict: nothing to check")
	}
	dir := filepath.Dir(config)
	for _, paths := range service["ReadWritePaths"] {
		for _, p := range strings.Fields(paths) {
			p = strings.TrimPrefix(strings.TrimPrefix(p, "-"), "+")
			if dir == p || strings.HasPrefix(dir, strings.TrimSuffix(p, "/")+"/") {
				return
			}
		}
	}
	t.Errorf("ProtectSystem=strict and %s (the rule file's folder) not in ReadWritePaths %q: the console's Apply cannot write the rules", dir, service["ReadWritePaths"])
}

// The unit gives vigie a directory of its own for the admin token it makes:
// systemd's RuntimeDirectory, 0700, named in VIGIE_ADMIN_TOKEN_DIR (a system
// user has no XDG_RUNTIME_DIR, and its home is the rules' folder).
func TestServiceUnitTokenDir(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "vigie.service"))
	if err != nil {
		t.Fatal(err)
	}
	service := map[string]string{}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(k, "#") {
			if k == "Environment" {
				k, v, _ = strings.Cut(v, "=")
			}
			service[k] = v
		}
	}
	if service["RuntimeDirectory"] == "" || service["RuntimeDirectoryMode"] != "0700" {
		t.Errorf("RuntimeDirectory=%q, RuntimeDirectoryMode=%q: want a directory, 0700", service["RuntimeDirectory"], service["RuntimeDirectoryMode"])
	}
	if want := "/run/" + service["RuntimeDirectory"]; service["VIGIE_ADMIN_TOKEN_DIR"] != want {
		t.Errorf("VIGIE_ADMIN_TOKEN_DIR=%q, want %s", service["VIGIE_ADMIN_TOKEN_DIR"], want)
	}
}
