package text

import (
	"fmt"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// sameOwner reports whether a Markdown link whose words name the registrable
// domain words and whose target is on another registrable domain, target,
// still shows the site it leads to: two domains of one owner
// (youtu.be and youtube.com, discord.gg and discord.com, x.com and
// twitter.com), in the table below or declared so by the rule file (extra,
// which may be nil). A target that forwards to any site (t.co, bit.ly)
// never shows where it leads, whatever the words.
//
// This is the allow list of displayed/real pairs that mail scanners check
// before they compare the domains of a link's text and its target (ClamAV's
// phishing check, libclamav/phishcheck.c, steps 3 and 15).
func sameOwner(words, target string, extra *Owners) bool {
	w, ok := extra.of(words)
	if !ok {
		return false
	}
	t, ok := extra.of(target)
	return ok && t.owner == w.owner && !t.anywhere
}

// Owners are the domains a rule file declares one owner's (owners:), beside
// the table of the owners whose sites members link every day: a brand's
// sister sites (mybrand.fr and mybrand-store.com), so that its own CMs'
// Markdown links between them are not counted as masked. A group that holds
// a domain of the table joins its owner (google.com and google.pt).
//
// A group that joins no owner of the table closes its names, as the table's
// closed owners are (see closedName): the rule file declares every suffix
// the owner holds its names under, so that such a name under another
// (mybrand.shop for mybrand: [mybrand.fr, mybrand-store.com]) is someone
// else's site passing for the owner's.
//
// It also holds the names of the brands the rule file's lookalike() reads
// (AddBrands), so that such a name written alone under any top-level domain
// is read as a link (see Owners.brandHost).
type Owners struct {
	m map[string]string // domain → owner
	// closed are the names (the label before the public suffix) of the
	// domains of the groups that join no owner of the table
	closed map[string]bool
	// brands are the names of the listed hosts of the lists lookalike()
	// reads, by their skeletons; brandLists are those lists
	brands     map[string]brandOf
	brandLists []*List
}

// brandOf is the name of a listed host, for Owners.brandHost.
type brandOf struct {
	name   string // as its owner writes it (discord)
	closed bool   // its owner holds it under listed suffixes only
}

// NewOwners returns an empty set of declared owners.
func NewOwners() *Owners {
	return &Owners{m: map[string]string{}, closed: map[string]bool{}, brands: map[string]brandOf{}}
}

// AddBrands records the names of the listed hosts of l, a list that the
// rule file's lookalike() reads (lists/brands.txt): written alone under a
// top-level domain that makes a link only with a path (steamcommunity.lat,
// discord.gifts), such a name is a link all the same (see brandHost). Call
// it once the groups are added: it reads which names they close.
func (o *Owners) AddBrands(l *List) {
	o.brandLists = append(o.brandLists, l)
	for _, b := range l.names {
		n := brandName(b.host)
		if prev, found := o.brands[b.skeleton]; found {
			prev.closed = prev.closed || closedName(n) || o.closes(n)
			o.brands[b.skeleton] = prev
			continue
		}
		o.brands[b.skeleton] = brandOf{name: unicodeHost(n), closed: closedName(n) || o.closes(n)}
	}
}

// brandHost reports whether host, found alone (no scheme, no path) under a
// top-level domain of IANA's that is not a link by itself, tld, is a link
// all the same, the name of a listed host of a lookalike() of the rule file
// passing for the brand's site, whose name is the label before its public
// suffix (five letters or more):
//   - a closed owner's name, or a look-alike of it, under any of them
//     (steamcommunity.lat, steamcommunity.de: see closedName): nobody else
//     uses those names;
//   - another brand's name under one that is a word of phishing
//     (discord.gifts: see lureTLDs); under another it is a product's or a
//     word (google.play, apple.music, discord.py);
//   - a look-alike of a brand's name, not the name as written (d1scord.sbs,
//     paypa1.cfd), or the name with the words of phishing
//     (discord-nitro.lat, steamcommunitytrade.cfd: see brandAndLures),
//     under one that is not also a word or a file extension (tlds: .me,
//     .it, .py).
//
// o may be nil.
func (o *Owners) brandHost(host, tld string) bool {
	if o == nil || len(o.brands) == 0 {
		return false
	}
	r := registrable(host)
	k := strings.IndexByte(r, '.')
	if k < minBrandName {
		return false
	}
	tld = strings.ToLower(tld)
	_, word := tlds[tld]
	name := unicodeHost(r[:k])
	if b, found := o.brands[skeleton(name)]; found {
		switch {
		case b.closed, lureTLDs[tld]:
			return true
		case word:
			return false
		}
		return name != b.name
	}
	if word {
		return false
	}
	for _, l := range o.brandLists {
		if _, found := l.brandAndLures(name); found {
			return true
		}
	}
	return false
}

// Add declares the domains, each checked by OwnerDomain, one owner's. It
// fails when they hold the domains of two owners of the table.
func (o *Owners) Add(domains ...string) error {
	owner := ""
	for _, d := range domains {
		if od, ok := owners[d]; ok {
			if owner != "" && owner != od.owner {
				return fmt.Errorf("%s and %s are two owners' (%s's and %s's): write one owner's domains in a group", ownerDomainOf(owner, domains), d, owner, od.owner)
			}
			owner = od.owner
		}
	}
	if owner == "" {
		// a name no owner of the table has: "." is in no domain
		owner = "." + strings.Join(domains, " ")
		for _, d := range domains {
			o.closed[d[:strings.IndexByte(d, '.')]] = true
		}
	}
	for _, d := range domains {
		if _, ok := owners[d]; !ok {
			o.m[d] = owner
		}
	}
	return nil
}

// ownerDomainOf returns the first of domains that the table gives owner.
func ownerDomainOf(owner string, domains []string) string {
	for _, d := range domains {
		if owners[d].owner == owner {
			return d
		}
	}
	return ""
}

// of returns the owner of the registrable domain d: the table's, else the
// one o declares.
func (o *Owners) of(d string) (ownerDomain, bool) {
	if od, ok := owners[d]; ok {
		return od, true
	}
	if o != nil {
		if owner, ok := o.m[d]; ok {
			return ownerDomain{owner: owner}, true
		}
	}
	return ownerDomain{}, false
}

// brandNamed reports whether name is, by its skeleton, the name of a listed
// host of the lists lookalike() reads (see AddBrands): o may be nil.
func (o *Owners) brandNamed(name string) bool {
	if o == nil || len(o.brands) == 0 {
		return false
	}
	_, ok := o.brands[skeleton(name)]
	return ok
}

// closes reports whether the rule file closes name, the name of a domain of
// a group that joins no owner of the table: o may be nil.
func (o *Owners) closes(name string) bool {
	return o != nil && o.closed[name]
}

// own reports whether the registrable domain r is a domain of an owner, of
// the table or declared by o (which may be nil): the owner's own site, not
// one passing for it.
func (o *Owners) own(r string) bool {
	_, ok := o.of(r)
	return ok
}

// OwnerDomain checks s as a domain a rule file may declare an owner's and
// returns it in lower case: a registrable domain (mybrand.fr, not
// shop.mybrand.fr, whose owner is mybrand.fr's already, nor a suffix under
// which anyone gets a name, github.io), written alone (no scheme, no path),
// and not a shortener, which leads to any site whoever its owner is.
func OwnerDomain(s string) (string, error) {
	if s == "" || hostOf(s, false) != s {
		return "", fmt.Errorf("%q is not a domain (write it alone, like example.com)", s)
	}
	d := strings.ToLower(s)
	if suffix, _ := publicsuffix.PublicSuffix(d); suffix == d {
		return "", fmt.Errorf("%q is a suffix under which anyone gets a name, not one owner's domain", s)
	}
	if r := registrable(d); r != d {
		return "", fmt.Errorf("%q is under %s: write %s (its subdomains are its owner's already)", s, r, r)
	}
	if shorteners[d] || owners[d].anywhere {
		return "", fmt.Errorf("%q forwards to any site: its links never show where they lead", s)
	}
	return d, nil
}

// siteOf returns the registrable domain of host, as masked links compare
// them, or the owner's site that host alone leads to when it is under a
// forwarder (see ownHosts).
func siteOf(host string) string {
	r := registrable(host)
	if owners[r].anywhere {
		if site, ok := ownHosts[strings.ToLower(host)]; ok {
			return site
		}
	}
	return r
}

// ownHosts are the hosts under a domain that forwards to any site (goo.gl)
// whose links lead to their owner's own site only: Google Maps' Share button
// gives maps.app.goo.gl links, which open a place in Google Maps, whereas
// goo.gl's other links went anywhere.
var ownHosts = map[string]string{
	"maps.app.goo.gl": "google.com",
}

type ownerDomain struct {
	owner    string
	anywhere bool // forwards to any site, not only the owner's
	// closed: the owner holds its names under no suffix but those listed
	// here (see closedName)
	closed bool
}

// closedName reports whether name (the label before the public suffix of a
// domain) is the name of a domain of an owner that holds it under the
// suffixes listed here only: under any other, it is someone else's site
// passing for the owner's (steamcommunity.lat, steampowered.ru). Only the
// owners whose names nobody else uses, and whose every suffix is listed, are
// closed: Discord's name is on third-party sites (discord.me, discord.bio),
// Google and Amazon have sites in more countries than are listed here.
func closedName(name string) bool {
	return closedNames[name]
}

// ownerNames are the names (the label before the public suffix) of the
// owners table's domains: a product named after one (Discord.NET) or such a
// name under another country's suffix (discord.fr) is no owner's product or
// site by its name alone.
var ownerNames = func() map[string]bool {
	m := map[string]bool{}
	for d := range owners {
		if k := strings.IndexByte(d, '.'); k > 0 {
			m[d[:k]] = true
		}
	}
	return m
}()

var closedNames = func() map[string]bool {
	m := map[string]bool{}
	for d, o := range owners {
		if o.closed {
			m[d[:strings.IndexByte(d, '.')]] = true
		}
	}
	return m
}()

// owners are the registrable domains of the owners whose sites members link
// every day, the brands of lists/brands.txt first: for each, the domains its
// own pages and share buttons give out (YouTube's Share gives youtu.be,
// Discord's invitations discord.gg, X's posts x.com and t.co, Amazon's Share
// a.co and its associates' links amzn.to, WhatsApp's click-to-chat wa.me,
// Telegram's t.me, Steam's friend invitations s.team, Reddit's redd.it,
// Microsoft's aka.ms, Spotify's Share spotify.link, Google Forms' forms.gle)
// and the domains it moved from or to (discordapp.com, twitter.com,
// instagr.am, threads.net). It is kept small on purpose:
// a domain missing here only makes a Markdown link between two of one owner's
// sites count as masked, as before; a wrong one would let a masked link pass.
// A brand's sites in other countries are not the same owner by name alone
// (amazon.fr is Amazon's, amazon.example need not be): they are listed.
var owners = func() map[string]ownerDomain {
	m := map[string]ownerDomain{}
	add := func(owner string, domains ...string) {
		for _, d := range domains {
			m[d] = ownerDomain{owner: owner}
		}
	}
	closed := func(owner string, domains ...string) {
		for _, d := range domains {
			m[d] = ownerDomain{owner: owner, closed: true}
		}
	}
	anywhere := func(owner string, domains ...string) {
		for _, d := range domains {
			m[d] = ownerDomain{owner: owner, anywhere: true}
		}
	}
	add("google", "google.com", "gmail.com", "googlemail.com", "youtube.com", "youtu.be", "youtube-nocookie.com",
		"forms.gle", "g.co",
		// Google's search in the countries most members write from
		"google.fr", "google.de", "google.co.uk", "google.es", "google.it", "google.nl", "google.be",
		"google.ch", "google.pl", "google.ca", "google.com.mx", "google.com.br", "google.co.jp",
		"google.com.au", "google.co.in")
	anywhere("google", "goo.gl")
	add("discord", "discord.com", "discord.gg", "discordapp.com", "discord.gift", "dis.gd")
	add("x", "x.com", "twitter.com")
	anywhere("x", "t.co")
	add("amazon", "amazon.com", "a.co", "amzn.to", "amzn.eu", "amazon.co.uk", "amazon.de", "amazon.fr",
		"amazon.it", "amazon.es", "amazon.nl", "amazon.se", "amazon.pl", "amazon.com.tr",
		"amazon.ca", "amazon.com.mx", "amazon.com.br", "amazon.co.jp", "amazon.com.au", "amazon.in",
		"amazon.sg", "amazon.ae", "amazon.sa", "amazon.eg")
	add("meta", "facebook.com", "fb.com", "fb.me", "fb.watch", "messenger.com", "m.me",
		"instagram.com", "instagr.am", "whatsapp.com", "wa.me", "threads.net", "threads.com")
	add("telegram", "telegram.org", "t.me", "telegram.me", "telegram.dog")
	closed("valve", "steamcommunity.com", "steampowered.com")
	add("valve", "s.team")
	add("microsoft", "microsoft.com", "live.com", "outlook.com", "office.com", "aka.ms", "xbox.com", "bing.com",
		// its products named as hosts, whose docs are on learn.microsoft.com
		"asp.net", "dot.net")
	add("apple", "apple.com", "icloud.com", "apple.co")
	add("epic", "epicgames.com", "fortnite.com")
	add("paypal", "paypal.com", "paypal.me")
	add("reddit", "reddit.com", "redd.it")
	add("spotify", "spotify.com", "spotify.link", "spoti.fi")
	add("linkedin", "linkedin.com")
	// hosting platforms and the suffix they give their users' sites
	// under: [github.io](https://github.com/x) shows GitHub's site
	// (x.github.io, a user's, is no platform's: see platformSuffix)
	add("github", "github.com", "github.io")
	add("gitlab", "gitlab.com", "gitlab.io")
	add("vercel", "vercel.com", "vercel.app")
	add("netlify", "netlify.com", "netlify.app")
	add("cloudflare", "cloudflare.com", "pages.dev", "workers.dev")
	anywhere("linkedin", "lnkd.in")
	return m
}()
