package daemon_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/daemon"
)

// Without VIGIE_ADMIN_TOKEN, the admin routes answer only who sends the token
// vigie made and wrote for its own user: another user of the machine, or any
// process that cannot read the file, is refused, on loopback too. What a probe
// or Prometheus reads stays open.
func TestAdminRoutesNeedTheMadeToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vigie")
	in := start(t, rulesV1, map[string]string{"VIGIE_ADMIN_TOKEN_DIR": dir})
	port := in.base[strings.LastIndexByte(in.base, ':')+1:]
	file := filepath.Join(dir, "admin-token-"+port)
	if in.token == "" || len(in.token) < 40 {
		t.Fatalf("token read from %s: %q, want a long random one", file, in.token)
	}
	for _, tt := range []struct {
		path string
		mode os.FileMode
	}{{dir, 0o700}, {file, 0o600}} {
		fi, err := os.Stat(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != tt.mode {
			t.Errorf("%s: mode %04o, want %04o", tt.path, got, tt.mode)
		}
	}
	if !strings.Contains(in.logs.String(), "file="+file) {
		t.Errorf("the log does not say where the token is (%s):\n%s", file, in.logs)
	}
	if strings.Contains(in.logs.String(), in.token) {
		t.Error("the log shows the token")
	}

	account := []byte(`{"role":"admin","password":"mallory-password-1"}`)
	for _, tt := range []struct {
		name, method, path string
		body               []byte
	}{
		{"cases", "GET", "/v1/cases", nil},
		{"one case", "GET", "/v1/cases/c-x", nil},
		{"a decision", "POST", "/v1/cases/c-x/decision", []byte(`{"outcome":"ban","by":"eve"}`)},
		{"accounts", "GET", "/v1/accounts", nil},
		{"an admin account", "PUT", "/v1/accounts/mallory", account},
		{"an account removed", "DELETE", "/v1/accounts/ann", nil},
		{"report", "GET", "/v1/report", nil},
		{"reload", "POST", "/-/reload", nil},
		{"profiles", "GET", "/debug/pprof/cmdline", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := in.doWithout(t, tt.method, tt.path, tt.body, nil)
			if r.code != http.StatusUnauthorized {
				t.Fatalf("%s %s without the token = %d %.200s, want 401", tt.method, tt.path, r.code, r.body)
			}
			if !strings.Contains(string(r.body), file) {
				t.Errorf("the refusal does not name the token's file %s: %s", file, r.body)
			}
			if r := in.doWithout(t, tt.method, tt.path, tt.body, map[string]string{"Authorization": "Bearer not-the-token"}); r.code != http.StatusUnauthorized {
				t.Errorf("%s %s with a wrong token = %d %.200s, want 401", tt.method, tt.path, r.code, r.body)
			}
		})
	}
	var accounts []struct{ Name string }
	in.do(t, "GET", "/v1/accounts", nil, nil).json(t, &accounts)
	if len(accounts) != 0 {
		t.Errorf("accounts after the requests without the token: %+v, want none", accounts)
	}
	for _, path := range []string{"/v1/cases", "/v1/accounts", "/v1/report"} {
		if r := in.do(t, "GET", path, nil, nil); r.code != http.StatusOK {
			t.Errorf("GET %s with the token of the file = %d %.200s", path, r.code, r.body)
		}
	}
	for _, path := range []string{"/healthz", "/-/healthy", "/-/ready", "/metrics"} {
		if r := in.doWithout(t, "GET", path, nil, nil); r.code != http.StatusOK {
			t.Errorf("GET %s without a token = %d, want 200", path, r.code)
		}
	}

	// A restart makes a new token and replaces the file; a stop removes it.
	first := in.token
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the token's file after the stop: %v, want it gone", err)
	}
	again := start(t, rulesV1, map[string]string{"VIGIE_ADMIN_TOKEN_DIR": dir})
	if again.token == first {
		t.Error("the restarted vigie has the token of the one before")
	}
	if r := again.send(t, first, "GET", "/v1/cases", nil, nil); r.code != http.StatusUnauthorized {
		t.Errorf("the old token after the restart = %d, want 401", r.code)
	}
}

// Several vigie run on one machine write a file each, named after the port.
func TestAdminTokenPerInstance(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vigie")
	a := start(t, rulesV1, map[string]string{"VIGIE_ADMIN_TOKEN_DIR": dir})
	b := start(t, rulesV1, map[string]string{"VIGIE_ADMIN_TOKEN_DIR": dir})
	if a.token == b.token {
		t.Fatal("two instances have the same token")
	}
	if r := a.send(t, b.token, "GET", "/v1/cases", nil, nil); r.code != http.StatusUnauthorized {
		t.Errorf("a's cases with b's token = %d, want 401", r.code)
	}
	for _, in := range []*instance{a, b} {
		if r := in.do(t, "GET", "/v1/cases", nil, nil); r.code != http.StatusOK {
			t.Errorf("%s: cases with its own token = %d", in.base, r.code)
		}
	}
}

