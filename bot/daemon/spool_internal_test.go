package daemon

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The spool's directory: VIGIE_SPOOL_DIR, else systemd's, XDG's or the
// home's state folder; one named that cannot be made stops the start, a
// default one is said and vigie runs without spool; off turns it off.
func TestOpenSpool(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	const url = "redis://:secret@127.0.0.1:6379/0"
	for _, tt := range []struct {
		name   string
		env    map[string]string
		path   string // the spool file's folder; "" for none
		err    string
		logged string
	}{
		{name: "set", env: map[string]string{"VIGIE_SPOOL_DIR": filepath.Join(tmp, "set"), "HOME": tmp}, path: filepath.Join(tmp, "set")},
		{name: "systemd", env: map[string]string{"STATE_DIRECTORY": filepath.Join(tmp, "state") + ":/other", "HOME": tmp}, path: filepath.Join(tmp, "state", "spool")},
		{name: "xdg", env: map[string]string{"XDG_STATE_HOME": filepath.Join(tmp, "xdg"), "HOME": tmp}, path: filepath.Join(tmp, "xdg", "vigie", "spool")},
		{name: "home", env: map[string]string{"HOME": filepath.Join(tmp, "home")}, path: filepath.Join(tmp, "home", ".local", "state", "vigie", "spool")},
		{name: "off", env: map[string]string{"VIGIE_SPOOL_DIR": "off", "HOME": tmp}, logged: "spool off (VIGIE_SPOOL_DIR=off)"},
		{name: "nothing set", env: map[string]string{}, logged: "no spool: VIGIE_SPOOL_DIR, STATE_DIRECTORY, XDG_STATE_HOME and HOME are unset"},
		{name: "set, unusable", env: map[string]string{"VIGIE_SPOOL_DIR": filepath.Join(file, "spool")}, err: "VIGIE_SPOOL_DIR=" + filepath.Join(file, "spool") + ": spool: mkdir"},
		{name: "default, unusable", env: map[string]string{"HOME": file}, logged: "no spool: the default directory cannot be used"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			cfg := Config{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Getenv: func(k string) string { return tt.env[k] }}
			sp, err := openSpool(cfg, url, "")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("openSpool = %v; want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer sp.Close()
			if got := filepath.Dir(sp.Path()); (tt.path == "" && sp != nil) || (tt.path != "" && got != tt.path) {
				t.Errorf("spool file %q; want one in %q", sp.Path(), tt.path)
			}
			if tt.logged != "" && !strings.Contains(logs.String(), tt.logged) {
				t.Errorf("log = %s; want %q", logs.String(), tt.logged)
			}
			if strings.Contains(logs.String(), "secret") {
				t.Errorf("the log shows the Redis password: %s", logs.String())
			}
		})
	}
}

// A spool's directory that other users may write, or that another user
// owns, is refused: whoever can put a file there has vigie write it to
// Redis at its next start (cases for the desk, bans for good, journal
// removals that end the retries of actions), or swap a file for a link to
// one of vigie's user. Named by VIGIE_SPOOL_DIR, it stops the start; the
// default one is said and vigie runs without spool.
func TestSpoolDirOfOthers(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix modes")
	}
	const url = "redis://127.0.0.1:6379/0"
	open := func(t *testing.T, env map[string]string) (string, error) {
		var logs bytes.Buffer
		cfg := Config{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Getenv: func(k string) string { return env[k] }}
		sp, err := openSpool(cfg, url, "")
		if sp != nil {
			sp.Close()
			return logs.String(), errors.New("opened the spool in " + filepath.Dir(sp.Path()))
		}
		return logs.String(), err
	}
	shared := filepath.Join(t.TempDir(), "spool")
	if err := os.Mkdir(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777); err != nil { // past the umask
		t.Fatal(err)
	}
	if _, err := open(t, map[string]string{"VIGIE_SPOOL_DIR": shared}); err == nil || !strings.Contains(err.Error(), "open to other users") {
		t.Errorf("VIGIE_SPOOL_DIR mode 0777: %v; want a refusal saying it is open to other users", err)
	}
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".local", "state", "vigie", "spool"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(home, ".local", "state", "vigie", "spool"), 0o777); err != nil {
		t.Fatal(err)
	}
	if logs, err := open(t, map[string]string{"HOME": home}); err != nil || !strings.Contains(logs, "open to other users") {
		t.Errorf("default directory mode 0777: %v, logs %s; want no spool, and the reason logged", err, logs)
	}
	if os.Getuid() != 0 {
		return // only root can give a directory to another user
	}
	theirs := filepath.Join(t.TempDir(), "spool")
	if err := os.Mkdir(theirs, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := open(t, map[string]string{"VIGIE_SPOOL_DIR": theirs}); err == nil || !strings.Contains(err.Error(), "belongs to") {
		t.Errorf("VIGIE_SPOOL_DIR of another user: %v; want a refusal saying whose it is", err)
	}
}
