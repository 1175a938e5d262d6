package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/vigie-bot/vigie/store"
)

// Roles of the console's accounts, each allowed what the one before is.
const (
	RoleViewer    = "viewer"    // reads the queue
	RoleModerator = "moderator" // decides cases
	RoleAdmin     = "admin"     // changes the rules and the accounts
)

// ValidRole reports whether r is one of the roles.
func ValidRole(r string) bool { return r == RoleViewer || r == RoleModerator || r == RoleAdmin }

// accountName is what an account's name may be: 1 to 32 of a-z, 0-9, '.',
// '_' and '-', starting with a letter or digit; short, without spaces, the
// same in a URL and in the audit.
var accountName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)

// ValidAccountName reports whether name may name an account.
func ValidAccountName(name string) bool { return accountName.MatchString(name) }

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
func CheckPassword(hash, password string) bool { return checkPassword(argon2.IDKey, hash, password) }

// idKeyFunc is argon2.IDKey's type: the console's hasher, which its tests
// watch.
type idKeyFunc func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte

// unknownName is the hash a login for a name with no account is checked
// against, with the cost of HashPassword's, so that the answer takes as long
// as for a name that exists: its time must not tell which names do. Its salt
// and key are fixed bytes, the hash of no password anyone knows.
var unknownName = fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
	base64.RawStdEncoding.EncodeToString([]byte("vigie: no such account")[:16]),
	base64.RawStdEncoding.EncodeToString(make([]byte, argonKeyLen)))

// checkPassword is CheckPassword with the hasher idKey.
func checkPassword(idKey idKeyFunc, hash, password string) bool {
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
	got := idKey([]byte(password), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// session is what the console's cookie says: who, until when, a print of the
// account's password hash so that a changed password or a deleted account
// ends every session made before, and the session's own id, which a logout
// revokes in the store.
type session struct {
	name    string
	expires time.Time
	print   string
	id      string
}

// sessionTTL is how long a login lasts.
const sessionTTL = 12 * time.Hour

var errSession = errors.New("no valid session")

// hashPrint is a short print of an account's password hash.
func hashPrint(hash string) string {
	sum := sha256.Sum256([]byte(hash))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

// newID is a random id for a session or a device.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// encode signs a session with key: name|expiry|print|id, then the MAC.
func (s session) encode(key []byte) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(s.name)) + "|" +
		strconv.FormatInt(s.expires.Unix(), 10) + "|" + s.print + "|" + s.id
	return payload + "|" + mac(key, "session", payload)
}

// decodeSession checks a cookie's signature and expiry.
func decodeSession(key []byte, v string, now time.Time) (session, error) {
	parts, exp, ok := signed(key, "session", v, 4, now)
	if !ok || parts[3] == "" {
		return session{}, errSession
	}
	return session{name: parts[0], expires: exp, print: parts[2], id: parts[3]}, nil
}

// signed checks a value made of n fields joined by '|' and then the MAC of
// purpose: the first field is a name in base64 (returned decoded), the
// second an expiry in Unix seconds, which must be after now.
func signed(key []byte, purpose, v string, n int, now time.Time) ([]string, time.Time, bool) {
	i := strings.LastIndexByte(v, '|')
	if i < 0 || !hmac.Equal([]byte(v[i+1:]), []byte(mac(key, purpose, v[:i]))) {
		return nil, time.Time{}, false
	}
	parts := strings.Split(v[:i], "|")
	if len(parts) != n {
		return nil, time.Time{}, false
	}
	name, err := base64.RawURLEncoding.DecodeString(parts[0])
	exp, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || err2 != nil || !now.Before(time.Unix(exp, 0)) {
		return nil, time.Time{}, false
	}
	parts[0] = string(name)
	return parts, time.Unix(exp, 0), true
}

// A device cookie is given to the browser of each successful login, for
// knownFor: it says that this browser logged in as that name before. Such a
// browser is not held back when strangers have made the name's failures
// pile up (see throttle); its own failures are counted by its id.
const (
	deviceCookie = "vigie_device"
	knownFor     = 30 * 24 * time.Hour
)

// encodeDevice signs a device cookie for an account: name|expiry|print|id,
// then the MAC. The print of the password's hash makes a new password
// forget the devices the old one was used on.
func encodeDevice(key []byte, a store.Account, expires time.Time) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(a.Name)) + "|" +
		strconv.FormatInt(expires.Unix(), 10) + "|" + hashPrint(a.Hash) + "|" + newID()
	return payload + "|" + mac(key, "device", payload)
}

// deviceID is the id of a device cookie made for the account as it is now,
// "" when v is none.
func deviceID(key []byte, v string, a store.Account, now time.Time) string {
	parts, _, ok := signed(key, "device", v, 4, now)
	if !ok || parts[0] != a.Name || parts[2] != hashPrint(a.Hash) {
		return ""
	}
	return parts[3]
}

// csrfToken is the token the console's forms carry for a session cookie: a
// page of another site cannot read it, so cannot post a decision.
func csrfToken(key []byte, cookie string) string { return mac(key, "csrf", cookie) }

func mac(key []byte, purpose, msg string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(purpose + "\x00" + msg))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// throttle slows password guessing at the login form without handing a
// stranger the power to lock a CM out:
//
//   - by client address: after addrFailures failed logins within
//     failureWindow, that address waits (an IPv6 address counts with its /64,
//     which one machine usually holds whole);
//   - by account name: after nameFailures failed logins within the window
//     from clients the name does not know, clients it does not know wait. A
//     client it knows (a browser with the name's device cookie, or an address
//     the name logged in from within knownFor) logs in all the same: guessing
//     at a CM's name from elsewhere cannot keep the CM out;
//   - a browser with a device cookie is counted by that cookie instead of its
//     address (a CM behind the same carrier's address as an attacker is not
//     held back by the attacker); after addrFailures failures, the cookie
//     counts for nothing until the window has passed.
//
// So guesses at one name are bounded by nameFailures per failureWindow, from
// however many addresses, and by addrFailures per window per known client.
// The counts are in the store (store.LoginLimits), so every instance on one
// Redis holds a client to the same limits; a check is one round trip, and
// an attempt is counted as a failure before its password is checked, in one
// step with the check (take), so that guesses sent at once to several
// instances are held to the limits too.
type throttle struct {
	st store.LoginLimits
}

