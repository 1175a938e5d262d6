package text

import (
	"bytes"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// lures are the words phishing hosts put beside a brand's name to look like
// one of its pages: those of dnstwist's dictionary of "the most common words
// used in targeted phishing campaigns" (elceef/dnstwist,
// dictionaries/english.dict), less the ones that name ordinary third-party
// sites too (download, online, mail, my, cdn, find, view, user, click, agree,
// choose, summary, service: discordservices is a bot list) and those a
// skeleton makes one or two letters (www, ww, cl, ssl: runs of a letter are
// read once), and the promises of the gift and trade scams the starter
// pack's scam rule reads (free Nitro, a gift, a giveaway, an airdrop, a trade
// offer). Each is also read with an s (gifts, drops).
var lures = []string{
	// dnstwist
	"auth", "access", "account", "claim", "confirm", "confirmation", "connect", "enroll",
	"install", "login", "payment", "recovery", "register", "safe", "secure", "security",
	"signin", "support", "update", "verify", "verification", "http", "https",
	// gift and trade scams
	"gift", "nitro", "free", "giveaway", "airdrop", "drop", "promo", "reward", "bonus",
	"prize", "trade", "tradeoffer", "offer",
}

// lureSkeletons are the skeletons of lures, with and without an s.
var lureSkeletons = func() []string {
	var out []string
	for _, w := range lures {
		out = append(out, skeleton(w), skeleton(w+"s"))
	}
	return out
}()

// minBrandName is the shortest name of a listed host read inside another
// host's name: shorter ones (live) are words of ordinary names too.
const minBrandName = 5

// brandName returns the name its owner chose for the listed host h, the
// label before its public suffix (discord for discord.gg, steampowered for
// store.steampowered.com), or "" when it is too short to be told apart.
func brandName(h string) string {
	r := registrable(h)
	k := strings.IndexByte(r, '.')
	if k < minBrandName {
		return ""
	}
	return r[:k]
}

// brandLure finds a listed host's name written with lures in one label of h,
// joined by hyphens or not (discord-nitro-gift.xyz, discordgift.site,
// steamcommunity-trade.example.net, free-paypal-login.example), or alone
// under a top-level domain that is a lure (discord.gifts). The name alone
// elsewhere is an ordinary third-party site or a community's own subdomain
// (discord.me, discord.mygame.example), and beside other words too
// (youtube-dl.org, discord-api-types.dev, paypal-community.com): those are left
// alone. So are the domains of the brands' owners (googlemail.com, see
// owners).
//
// Lookalike calls it only for a host that may hold a listed name (holdsName).
func (l *List) brandLure(h, whole string) (string, bool) {
	suffix, icann := publicsuffix.PublicSuffix(h)
	if !icann {
		// a private suffix (pages.dev, github.io) is a name anyone can have
		suffix = h[strings.LastIndexByte(h, '.')+1:]
	}
	if len(suffix)+1 >= len(h) {
		return "", false
	}
	name := h[:len(h)-len(suffix)-1]
	e, found := "", false
	if icann && lureTLDs[suffix] {
		e, found = l.name(skeleton(name[strings.LastIndexByte(name, '.')+1:]))
	}
	for !found && name != "" {
		label := name
		if k := strings.IndexByte(name, '.'); k >= 0 {
			label, name = name[:k], name[k+1:]
		} else {
			name = ""
		}
		e, found = l.brandAndLures(label)
	}
	if !found {
		return "", false
	}
	if _, own := owners[registrable(h)]; own {
		return "", false
	}
	return e, true
}

// brandElsewhere finds a listed host's name, or a look-alike of it, as the
// whole name of a host of registrable domain r under a suffix that the name's owner does not hold
// (steamcommunity.lat, steampowered.ru, steamcommunity.com.au), when the
// owner table knows every suffix the owner holds it under (see closedName),
// or the rule file does (extra, which may be nil: see Owners).
// The name of another owner's listed host is left to the other checks: under
// another suffix it may be anyone's (discord.me, discord.bio).
func (l *List) brandElsewhere(r string, extra *Owners) (string, bool) {
	k := strings.IndexByte(r, '.')
	if k < minBrandName {
		return "", false
	}
	if extra.own(r) {
		return "", false
	}
	e, found := l.name(skeleton(r[:k]))
	if !found {
		return "", false
	}
	if n := brandName(e); !closedName(n) && !extra.closes(n) {
		return "", false
	}
	return e, true
}

// addGlued records the listed host h written without its dots, by the
// skeleton of its registrable domain, when its name is long enough to be
// told apart (see brandName).
func (l *List) addGlued(h string) {
	if brandName(h) == "" {
		return
	}
	sk := skeleton(strings.ReplaceAll(unicodeHost(registrable(h)), ".", ""))
	if l.glued == nil {
		l.glued = map[string]string{}
	}
	if _, found := l.glued[sk]; !found {
		l.glued[sk] = h
	}
}

// brandGlued finds a listed host written without its dots, or with hyphens
// for them, as the whole name of a host of registrable domain r: discordgg.xyz, discord-gg.com,
// steamcommunitycom.ru, the dnstwist "various" forms of a domain. Nobody
// names an ordinary site so, and Markdown links shown as a product's name
// rely on it (see productName).
func (l *List) brandGlued(r string) (string, bool) {
	if len(l.glued) == 0 {
		return "", false
	}
	k := strings.IndexByte(r, '.')
	if k <= minBrandName {
		return "", false
	}
	if _, own := owners[r]; own {
		return "", false
	}
	e, found := l.glued[skeleton(r[:k])]
	return e, found
}

// holdsName reports whether the host h, whose skeleton is whole, may hold a
// listed host's name: most hosts hold none and are let go on this one look,
// before brandElsewhere, brandLure and brandGlued read them. A name in a
// label's part is in whole too (skeleton drops the hyphens and reads a
// letter once across them, as the parts keep it once), unless a hyphen
// splits an "rn" or a "vv", which whole reads as one letter
// (twitter-nitro): those hosts are read label by label all the same.
func (l *List) holdsName(h, whole string) bool {
	if strings.Contains(h, "r-n") || strings.Contains(h, "v-v") {
		return true
	}
	for i := range l.names {
		if strings.Contains(whole, l.names[i].skeleton) {
			return true
		}
	}
	return false
}

// brandNameOf is the name of a listed host (see brandName) as a skeleton.
type brandNameOf struct {
	skeleton, host string
	bytes          []byte // skeleton
}

// name returns the listed host whose name has the skeleton sk.
func (l *List) name(sk string) (string, bool) {
	for _, b := range l.names {
		if b.skeleton == sk {
			return b.host, true
		}
	}
	return "", false
}

// addName records the name of the listed host h, once, longest first so
// that discordapp is read before discord.
func (l *List) addName(h string) {
	n := brandName(h)
	if n == "" {
		return
	}
	sk := skeleton(unicodeHost(n))
	if _, found := l.name(sk); found {
		return
	}
	i := 0
	for i < len(l.names) && len(l.names[i].skeleton) >= len(sk) {
		i++
	}
	l.names = slices.Insert(l.names, i, brandNameOf{sk, h, []byte(sk)})
}

// lureTLDs are the lures that are top-level domains too (.gift, .gifts,
// .support, .trade), as written.
var lureTLDs = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range lures {
		for _, t := range []string{w, w + "s"} {
			if isICANNTLD(t) {
				m[t] = true
			}
		}
	}
	return m
}()

