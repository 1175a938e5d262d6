//go:build unix

package daemon

import (
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// ownedByMe reports whether fi belongs to the user this process runs as,
// and when not, whose it is.
func ownedByMe(fi fs.FileInfo) (owner string, mine bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", true
	}
	if int(st.Uid) == os.Getuid() {
		return "", true
	}
	uid := strconv.FormatUint(uint64(st.Uid), 10)
	if u, err := user.LookupId(uid); err == nil {
		return u.Username + " (uid " + uid + ")", false
	}
	return "uid " + uid, false
}