// vigie run does not start when the token it would make could be read by
// someone else, nor when it has nowhere to write it; it says why and how to
// fix it, and listens on nothing.
func TestAdminTokenDirRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, []byte(rulesV1), 0o600); err != nil {
		t.Fatal(err)
	}
	open := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o755); err != nil { // past the umask
		t.Fatal(err)
	}
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"a directory others may read", map[string]string{"VIGIE_ADMIN_TOKEN_DIR": open}, "is open to other users (mode 0755): chmod 700 " + open},
		{"a home that cannot hold it", map[string]string{"HOME": notADir}, "set VIGIE_ADMIN_TOKEN_DIR to a directory of yours that vigie may write, or set VIGIE_ADMIN_TOKEN"},
		{"no home at all", map[string]string{}, "neither $XDG_RUNTIME_DIR nor $HOME is set; set VIGIE_ADMIN_TOKEN_DIR, or VIGIE_ADMIN_TOKEN"},
	}
	if os.Getuid() == 0 {
		// Only root can give a directory to another user.
		theirs := filepath.Join(t.TempDir(), "theirs")
		if err := os.Mkdir(theirs, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(theirs, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct {
			name string
			env  map[string]string
			want string
		}{"another user's directory", map[string]string{"VIGIE_ADMIN_TOKEN_DIR": theirs}, "uid 65534), not to the user vigie runs as"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			started := false
			err := daemon.Run(context.Background(), daemon.Config{
				ConfigPath: file,
				Listen:     "127.0.0.1:0",
				Getenv:     func(k string) string { return tt.env[k] },
				Ready:      func(net.Addr) { started = true },
			}, nil)
			var se *daemon.SetupError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run = %v, want a setup error with %q", err, tt.want)
			}
			if started {
				t.Error("vigie served")
			}
		})
	}
}

// A token's file of another user, in vigie's directory, is not replaced:
// another vigie run, as that user, uses the directory.
func TestAdminTokenFileOfAnotherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("only root can give a file to another user")
	}
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, []byte(rulesV1), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "vigie")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	theirs := filepath.Join(dir, "admin-token-"+addr[strings.LastIndexByte(addr, ':')+1:])
	if err := os.WriteFile(theirs, []byte("their-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	err = daemon.Run(context.Background(), daemon.Config{
		ConfigPath: file,
		Listen:     addr,
		Getenv:     func(k string) string { return map[string]string{"VIGIE_ADMIN_TOKEN_DIR": dir}[k] },
	}, nil)
	var se *daemon.SetupError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), theirs+" belongs to") {
		t.Fatalf("Run = %v, want a setup error naming %s", err, theirs)
	}
	if b, _ := os.ReadFile(theirs); string(b) != "their-token\n" {
		t.Errorf("their file now holds %q", b)
	}
}

// The token's directory: VIGIE_ADMIN_TOKEN_DIR, else the session's runtime
// directory, else the user's configuration directory.
func TestAdminTokenDir(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skip("the paths of Linux and the BSDs")
	}
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"chosen", map[string]string{"VIGIE_ADMIN_TOKEN_DIR": "/srv/vigie", "XDG_RUNTIME_DIR": "/run/user/1000"}, "/srv/vigie"},
		{"the session's", map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000", "HOME": "/home/ann"}, "/run/user/1000/vigie"},
		{"the user's configuration", map[string]string{"HOME": "/home/ann"}, "/home/ann/.config/vigie"},
		{"XDG_CONFIG_HOME", map[string]string{"HOME": "/home/ann", "XDG_CONFIG_HOME": "/cfg"}, "/cfg/vigie"},
		{"a relative runtime directory is no runtime directory", map[string]string{"XDG_RUNTIME_DIR": "run", "HOME": "/home/ann"}, "/home/ann/.config/vigie"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := daemon.AdminTokenDir(func(k string) string { return tt.env[k] })
			if err != nil || got != tt.want {
				t.Errorf("AdminTokenDir = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// --insecure lets vigie listen beyond loopback without its secrets, and does
// not open the admin routes: they still need the token vigie made, and the
// refusal does not say where it is to other machines.
func TestInsecureKeepsTheAdminToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vigie")
	in := start(t, rulesV1, map[string]string{"VIGIE_ADMIN_TOKEN_DIR": dir}, func(c *daemon.Config) {
		c.Listen, c.Insecure = "0.0.0.0:0", true
	})
	r := in.doWithout(t, "GET", "/v1/cases", nil, nil)
	if r.code != http.StatusUnauthorized {
		t.Fatalf("GET /v1/cases without the token, --insecure = %d %.200s, want 401", r.code, r.body)
	}
	if strings.Contains(string(r.body), dir) {
		t.Errorf("the refusal names the token's file beyond loopback: %s", r.body)
	}
	if r := in.do(t, "GET", "/v1/cases", nil, nil); r.code != http.StatusOK {
		t.Errorf("GET /v1/cases with the token, --insecure = %d %.200s", r.code, r.body)
	}
}

// The address beside the token is believed only from a file of the user's
// own: one that another user put there (a directory swapped under vigie,
// in a parent folder of theirs) would have the commands send the token to
// their server.
func TestAdminAddrOfAnotherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("only root can give a file to another user")
	}
	dir := filepath.Join(t.TempDir(), "vigie")
	in := start(t, rulesV1, map[string]string{"VIGIE_ADMIN_TOKEN_DIR": dir})
	port := in.base[strings.LastIndexByte(in.base, ':')+1:]
	addr := filepath.Join(dir, "admin-token-"+port+".addr")
	if err := os.Remove(addr); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(addr, []byte("127.0.0.1:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(addr, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	made, err := daemon.ReadAdminToken(func(k string) string {
		return map[string]string{"VIGIE_ADMIN_TOKEN_DIR": dir}[k]
	}, port)
	if err == nil || !strings.Contains(err.Error(), addr+" belongs to") {
		t.Errorf("ReadAdminToken = %+v, %v; want an error naming %s and whose it is", made, err, addr)
	}
}
