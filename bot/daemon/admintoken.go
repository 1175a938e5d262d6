package daemon

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"
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

// MadeToken is what vigie run wrote for its user: the token, in its file
// (admin-token-PORT, the token alone, for scripts to cat), and the address it
// listens on, beside it (admin-token-PORT.addr), which the token is to be
// sent to and nowhere else.
type MadeToken struct {
	Token string
	// Addr is the address vigie run listens on (127.0.0.1:8080, [::]:8080);
	// "" when a vigie that did not write it runs there.
	Addr string
	// File is where it was read: "" when the user has no directory for it.
	File string
}

// Dial is the address a client sends the token to: the one vigie run
// listens on, or, for a listener on every address, the loopback address of
// its family; "" when the file did not say. A client that dialled what its
// URL names instead could reach another user's server on the same port at
// another loopback address ("localhost" is ::1 and 127.0.0.1 on most
// systems, ::1 tried first), and hand it the token.
func (m MadeToken) Dial() string {
	host, port, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return ""
	}
	ip, err := netip.ParseAddr(host)
	switch {
	case err != nil:
		return ""
	case ip.IsUnspecified() && ip.Is4():
		ip = netip.MustParseAddr("127.0.0.1")
	case ip.IsUnspecified():
		ip = netip.IPv6Loopback()
	}
	return net.JoinHostPort(ip.String(), port)
}

// ReadAdminToken is what the vigie run listening on port wrote for this
// user. A file that is not there is no error, nor a user with no directory
// for it: the token is then "" (vigie run is another user's, or not
// running), and the file too in the second case.
func ReadAdminToken(getenv func(string) string, port string) (MadeToken, error) {
	dir, err := AdminTokenDir(getenv)
	if err != nil {
		return MadeToken{}, nil
	}
	m := MadeToken{File: AdminTokenFile(dir, port)}
	b, err := os.ReadFile(m.File)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("the admin token of vigie run: %w (run this as the user who started vigie run, or set VIGIE_ADMIN_TOKEN)", err)
	}
	m.Token = string(bytes.TrimSpace(b))
	// The address says where the token goes: one written by another user
	// (a directory swapped under vigie, in a parent folder of theirs) would
	// send it to their server.
	addrFile := adminAddrFile(m.File)
	if fi, err := os.Lstat(addrFile); err == nil {
		if owner, mine := ownedByMe(fi); !mine || !fi.Mode().IsRegular() {
			if mine {
				owner = "no one: it is not a file"
			}
			return MadeToken{File: m.File}, fmt.Errorf("the admin token of vigie run: %s belongs to %s: it says where the token goes, which is not sent then (remove the directory %s and restart vigie run, or set VIGIE_ADMIN_TOKEN)", addrFile, owner, dir)
		}
		if a, err := os.ReadFile(addrFile); err == nil {
			m.Addr = string(bytes.TrimSpace(a))
		}
	}
	return m, nil
}

// adminAddrFile is the file beside the token's that says where vigie run
// listens.
func adminAddrFile(tokenFile string) string { return tokenFile + ".addr" }

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

// writeAdminToken writes token to file, and addr, the address vigie run
// listens on, beside it (the address first: a CLI that finds the new token
// finds where it goes), in place of what was there: a new
// file of mode 0600 renamed over the old one, so that a CLI reads the old
// token or the new one, never half of one. A file there that another user
// owns is refused: another vigie (run as root?) uses this directory.
func writeAdminToken(file string, token []byte, addr string) error {
	for _, f := range []string{file, adminAddrFile(file)} {
		if fi, err := os.Lstat(f); err == nil {
			if owner, mine := ownedByMe(fi); !mine {
				return &SetupError{Msg: fmt.Sprintf("the admin token's file %s belongs to %s, not to the user vigie runs as (another vigie run, as another user, uses this directory?); remove it, or set %s to a directory of yours, or set VIGIE_ADMIN_TOKEN", f, owner, adminTokenDirEnv)}
			}
		}
	}
	if err := replaceFile(adminAddrFile(file), []byte(addr+"\n")); err != nil {
		return fmt.Errorf("write the admin token: %w", err)
	}
	if err := replaceFile(file, append(slices.Clip(token), '\n')); err != nil {
		return fmt.Errorf("write the admin token: %w", err)
	}
	return nil
}

// replaceFile writes b to a new file of mode 0600, renamed over file: a
// reader finds the old content or the new, never half of it. The file is on
// the disk before its rename, and the rename before replaceFile returns:
// without, a power cut just after can leave file empty or cut short, the
// journal of the file system having the rename and not yet the data.
func replaceFile(file string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone once renamed
	// CreateTemp makes it 0600 already: said again for a umask or a platform
	// that would not.
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return err
	}
	return syncDir(filepath.Dir(file))
}

// syncDir puts on the disk the names dir holds: a file renamed or made
// there. A file system that cannot sync a directory (some network and
// Windows ones) is taken as having nothing to put.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) && runtime.GOOS != "windows" {
		return err
	}
	return nil
}

// healthAdminToken is /healthz's name for an admin token not written.
const healthAdminToken = "admin token"

// adminTokenRetry is how often a token the disk refused is written again.
const adminTokenRetry = 5 * time.Second

// retryAdminToken writes the token the disk refused at start, every
// adminTokenRetry until the disk takes it or ctx ends. A disk that fills at
// night (a log, another service) must not stop moderation at the next
// restart, nor leave the CLI without its token once space is back.
func (d *daemon) retryAdminToken(ctx context.Context, file, addr string) {
	// On the wall clock: how often a full disk is tried again.
	t := time.NewTicker(adminTokenRetry)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := writeAdminToken(file, d.adminToken, addr); err != nil {
			continue // said once at start, and on /healthz meanwhile
		}
		d.adminTokenUnwritten.Store(false)
		d.health.set(healthAdminToken, "")
		d.log.Info("admin token written, the disk took it: vigie cases, users and report read it there", "file", file)
		return
	}
}

// removeAdminToken removes file, and the address beside it, at the stop, if
// it still holds token: a vigie run started since on the same port has
// written its own.
func removeAdminToken(file string, token []byte) error {
	b, err := os.ReadFile(file)
	if err != nil || !bytes.Equal(bytes.TrimSpace(b), token) {
		return nil
	}
	return errors.Join(os.Remove(file), os.Remove(adminAddrFile(file)))
}

// MadeTokenAddrs are the addresses that the vigie run of this user listen on,
// as their token files say (a vigie run removes its own at the stop), in the
// form a client dials: for the CLI to name them when it finds none at the
// address it asked. Files of other users, and a directory it cannot read,
// give none.
func MadeTokenAddrs(getenv func(string) string) []string {
	dir, err := AdminTokenDir(getenv)
	if err != nil {
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(dir, "admin-token-*.addr"))
	var addrs []string
	for _, f := range files {
		fi, err := os.Lstat(f)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if _, mine := ownedByMe(fi); !mine {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if a := (MadeToken{Addr: string(bytes.TrimSpace(b))}).Dial(); a != "" && !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	slices.Sort(addrs)
	return addrs
}