// brandAndLures reports whether label, read as its hyphen-separated parts'
// skeletons, is made of listed names and lures only, one of each at least,
// and returns the listed host of the name.
func (l *List) brandAndLures(label string) (string, bool) {
	if len(label) <= minBrandName || len(label) > 63 {
		return "", false
	}
	// skeleton drops hyphens: each part is read alone, into a buffer on
	// the stack, and only a label that holds a listed name is read further
	var arr [64]byte
	b := arr[:0]
	for rest := label; ; {
		part := rest
		k := strings.IndexByte(rest, '-')
		if k >= 0 {
			part, rest = rest[:k], rest[k+1:]
		}
		b = appendSkeleton(b, part)
		if k < 0 {
			break
		}
		b = append(b, '-')
	}
	if len(b) > 64 {
		return "", false // a label is 63 bytes at most; failed marks 64
	}
	holds := false
	for _, n := range l.names {
		if bytes.Contains(b, n.bytes) {
			holds = true
			break
		}
	}
	if !holds {
		return "", false
	}
	m := lureMatcher{l: l, s: string(b)}
	if m.from(0, "", false) {
		return m.host, true
	}
	return "", false
}

// lureMatcher cuts s into listed names and lures.
type lureMatcher struct {
	l    *List
	s    string
	host string // the listed host of the name found
	// failed marks, per position and what was found before it, the
	// positions from which no cut exists
	failed [4]uint64
}

// from reports whether s[p:] cuts into names and lures, given the host of
// the name found before p ("" for none) and whether a lure was.
func (m *lureMatcher) from(p int, host string, lure bool) bool {
	if p < len(m.s) && m.s[p] == '-' {
		p++
	}
	if p == len(m.s) {
		if host != "" && lure {
			m.host = host
			return true
		}
		return false
	}
	state := 0
	if host != "" {
		state |= 1
	}
	if lure {
		state |= 2
	}
	if m.failed[state]&(1<<p) != 0 {
		return false
	}
	rest := m.s[p:]
	// skeleton counts a letter once when a part ends with the letter the
	// next starts with (discorddrop reads dlscordrop): a piece may start
	// one letter back
	merged := p > 0 && m.s[p-1] != '-'
	try := func(piece string) (int, bool) {
		if strings.HasPrefix(rest, piece) {
			return len(piece), true
		}
		if merged && len(piece) > 1 && piece[0] == m.s[p-1] && strings.HasPrefix(rest, piece[1:]) {
			return len(piece) - 1, true
		}
		return 0, false
	}
	for _, b := range m.l.names {
		if n, ok := try(b.skeleton); ok && m.from(p+n, b.host, lure) {
			return true
		}
	}
	for _, w := range lureSkeletons {
		if n, ok := try(w); ok && m.from(p+n, host, true) {
			return true
		}
	}
	m.failed[state] |= 1 << p
	return false
}
