package text

import "strings"

// sameOwner reports whether a Markdown link whose words name the registrable
// domain words and whose target is on another registrable domain, target,
// still shows the site it leads to: two domains of one owner
// (youtu.be and youtube.com, discord.gg and discord.com, x.com and
// twitter.com). A target that forwards to any site (t.co, bit.ly) never
// shows where it leads, whatever the words.
//
// This is the allow list of displayed/real pairs that mail scanners check
// before they compare the domains of a link's text and its target (ClamAV's
// phishing check, libclamav/phishcheck.c, steps 3 and 15).
func sameOwner(words, target string) bool {
	w, ok := owners[words]
	if !ok {
		return false
	}
	t, ok := owners[target]
	return ok && t.owner == w.owner && !t.anywhere
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
	anywhere("linkedin", "lnkd.in")
	return m
}()
