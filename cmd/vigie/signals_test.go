package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/vigie-bot/vigie/bot/daemon/listentest"
)

// TestMain lets the signal test run this test binary as vigie itself, so that
// main's own wiring (signals to context and reload) is what is tested, and
// gives the docs' scripts (docs_test.go) the command vigie, the real main run
// from the test binary.
func TestMain(m *testing.M) {
	if args := os.Getenv("VIGIE_TEST_AS_MAIN"); args != "" {
		os.Args = append([]string{"vigie"}, strings.Fields(args)...)
		os.Exit(realMain())
	}
	testscript.Main(m, map[string]func(){"vigie": func() { os.Exit(scriptMain()) }})
}

// scriptMain is realMain as the docs' scripts run it: the log of a vigie
// run also goes to the file $VIGIE_SCRIPT_LOG, where waitserve reads the
// port it picked (a script's background command shows its output only
// once it ended).
func scriptMain() int {
	path := os.Getenv("VIGIE_SCRIPT_LOG")
	if path == "" || len(os.Args) < 2 || os.Args[1] != "run" {
		return realMain()
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stderr := os.Stderr
	os.Stderr = w
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(io.MultiWriter(stderr, f), r)
	}()
	code := realMain()
	os.Stderr = stderr
	w.Close()
	<-copied
	return code
}

// SIGHUP reloads the rule file and SIGTERM stops vigie run with exit status 0.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		"VIGIE_TEST_AS_MAIN=run --config testdata/good.yaml",
		"VIGIE_LISTEN="+listentest.AnyPort, "VIGIE_ADMIN_TOKEN_DIR="+filepath.Join(t.TempDir(), "vigie"))
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	dead := make(chan struct{})
	go func() { exited <- cmd.Wait(); close(dead) }()
	waited := false
	defer func() {
		if !waited {
			cmd.Process.Kill()
			<-exited
		}
	}()

	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for !ok() {
			select {
			case err := <-exited:
				waited = true
				t.Fatalf("vigie exited (%v) while waiting for %s\n%s", err, what, stderr.String())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	addr := listentest.BoundAddr(t, "vigie", stderr.String, dead, time.Minute)
	waitFor("/healthz", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("the reload", func() bool { return strings.Contains(stderr.String(), "rules reloaded") })

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := <-exited
	waited = true
	if err != nil {
		t.Errorf("vigie run after SIGTERM: %v, want exit status 0\n%s", err, stderr.String())
	}
	if !bytes.Contains([]byte(stderr.String()), []byte("by=signal")) {
		t.Errorf("the reload should say it came from the signal:\n%s", stderr.String())
	}
}
