package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vigie run -h showed the Redis URL of the environment, password included.
func TestRunHelpHidesTheRedisURL(t *testing.T) {
	env := map[string]string{"VIGIE_REDIS_URL": "redis://:hunter2@db:6379/0"}
	r := runIn(t.Context(), "", env, "run", "-h")
	if r.code != exitOK || strings.Contains(r.stdout+r.stderr, "hunter2") || !strings.Contains(r.stdout, "VIGIE_REDIS_URL_FILE") {
		t.Errorf("exit %d, -h shows:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	token := write("token", "s3cret\n")
	crlf := write("crlf", "abc\r\n")
	empty := write("empty", "\n")
	missing := filepath.Join(dir, "nope")
	tests := []struct {
		name string
		env  map[string]string
		ask  string
		want string
		err  string
	}{
		{"from the file, newline trimmed", map[string]string{"DISCORD_TOKEN_FILE": token}, "DISCORD_TOKEN", "s3cret", ""},
		{"crlf trimmed", map[string]string{"VIGIE_ADMIN_TOKEN_FILE": crlf}, "VIGIE_ADMIN_TOKEN", "abc", ""},
		{"redis url", map[string]string{"VIGIE_REDIS_URL_FILE": token}, "VIGIE_REDIS_URL", "s3cret", ""},
		{"the variable itself", map[string]string{"TELEGRAM_TOKEN": "t"}, "TELEGRAM_TOKEN", "t", ""},
		{"other variables untouched", map[string]string{"VIGIE_LISTEN": ":1"}, "VIGIE_LISTEN", ":1", ""},
		{"a missing file names the variable", map[string]string{"META_APP_SECRET_FILE": missing}, "", "",
			"META_APP_SECRET_FILE: open " + missing + ": no such file or directory"},
		{"an empty file", map[string]string{"META_PAGE_TOKEN_FILE": empty}, "", "", "META_PAGE_TOKEN_FILE: " + empty + " is empty"},
		{"both ways", map[string]string{"META_VERIFY_TOKEN": "x", "META_VERIFY_TOKEN_FILE": token}, "", "",
			"META_VERIFY_TOKEN and META_VERIFY_TOKEN_FILE are both set: keep one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			getenv, err := withSecretFiles(func(k string) string { return tc.env[k] })
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("got %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := getenv(tc.ask); got != tc.want {
				t.Errorf("%s = %q, want %q", tc.ask, got, tc.want)
			}
		})
	}
	// vigie run refuses to start, naming the variable
	r := runIn(t.Context(), "", map[string]string{"VIGIE_WEBHOOK_SECRET_FILE": missing}, "run", "--config", "testdata/good.yaml")
	if r.code != exitFail || !strings.HasPrefix(r.stderr, "vigie run: VIGIE_WEBHOOK_SECRET_FILE: open ") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