const (
	addrFailures  = 5
	nameFailures  = 10
	failureWindow = 15 * time.Minute
)

// attempt is one login: the name tried, the client's address, and the id of
// the name's device cookie the browser sent ("" for none).
type attempt struct {
	name, addr, device string
}

func (a attempt) addrKey() string   { return "addr:" + a.addr }
func (a attempt) nameKey() string   { return "name:" + a.name }
func (a attempt) deviceKey() string { return "device:" + a.device }
func (a attempt) pair() string      { return a.name + "\x00" + a.addr }

// tally is what the store says of an attempt's client: its failures within
// the window, and whether the name knows its address.
type tally struct {
	addr, name, device []time.Time
	known              bool
}

// refusal says why an attempt must wait, and for how long.
type refusal struct {
	byName bool
	wait   time.Duration
}

// read asks the store for the attempt's tally, in one round trip.
func (t throttle) read(ctx context.Context, now time.Time, a attempt) (tally, error) {
	keys := []string{a.addrKey(), a.nameKey()}
	if a.device != "" {
		keys = append(keys, a.deviceKey())
	}
	fs, last, err := t.st.LoginFailures(ctx, keys, now.Add(-failureWindow), a.pair())
	if err != nil {
		return tally{}, fmt.Errorf("login limits: %w", err)
	}
	recent := func(i int) []time.Time {
		if i >= len(fs) {
			return nil
		}
		// The window is [now-failureWindow, now]: a failure the store
		// keeps at exactly the window's start is over.
		return slices.DeleteFunc(fs[i], func(at time.Time) bool { return now.Sub(at) >= failureWindow })
	}
	tl := tally{addr: recent(0), name: recent(1), known: !last.IsZero() && now.Sub(last) < knownFor}
	if a.device != "" {
		tl.device = recent(2)
	}
	return tl, nil
}

// check returns nil when the attempt may go ahead.
func (tl tally) check(now time.Time, a attempt) *refusal {
	if a.device != "" && waitFor(tl.device, addrFailures, now) == 0 {
		return nil
	}
	if w := waitFor(tl.addr, addrFailures, now); w > 0 {
		return &refusal{wait: w}
	}
	if !tl.known {
		if w := waitFor(tl.name, nameFailures, now); w > 0 {
			return &refusal{byName: true, wait: w}
		}
	}
	return nil
}

// take counts the attempt, whose tally was tl, as a failed login before its
// password is checked, in one step with the check of the limits it is held
// to: logins tried at once on several instances all read the tally before
// any is counted, and would all go ahead. ok is false when a limit is
// reached meanwhile. A login that succeeds takes its count back (uncount).
// A browser with the name's device cookie is counted by it, the others by
// address, and by name when the name does not know them (as check says).
func (t throttle) take(ctx context.Context, now time.Time, a attempt, tl tally) (charge, error) {
	limits := []store.LoginLimit{{Key: a.addrKey(), Max: addrFailures}}
	switch {
	case a.device != "" && len(tl.device) < addrFailures:
		limits = []store.LoginLimit{{Key: a.deviceKey(), Max: addrFailures}}
	case !tl.known:
		limits = append(limits, store.LoginLimit{Key: a.nameKey(), Max: nameFailures})
	}
	c := charge{keys: make([]string, len(limits))}
	for i, l := range limits {
		c.keys[i] = l.Key
	}
	var err error
	c.id, c.ok, err = t.st.LoginTry(ctx, limits, now.Add(-failureWindow), now, failureWindow)
	if err != nil {
		return c, fmt.Errorf("login limits: %w", err)
	}
	return c, nil
}

// charge is a login that take counted as a failure: ok says it may go
// ahead.
type charge struct {
	keys []string
	id   string
	ok   bool
}

// uncount takes back the failure a login that succeeded was counted as.
func (t throttle) uncount(ctx context.Context, c charge) error {
	if err := t.st.LoginUncount(ctx, c.keys, c.id); err != nil {
		return fmt.Errorf("login limits: %w", err)
	}
	return nil
}

// succeed records a login: the name knows the address from now on.
func (t throttle) succeed(ctx context.Context, now time.Time, a attempt) error {
	if err := t.st.LoginSucceeded(ctx, a.pair(), now, knownFor); err != nil {
		return fmt.Errorf("login limits: %w", err)
	}
	return nil
}

// waitFor is how long a client with failures fs (oldest first, within the
// window) must wait before it may fail again without going past limit; 0
// when it may try now.
func waitFor(fs []time.Time, limit int, now time.Time) time.Duration {
	if len(fs) < limit {
		return 0
	}
	return fs[len(fs)-limit].Add(failureWindow).Sub(now)
}

// clientKey is the address failed logins are counted against: an IPv4
// address, or an IPv6 address's /64. A port after it is dropped: some
// proxies write the client's in X-Forwarded-For ("203.0.113.9:51234",
// Azure's Application Gateway), a new one for each connection.
func clientKey(host string) string {
	ip, err := netip.ParseAddr(host)
	if err != nil {
		ap, err := netip.ParseAddrPort(host)
		if err != nil {
			return host
		}
		ip = ap.Addr()
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
