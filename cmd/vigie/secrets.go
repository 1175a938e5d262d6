package main

import (
	"fmt"
	"os"
	"strings"
)

// secretVars are the environment variables that hold secrets. Each may be
// given as NAME_FILE instead, the path of a file holding the value (Docker and
// Kubernetes secrets, systemd credentials), so that it is not in the
// environment of the process for anyone to read.
var secretVars = []string{
	"DISCORD_TOKEN", "TELEGRAM_TOKEN", "TELEGRAM_WEBHOOK_SECRET",
	"META_APP_SECRET", "META_PAGE_TOKEN", "META_VERIFY_TOKEN",
	"VIGIE_WEBHOOK_SECRET", "VIGIE_ADMIN_TOKEN", "VIGIE_REDIS_URL",
}

// withSecretFiles returns getenv with each secret read from its NAME_FILE
// when that is set. The files are read once, now: a file that cannot be read,
// or a secret given both ways, is an error naming the variable.
func withSecretFiles(getenv func(string) string) (func(string) string, error) {
	fromFiles := map[string]string{}
	for _, name := range secretVars {
		path := getenv(name + "_FILE")
		if path == "" {
			continue
		}
		if getenv(name) != "" {
			return nil, fmt.Errorf("%s and %s_FILE are both set: keep one", name, name)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s_FILE: %w", name, err)
		}
		// editors and echo end the file with a newline, which is no part of the secret
		v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if v == "" {
			return nil, fmt.Errorf("%s_FILE: %s is empty", name, path)
		}
		fromFiles[name] = v
	}
	return func(name string) string {
		if v, ok := fromFiles[name]; ok {
			return v
		}
		return getenv(name)
	}, nil
}
