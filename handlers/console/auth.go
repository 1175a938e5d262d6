package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
)

// Roles of the console's accounts, each allowed what the one before is.
const (
	RoleViewer    = "viewer"    // reads the queue
	RoleModerator = "moderator" // decides cases
	RoleAdmin     = "admin"     // changes the rules and the accounts
)

// ValidRole reports whether r is one of the roles.
func ValidRole(r string) bool { return r == RoleViewer || r == RoleModerator || r == RoleAdmin }

// may reports whether role can do what need asks for.
func may(role, need string) bool {
	rank := map[string]int{RoleViewer: 1, RoleModerator: 2, RoleAdmin: 3}
	return rank[role] >= rank[need]
}

// argon2id's cost: OWASP's smallest recommended memory (19 MiB), two passes,
// one lane. A login costs some 30 ms of one core; a stolen hash costs an
// attacker as much per guess.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword hashes a password with argon2id, in the PHC string form
// ($argon2id$v=19$m=19456,t=2,p=1$SALT$KEY) so that the cost can grow later
// while old hashes still verify.
func HashPassword(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// CheckPassword reports whether password matches a hash made by HashPassword.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<20 || t > 16 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// session is what the console's cookie says: who, until when, and a print of
// the account's password hash so that a changed password or a deleted account
// ends every session made before.
type session struct {
	name    string
	expires time.Time
	print   string
}

// sessionTTL is how long a login lasts.
const sessionTTL = 12 * time.Hour

var errSession = errors.New("no valid session")

// hashPrint is a short print of an account's password hash.
func hashPrint(hash string) string {
	sum := sha256.Sum256([]byte(hash))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

// encode signs a session with key: name|expiry|print, then the MAC.
func (s session) encode(key []byte) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(s.name)) + "|" +
		strconv.FormatInt(s.expires.Unix(), 10) + "|" + s.print
	return payload + "|" + mac(key, "session", payload)
}

// decodeSession checks a cookie's signature and expiry.
func decodeSession(key []byte, v string, now time.Time) (session, error) {
	i := strings.LastIndexByte(v, '|')
	if i < 0 || !hmac.Equal([]byte(v[i+1:]), []byte(mac(key, "session", v[:i]))) {
		return session{}, errSession
	}
	parts := strings.Split(v[:i], "|")
	if len(parts) != 3 {
		return session{}, errSession
	}
	name, err := base64.RawURLEncoding.DecodeString(parts[0])
	exp, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || err2 != nil || !now.Before(time.Unix(exp, 0)) {
		return session{}, errSession
	}
	return session{name: string(name), expires: time.Unix(exp, 0), print: parts[2]}, nil
}

// csrfToken is the token the console's forms carry for a session cookie: a
// page of another site cannot read it, so cannot post a decision.
func csrfToken(key []byte, cookie string) string { return mac(key, "csrf", cookie) }

func mac(key []byte, purpose, msg string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(purpose + "\x00" + msg))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// limiter counts failed logins by account name and by client address: after
// maxFailures within failureWindow, logins from there are refused until the
// window has passed, so a password cannot be guessed at the speed of HTTP.
type limiter struct {
	mu       sync.Mutex
	failures map[string][]time.Time
}

const (
	maxFailures   = 5
	failureWindow = 15 * time.Minute
)

// blocked reports whether any of keys has failed too often lately.
func (l *limiter) blocked(now time.Time, keys ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if len(l.recent(k, now)) >= maxFailures {
			return true
		}
	}
	return false
}

// fail records a failed login for each of keys.
func (l *limiter) fail(now time.Time, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failures == nil {
		l.failures = map[string][]time.Time{}
	}
	if len(l.failures) > 10_000 {
		// Addresses that stopped trying are forgotten, so the map stays small.
		for k := range l.failures {
			if len(l.recent(k, now)) == 0 {
				delete(l.failures, k)
			}
		}
	}
	for _, k := range keys {
		l.failures[k] = append(l.recent(k, now), now)
	}
}

// recent returns k's failures within the window; l.mu is held.
func (l *limiter) recent(k string, now time.Time) []time.Time {
	fs := l.failures[k]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= failureWindow {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(l.failures, k)
		return nil
	}
	l.failures[k] = fs
	return fs
}
