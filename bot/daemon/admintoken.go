package daemon

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// When VIGIE_ADMIN_TOKEN is not set, vigie run makes a token of its own at
// every start and writes it where only its user can read it: the admin
// routes then answer the programs of that user (vigie cases, users, report
// read the file) and nobody else on the machine, where a loopback listener
// alone would answer every local user and every process. The file is named
// after the port, so that several vigie run on one machine keep theirs apart,
// and the CLI finds the one of the address it asks.

// adminTokenDirEnv chooses the directory of the token file.
const adminTokenDirEnv = "VIGIE_ADMIN_TOKEN_DIR"

// AdminTokenDir is where vigie run writes the admin token it makes, and where
// the CLI reads it: VIGIE_ADMIN_TOKEN_DIR, else $XDG_RUNTIME_DIR/vigie (a
// directory of the user's session, in memory, emptied at logout), else vigie
// in the user's configuration directory (~/.config/vigie).
func AdminTokenDir(getenv func(string) string) (string, error) {
	if dir := getenv(adminTokenDirEnv); dir != "" {
		return filepath.Abs(dir)
	}
	if dir := getenv("XDG_RUNTIME_DIR"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "vigie"), nil
	}
	dir, err := userConfigDir(getenv)
	if err != nil {
		return "", fmt.Errorf("no directory for the admin token: %w; set %s, or VIGIE_ADMIN_TOKEN", err, adminTokenDirEnv)
	}
	return filepath.Join(dir, "vigie"), nil
}

// userConfigDir is os.UserConfigDir read through getenv.
func userConfigDir(getenv func(string) string) (string, error) {
	switch runtime.GOOS {
	case "windows":
		if dir := getenv("AppData"); dir != "" {
			return dir, nil
		}
		return "", errors.New("%AppData% is not set")
	case "darwin", "ios":
		if dir := getenv("HOME"); dir != "" {
			return filepath.Join(dir, "Library", "Application Support"), nil
		}
		return "", errors.New("$HOME is not set")
	}
	if dir := getenv("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return dir, nil
	}
	if dir := getenv("HOME"); dir != "" {
		return filepath.Join(dir, ".config"), nil
	}
	return "", errors.New("neither $XDG_RUNTIME_DIR nor $HOME is set")
}

// AdminTokenFile is the file of the vigie run that listens on port, in dir.
func AdminTokenFile(dir, port string) string {
	return filepath.Join(dir, "admin-token-"+port)
}

// ReadAdminToken is the token that the vigie run listening on port wrote for
// this user, and the file it looked in. A file that is not there is no error,
// nor a user with no directory for it: the token is then "" (vigie run is
// another user's, or not running), and file too in the second case.
func ReadAdminToken(getenv func(string) string, port string) (token, file string, err error) {
	dir, err := AdminTokenDir(getenv)
	if err != nil {
		return "", "", nil
	}
	file = AdminTokenFile(dir, port)
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return "", file, nil
	}
	if err != nil {
		return "", file, fmt.Errorf("the admin token of vigie run: %w (run this as the user who started vigie run, or set VIGIE_ADMIN_TOKEN)", err)
	}
	return string(bytes.TrimSpace(b)), file, nil
}

// newAdminToken is 32 random bytes, in base64 without padding: 43 characters
// fit for a header.
func newAdminToken() []byte {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return []byte(base64.RawURLEncoding.EncodeToString(b))
}

// prepareAdminTokenDir makes dir (0700) when it is not there, and refuses one
// that another user owns or that others may read or enter: the token in it
// would be theirs too.
func prepareAdminTokenDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &SetupError{Msg: fmt.Sprintf("the admin token's directory: %v; set %s to a directory of yours that vigie may write, or set VIGIE_ADMIN_TOKEN", err, adminTokenDirEnv)}
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return &SetupError{Msg: fmt.Sprintf("the admin token's directory: %v", err)}
	}
	if !fi.IsDir() {
		return &SetupError{Msg: fmt.Sprintf("the admin token's directory %s is not a directory; set %s, or VIGIE_ADMIN_TOKEN", dir, adminTokenDirEnv)}
	}
	if owner, mine := ownedByMe(fi); !mine {
		return &SetupError{Msg: fmt.Sprintf("the admin token's directory %s belongs to %s, not to the user vigie runs as: its token would be theirs to read; set %s to a directory of yours, or set VIGIE_ADMIN_TOKEN", dir, owner, adminTokenDirEnv)}
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return &SetupError{Msg: fmt.Sprintf("the admin token's directory %s is open to other users (mode %04o): chmod 700 %s, or set %s to another, or set VIGIE_ADMIN_TOKEN", dir, perm, dir, adminTokenDirEnv)}
	}
	return nil
}

// writeAdminToken writes token to file, in place of what was there: a new
// file of mode 0600 renamed over the old one, so that a CLI reads the old
// token or the new one, never half of one. A file there that another user
// owns is refused: another vigie (run as root?) uses this directory.
func writeAdminToken(file string, token []byte) error {
	if fi, err := os.Lstat(file); err == nil {
		if owner, mine := ownedByMe(fi); !mine {
			return &SetupError{Msg: fmt.Sprintf("the admin token's file %s belongs to %s, not to the user vigie runs as (another vigie run, as another user, uses this directory?); remove it, or set %s to a directory of yours, or set VIGIE_ADMIN_TOKEN", file, owner, adminTokenDirEnv)}
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".admin-token-*")
	if err != nil {
		return fmt.Errorf("write the admin token: %w", err)
	}
	defer os.Remove(tmp.Name()) // gone once renamed
	// CreateTemp makes it 0600 already: said again for a umask or a platform
	// that would not.
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return fmt.Errorf("write the admin token: %w", err)
	}
	if _, err := tmp.Write(append(token, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write the admin token: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write the admin token: %w", err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("write the admin token: %w", err)
	}
	return nil
}

// removeAdminToken removes file at the stop, if it still holds token: a
// vigie run started since on the same port has written its own.
func removeAdminToken(file string, token []byte) error {
	b, err := os.ReadFile(file)
	if err != nil || !bytes.Equal(bytes.TrimSpace(b), token) {
		return nil
	}
	return os.Remove(file)
}
