package daemon

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
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
