package rules_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestStarterPackMaskedLinks runs Markdown links through the engine with the
// starter pack. Words that name the target's own site, or a site of the same
// owner (youtu.be for youtube.com, discord.gg for discord.com, x.com for
// twitter.com), are an ordinary way to write a link: the phishing rule, which
// deletes and times the author out for an hour, must leave them alone. Words
// that show one site and lead to another owner's, a look-alike or a shortener
// are the phishing it is there for.
func TestStarterPackMaskedLinks(t *testing.T) {
	phishing := starterPackPhishing(t)
	ordinary := []string{
		// the same site, written another way
		"[www.example.com](https://example.com/)",
		"[Example.COM](https://example.com)",
		"[http://example.com](https://example.com)",
		"[https://example.com/](https://example.com)",
		"[example.com/docs](https://example.com/docs/intro)",
		"[twitch.tv/vigie](https://www.twitch.tv/vigie)",
		"[m.youtube.com/watch?v=abc](https://www.youtube.com/watch?v=abc)",
		// the same owner's other domains
		"the trailer: [youtu.be/dQw4w9WgXcQ](https://www.youtube.com/watch?v=dQw4w9WgXcQ)",
		"[youtube.com/watch?v=dQw4w9WgXcQ](https://youtu.be/dQw4w9WgXcQ)",
		"la vidéo : [youtu.be/abc](https://youtube.com/watch?v=abc) !",
		"[music.youtube.com/watch?v=abc](https://youtu.be/abc)",
		"join us: [discord.gg/xyz](https://discord.com/invite/xyz)",
		"[discord.com/invite/xyz](https://discord.gg/xyz)",
		"[discordapp.com/channels/1/2/3](https://discord.com/channels/1/2/3)",
		"[x.com/vigie](https://twitter.com/vigie)",
		"[twitter.com/vigie/status/1](https://x.com/vigie/status/1)",
		"[t.co/AbC123](https://twitter.com/vigie/status/1)",
		"[amzn.to/3xYz](https://www.amazon.com/dp/B0C1234567)",
		"[a.co/d/abc](https://www.amazon.com/dp/B0C1234567)",
		"[amazon.fr/dp/B0C1234567](https://www.amazon.com/dp/B0C1234567)",
		"[fb.com/vigie](https://www.facebook.com/vigie)",
		"[instagr.am/p/abc](https://www.instagram.com/p/abc/)",
		"[wa.me/33612345678](https://api.whatsapp.com/send?phone=33612345678)",
		"[t.me/vigie](https://telegram.me/vigie)",
		"[store.steampowered.com/app/570](https://steamcommunity.com/app/570)",
		"[redd.it/abc123](https://www.reddit.com/comments/abc123)",
		"[aka.ms/wsl](https://learn.microsoft.com/windows/wsl/)",
		"[outlook.com](https://outlook.live.com/mail/)",
		"[gmail.com](https://mail.google.com/)",
		"[paypal.me/vigie](https://www.paypal.com/paypalme/vigie)",
		"[docs.google.com/forms/d/abc](https://forms.gle/AbC123)",
		"[threads.net/@vigie](https://www.threads.com/@vigie)",
		"[youtube.com/@vigie](https://www.youtube.com/@vigie) et [discord.gg/xyz](https://discord.com/invite/xyz)",
		// as Discord reads them: no preview, spaces, words in code
		"[youtu.be/abc](<https://www.youtube.com/watch?v=abc>)",
		"[ discord.gg/xyz ]( https://discord.com/invite/xyz )",
		"[`x.com/vigie`](https://twitter.com/vigie)",
		"(the docs: [docs.example.com](https://docs.example.com/a_(b)))",
		// the Wayback Machine's copy of the page the words name
		"[lemonde.fr/article](https://web.archive.org/web/20240101000000/https://www.lemonde.fr/article)",
		// Markdown shown in inline code or a code block, as in a help
		// channel: Discord shows it as written, no link
		"`[google.com](https://example.com)`",
		"to mask a link write ``[google.com](https://example.com)``",
		"``a` [steamcommunity.com](https://steam-offer.example/gift) ``",
		"```[google.com](https://example.com)```",
		"```md\n[steamcommunity.com/gift](https://steam-offer.example/gift)\n```",
		"use `code` for code, `[words](https://example.com)` for links: `[google.com](https://example.com)`",
		"in `my_var` and `[google.com](https://example.com)`",
		"\\`not code\\` but `[google.com](https://example.com)`",
		"[the docs](https://docs.example.com) say `[google.com](https://example.com)`",
		"```js\nconst a = 1\n```\nthen `[google.com](https://example.com)`",
		// words that start with the target's site, or its owner's, then
		// say more; words that are no host (js, md, go are no
		// top-level domains, or need a path)
		"[example.com docs](https://example.com/docs)",
		"[YouTube.com - our channel](https://www.youtube.com/@vigie)",
		"[discord.gg/xyz join us](https://discord.com/invite/xyz)",
		"[Twitch.tv live now](https://www.twitch.tv/vigie)",
		"[Amazon.fr - offre du jour](https://www.amazon.fr/deals)",
		"[lemonde.fr : l'article](https://www.lemonde.fr/article)",
		"[store.steampowered.com - Dota 2](https://store.steampowered.com/app/570)",
		"[op.gg profile](https://www.op.gg/summoners/euw/vigie)",
		"[fortnite.gg item shop](https://fortnite.gg/shop)",
		"[Agar.io - play now](https://agar.io)",
		"[Socket.IO docs](https://socket.io/docs/v4/)",
		"[ASP.NET Core docs](https://learn.microsoft.com/aspnet/core)",
		"[Source : https://example.com/a](https://example.com/a)",
		"[Dota 2 on store.steampowered.com](https://store.steampowered.com/app/570)",
		"[Node.js 20 release notes](https://nodejs.org/en/blog/release/v20.0.0)",
		"[Vue.js guide](https://vuejs.org/guide/)",
		"[Discord.py docs](https://discordpy.readthedocs.io/en/stable/)",
		"[readme.md on GitHub](https://github.com/vigie-bot/vigie/blob/main/README.md)",
		"[main.go line 12](https://github.com/vigie-bot/vigie/blob/main/main.go#L12)",
		"[patch 1.5 notes](https://example.com/patch)",
		"[v2.0.1 changelog](https://github.com/vigie-bot/vigie/releases)",
		"[Mr. Robot trailer](https://youtu.be/abc)",
		// Google Maps' Share links: under goo.gl, which forwards
		// anywhere, maps.app.goo.gl leads to Google Maps only
		"[google.com/maps](https://maps.app.goo.gl/AbCdEf123)",
		"le lieu : [maps.google.fr](https://maps.app.goo.gl/AbCdEf123)",
		"[google.fr/maps/place/Stade](https://maps.app.goo.gl/AbCdEf123?g_st=ic)",
		"[maps.app.goo.gl/AbCdEf123](https://www.google.com/maps/place/x)",
		"[maps.app.goo.gl/AbCdEf123](https://maps.app.goo.gl/AbCdEf123)",
		// a product's name that reads as a host, leading to the site
		// named after it
		"[Discord.Net](https://docs.discordnet.dev)",
		"[Discord.Net docs](https://docs.discordnet.dev/guides/introduction/intro.html)",
		"the C# library: [Discord.Net](<https://discordnet.dev>)",
		"[Socket.IO](https://socket.io/docs/v4/)",
		"[DSharpPlus](https://dsharpplus.github.io)",
		"[Discord.NET](https://discordnet.dev/guides)",
		// a .NET product leading to its maker's site or a site named
		// after it
		"[Json.NET](https://www.newtonsoft.com/json)",
		"the actor library [Akka.NET](https://getakka.net) for C#",
		"[Quartz.NET](https://www.quartz-scheduler.net/documentation/)",
		// words naming the suffix the target is a site under, or a
		// hosting platform's own site
		"[github.io](https://x.github.io)",
		"my portfolio on [netlify.app](https://jean-dev.netlify.app)",
		"[Vercel.app](https://vercel.com)",
		"[github.io](https://pages.github.com)",
		// a brand's site in another country
		"[Nintendo.com](https://www.nintendo.co.jp)",
		"[nintendo.fr](https://www.nintendo.de/switch)",
		"le site japonais : [Sega.com](https://www.sega.co.jp/)",
	}
	hostile := []string{
		"[discord.com/nitro](https://dlscord-gift.example)",
		"[steamcommunity.com](https://steamcommunity.lat/tradeoffer/new)",
		"[youtube.com](https://youtube.com.evil.example)",
		"[discord.gg/xyz](https://discord.gg.evil.example/xyz)",
		"[youtu.be/abc](https://youtu.be.evil.example/abc)",
		"[youtube.com](https://youtu.be.example/x)",
		"[x.com/support](https://x.com-login.example/support)",
		"[twitter.com/support](https://twitter-support.example/x)",
		"[amazon.com/deal](https://amazon-deals.example/deal)",
		"[amzn.to/3xYz](https://amzn.top/3xYz)",
		"[amazon.fr/dp/B0C1](https://amazon.fr.order-refund.example/x)",
		"[paypal.com/signin](https://paypal.com@evil.example/signin)",
		"[paypal.com](https://paypa1.com/x)",
		"[https://discord.com/badges](https://discord.com.badges.example/x)",
		"[discordapp.com/gift](https://discordapp.gift-claim.example/x)",
		"[t.me/vigie](https://telegram-login.example/vigie)",
		"[wa.me/33612345678](https://whatsapp-verify.example/x)",
		"[instagram.com/brand](https://instagram.com.verify-account.example)",
		"[facebook.com/brand](https://fb.com.page-verify.example)",
		"[twitch.tv/drops](https://twitch.tv-drops.example/claim)",
		"[store.steampowered.com](https://steamcommunity.com.trade-offer.example)",
		// a shortener that leads anywhere, even the brand's own, does
		// not show where it goes
		"[discord.com/gift](https://bit.ly/3xYz)",
		"[x.com/vigie](https://t.co/AbC123)",
		// as Discord reads them: no preview, spaces, a title, words in code
		"[steamcommunity.com/gift](<https://steam-offer.example/gift>)",
		"[ steamcommunity.com/gift ]( https://steam-offer.example/gift )",
		`[steamcommunity.com](https://steam-offer.example/gift "Steam")`,
		"[`discord.com/nitro`](https://nitro-claim.example)",
		"[steamcommunity\\.com/gift](https://steam-offer\\.example/gift)",
		"[steamcommunity.com](https://web.archive.org/web/2024/https://steam-offer.example/)",
		"[steamcommunity.com/gift](https://archive.org/details/steam-gift?/web/2024/https://steamcommunity.com/)",
		// one ordinary link does not shield a masked one
		"[youtu.be/abc](https://youtube.com/watch?v=abc) and [discord.com/nitro](https://dlscord-gift.example)",
		// nor does code next to it, and no backtick trick hides it:
		// Discord shows these links
		"`[google.com](https://example.com)` and [steamcommunity.com](https://steam-offer.example/gift)",
		"x`y `[steamcommunity.com](https://steam-offer.example/gift)` ",
		"`[steamcommunity.com](https://steam-offer.example/gift)",
		"`[steamcommunity.com](https://steam-offer.example/gift)``",
		"``[steamcommunity.com](https://steam-offer.example/gift)```",
		"[`steamcommunity.com](https://steam-offer.example/gift) `",
		"[steamcommunity.com](https://steam-offer.example/`) `",
		"\\`[steamcommunity.com](https://steam-offer.example/gift)\\`",
		"`a\\` [steamcommunity.com](https://steam-offer.example/gift) `",
		"*a `b* [steamcommunity.com](https://steam-offer.example/gift) `",
		"> `a\n[steamcommunity.com](https://steam-offer.example/gift) `",
		"https://example.com/`a [steamcommunity.com](https://steam-offer.example/gift) `",
		"````\n```\n[steamcommunity.com](https://steam-offer.example/gift)\n```\n````",
		// words that start with a site, then say more, or show a site's
		// address after other words
		"[Steamcommunity.com - trade](https://evil.example)",
		"[Steamcommunity.com - trade offer](https://steam-trade.example/tradeoffer/new)",
		"[discord.com/nitro - claim your gift](https://nitro-claim.example)",
		"[Discord.gift Nitro 3 months](https://nitro-claim.example/x)",
		"[https://discord.gift/AbC free nitro](https://nitro-claim.example/AbC)",
		"[Claim at https://steamcommunity.com/gift](https://steam-offer.example/gift)",
		"[store.steampowered.com: free weekend](https://steam-offer.example)",
		"[ steamcommunity.com trade ]( https://steam-offer.example )",
		"[**steamcommunity.com** trade](https://steam-offer.example)",
		"[PayPal.com Resolution Center](https://paypal-case.example/x)",
		"[steamcommunity.com\ntrade](https://steam-offer.example)",
		// goo.gl's other links, and hosts that only look like Maps'
		"[google.com/maps](https://goo.gl/AbCdEf123)",
		"[maps.app.goo.gl/AbCdEf123](https://goo.gl/AbCdEf123)",
		"[maps.app.goo.gl/AbCdEf123](https://maps-app.example/x)",
		"[google.com/maps](https://maps.app.goo.gl.evil.example/x)",
		"[google.com/maps](https://evil.maps.app.goo.gl.example/x)",
		// a site's name in a product's case: a known owner's, another
		// target, or a listed brand glued to its suffix
		"[Discord.Com](https://discordcom.example)",
		"[Discord.com](https://evil.example)",
		"[DISCORD.COM](https://discordcom.example)",
		"[Discord.Gg](https://discordgg.example/x)",
		"[Steamcommunity.Com](https://steamcommunity-com.example)",
		"[Discord.Net](https://evil.example)",
		"[Twitch.Tv](https://twitchtv.example/drops)",
		"[Roblox.Com](https://robloxcom.example)",
		"[MetaMask.Io](https://metamask-io.example)",
		"https://discordgg.example/nitro",
		"https://steamcommunity-com.example/tradeoffer/new",
		// a site's name that is no listed brand nor a declared owner's,
		// in a product's case, leading to a site named after it: the
		// words end in a label that names only a suffix, they are a
		// domain
		"[MyBank.Com](https://mybankcom.example)",
		"votre espace client : [MaBanque.Fr](<https://mabanquefr.example/connexion>)",
		"[Boutique.Shop - soldes](https://boutique-shop.example/soldes)",
		// what product names, platform suffixes and country sites must
		// not let through
		"[discord.com](https://discord-nitro.gift)",
		"[steamcommunity.com](https://steamcommunlty.com)",
		"[paypal.com](https://paypal.com.secure-login.ru)",
		"[Json.NET](https://nuget-update.example/setup.exe)",
		"[Discord.NET](https://evil.example/discord)",
		"[Discord.NET](https://getdiscord.example)",
		"[Roblox.NET](https://getroblox.example)",
		"[github.io](https://github.io.evil.example)",
		"[github.com](https://evil.github.io)",
		"[vercel.app](https://vercel-login.example)",
		"[discord.com](https://discord.fr)",
		"[steamcommunity.com](https://steamcommunity.de)",
		"[paypal.com](https://paypal.de)",
		"[roblox.com](https://roblox.co.jp)",
		"[nintendo.com](https://nintendo.xyz)",
		"[nintendo.com](https://nintendo.ru/gift)",
	}
	for _, s := range ordinary {
		if phishing(s) {
			t.Errorf("%q: phishing matched, want the link left alone", s)
		}
	}
	for _, s := range hostile {
		if !phishing(s) {
			t.Errorf("%q: phishing not matched", s)
		}
	}
}

// TestStarterPackBrandLures runs links to hosts that carry a brand's name
// through the engine with the starter pack: with the words of phishing beside
// it (discord-nitro-gift.xyz, discordgift.site, discord.gifts) the phishing
// rule takes them down; beside other words, or alone under another suffix,
// they are the third-party sites members link every day (youtube-dl.org,
// discord.js.org, steamgifts.com) and are left alone.
func TestStarterPackBrandLures(t *testing.T) {
	phishing := starterPackPhishing(t)
	ordinary := []string{
		"https://youtube-dl.org",
		"the docs: https://discord-api-types.dev/api",
		"https://discord.js.org/docs",
		"https://discordpy.readthedocs.io/en/stable/",
		"ask on https://www.paypal-community.com/t5/x",
		"https://steam-chat.com/chat",
		"https://www.steamgifts.com/giveaways",
		"https://steamtrades.com",
		"our server on https://discord.me/vigie",
		"https://discord.bio/p/vigie",
		"https://discordbotlist.com/bots/vigie",
		"https://discordstatus.com",
		"https://twitchtracker.com/vigie",
		"https://mail.googlemail.com",
		"https://www.youtube-nocookie.com/embed/abc",
		"https://instagram-engineering.com/x",
		"https://netflixtechblog.com/x",
		"https://discord.mygame.example",
		"https://discord-bots.example/list",
		"https://freediscordbots.example",
		"https://tiktok-shop.example/deals",
		"https://discordservers.com/vigie",
		"https://discordservices.net/bot/vigie",
		// Valve's own sites, and the third-party ones about Steam
		"https://store.steampowered.com/app/570/Dota_2/",
		"https://help.steampowered.com/en/wizard/HelpWithLogin",
		"my profile: https://steamcommunity.com/id/vigie",
		"https://s.team/p/abcd-efgh",
		"https://steamdb.info/app/570/charts/",
		"https://steamcharts.com/app/730",
		"https://www.steamgifts.com/giveaway/AbCd/x",
		"https://steamladder.com/profile/76561198000000000/",
		"https://csgostash.com/",
		"https://discord.st/vigie",
	}
	hostile := []string{
		"https://steamcommunity-trade.example.net/tradeoffer/new",
		"free nitro https://discord-nitro-gift.xyz/claim",
		"https://discord.gifts/AbCdEf",
		"https://discordgift.site/xyz",
		"https://discorddrop.example/x",
		"https://free-paypal-login.example",
		"https://steamcommunity.trade/id/x",
		"https://dlscord-nitro.ru/x",
		"https://discordapp-gift.com/x",
		"https://discord-nitro.pages.dev/claim",
		"https://giftdiscord.example",
		"https://paypal-secure-login.example/signin",
		"https://instagram-verify.example/account",
		"https://metamask-support.example/recovery",
		"https://apple-support.example",
		"https://twitch-drops.example/claim",
		"https://roblox-free.example",
		"https://epicgames-gift.example",
		"https://steampowered-giveaway.example",
		"https://coinbase-security.example",
		"https://microsoft-account-verify.example",
		"steamcommunity-trade.example.net/tradeoffer/new",
		// Valve's names under suffixes Valve does not hold
		"https://steamcommunity.lat/gift",
		"steamcommunity.lat/gift",
		"steamcommunity.lat/tradeoffer/new/?partner=1&token=x",
		"accept my trade https://steamcommunity.ru/tradeoffer/new",
		"https://steampowered.cfd/login",
		"https://steamcommunity.com.au/id/x",
		"https://steamcommunity.link/gift/activation",
		"https://steamcommunlty.lat/gift",
	}
	for _, s := range ordinary {
		if phishing(s) {
			t.Errorf("%q: phishing matched, want the link left alone", s)
		}
	}
	for _, s := range hostile {
		if !phishing(s) {
			t.Errorf("%q: phishing not matched", s)
		}
	}
}

// starterPackPhishing returns a function that runs a message through the
// engine with the starter pack, each from another member (an account of five
// years, a member for two), and
// reports whether the phishing rule matched it.
func starterPackPhishing(t *testing.T) func(text string) bool {
	rs, err := rules.Load("../rules.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return enginePhishing(t, rs)
}

// enginePhishing is starterPackPhishing with the rule file rs.
func enginePhishing(t *testing.T, rs *rules.Ruleset) func(text string) bool {
	matched := engineMatches(t, rs, linksAt.AddDate(-5, 0, 0), linksAt.AddDate(-2, 0, 0))
	return func(text string) bool {
		t.Helper()
		return slices.Contains(matched(text), "phishing")
	}
}

// linksAt is when the link tests' messages are sent, a minute apart.
var linksAt = time.Date(2026, 11, 18, 14, 0, 0, 0, time.UTC)

// engineMatches returns a function that runs text through an engine with
// the rule file rs on the memory store, each time from another member whose
// account was created at created and who joined at joined, and returns the
// names of the rules it matched.
func engineMatches(t *testing.T, rs *rules.Ruleset, created, joined time.Time) func(text string) []string {
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	eng := rules.NewEngine(rs, st, rules.Options{})
	n := 0
	return func(text string) []string {
		t.Helper()
		n++
		ev := bot.Event{ID: fmt.Sprint("m", n), Platform: "discord", Kind: bot.KindMessage, Space: "g", Channel: "general",
			Author: bot.Author{ID: fmt.Sprint("u", n), CreatedAt: created, JoinedAt: joined},
			Text:   text, At: linksAt.Add(time.Duration(n) * time.Minute)}
		v, err := eng.Evaluate(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, m := range v.Matches {
			names = append(names, m.Rule)
		}
		return names
	}
}

// TestStarterPackOwners runs Markdown links between a brand's own sites
// through the engine with the starter pack and an owners: section that
// declares them one owner's: its CMs' and members' links between them are
// left alone, and every other masked link is still phishing.
func TestStarterPackOwners(t *testing.T) {
	const owners = `
owners:
  mybrand: [mybrand.fr, mybrand-store.com, MyBrand.shop]
  google: [google.com, google.pt]
`
	src, err := os.ReadFile("../rules.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Parse("../rules.example.yaml", append(src, owners...), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	phishing := enginePhishing(t, rs)
	ordinary := []string{
		"[mybrand.fr](https://mybrand-store.com/p/1)",
		"la boutique : [mybrand-store.com/p/1](https://www.mybrand.fr/boutique)",
		"[shop.mybrand-store.com - soldes](https://mybrand.fr/soldes)",
		"[mybrand.shop](https://mybrand.fr) et [mybrand.fr/faq](https://help.mybrand-store.com/faq)",
		"[MyBrand.fr](<https://mybrand.shop/nouveautes>)",
		// a group that holds a domain vigie knows joins its owner
		"[google.pt](https://www.google.com/maps/place/x)",
		"[youtube.com/@mybrand](https://www.google.pt/search?q=mybrand)",
		// vigie's own table still holds
		"[youtu.be/abc](https://www.youtube.com/watch?v=abc)",
	}
	hostile := []string{
		"[mybrand.fr](https://mybrand-store.example/p/1)",
		"[mybrand.fr/promo](https://bit.ly/3xYz)",
		"[mybrand-store.com - soldes](https://evil.example)",
		"[mybrand.fr](https://mybrand.fr.order-refund.example/x)",
		"[mybrand.fr](https://steamcommunity.com/id/x)",
		"[steamcommunity.com/gift](https://mybrand-store.com/gift)",
		"[google.pt](https://goo.gl/AbC)",
	}
	for _, s := range ordinary {
		if phishing(s) {
			t.Errorf("%q: phishing matched, want the link left alone", s)
		}
	}
	for _, s := range hostile {
		if !phishing(s) {
			t.Errorf("%q: phishing not matched", s)
		}
	}
	// without the section, the brand's links between its sites are masked
	plain := starterPackPhishing(t)
	if !plain("[mybrand.fr](https://mybrand-store.com/p/1)") {
		t.Error("without owners:, a link from mybrand.fr to mybrand-store.com is not masked")
	}
}

// TestStarterPackMapsLinks: a member who shares a place in Google Maps posts
// a maps.app.goo.gl link, the Share button's own. Those lead to Google Maps
// only: no rule of the starter pack takes them down, whereas a goo.gl link,
// which hides where it leads, is still held as a shortener.
func TestStarterPackMapsLinks(t *testing.T) {
	rs, err := rules.Load("../rules.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	matched := engineMatches(t, rs, linksAt.AddDate(-5, 0, 0), linksAt.AddDate(-2, 0, 0))
	for _, s := range []string{
		"on se retrouve ici : https://maps.app.goo.gl/AbCdEf123",
		"the shop is there https://maps.app.goo.gl/AbCdEf123?g_st=ic",
		"[le lieu](https://maps.app.goo.gl/AbCdEf123)",
		"HTTPS://MAPS.APP.GOO.GL/AbCdEf123",
	} {
		if got := matched(s); len(got) > 0 {
			t.Errorf("%q: matched %v, want no rule", s, got)
		}
	}
	for _, s := range []string{
		"look https://goo.gl/AbCdEf123",
		"look https://goo.gl/maps/AbCdEf123",
	} {
		if got := matched(s); !slices.Contains(got, "risky-links") {
			t.Errorf("%q: matched %v, want risky-links", s, got)
		}
	}
}

// TestStarterPackOwnersClosed runs links through the engine with the starter
// pack, a brand's domains in its brands list and an owners: section that
// declares them: the group says every suffix the brand holds its names
// under, so its name under another is a site passing for it, taken by the
// phishing rule as steamcommunity.lat is; the brand's own sites, and a group
// that joins an owner vigie knows (Google's name is on sites in every
// country), are left alone.
func TestStarterPackOwnersClosed(t *testing.T) {
	src, err := os.ReadFile("../rules.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const brandsLine = "  brands:          {file: lists/brands.txt}\n"
	if !strings.Contains(string(src), brandsLine) {
		t.Fatalf("rules.example.yaml has no line %q", brandsLine)
	}
	withBrands := strings.Replace(string(src), brandsLine,
		"  brands: [mybrand.fr, mybrand-store.com, google.com, discord.com, steamcommunity.com]\n", 1)
	const owners = `
owners:
  mybrand: [mybrand.fr, mybrand-store.com]
  google: [google.com, google.pt]
`
	rs, err := rules.Parse("../rules.example.yaml", []byte(withBrands+owners), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	phishing := enginePhishing(t, rs)
	ordinary := []string{
		"https://mybrand.fr/faq",
		"les soldes : https://shop.mybrand-store.com/p/1",
		"www.mybrand.fr",
		"[mybrand.fr](https://mybrand-store.com/p/1)",
		"un blog de fans : https://mybrand-fans.example/news",
		"https://google.it/maps/place/x",
		"https://www.google.pt/search?q=x",
		"steamcommunity.com/id/x",
	}
	hostile := []string{
		"https://mybrand.shop/soldes",
		"mybrand.shop",
		"soldes sur mybrand.com/promo",
		"https://login.mybrand.net/account",
		"mybrand-store.shop/p/1",
		"https://rnybrand.shop/soldes",
		"https://steamcommunity.lat/gift",
	}
	for _, s := range ordinary {
		if phishing(s) {
			t.Errorf("%q: phishing matched, want the link left alone", s)
		}
	}
	for _, s := range hostile {
		if !phishing(s) {
			t.Errorf("%q: phishing not matched", s)
		}
	}
	// without the section, the brand's name is open: anyone may hold it
	// under another suffix
	plain, err := rules.Parse("../rules.example.yaml", []byte(withBrands), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if enginePhishing(t, plain)("https://mybrand.shop/soldes") {
		t.Error("without owners:, https://mybrand.shop/soldes is phishing")
	}
}

// TestStarterPackBrandAlone runs a listed brand's name written alone, no
// scheme nor path, under another top-level domain through the engine with
// the starter pack: steamcommunity.lat is a link because its name is one
// that the phishing rule's lookalike() reads (lists/brands.txt), and the rule
// takes it as it takes steamcommunity.lat/gift; a brand's name before a
// suffix that is also a word or a file extension (discord.py, google.it)
// stays a word, so that a new member who names a library is not held for a
// link.
func TestStarterPackBrandAlone(t *testing.T) {
	rs, err := rules.Load("../rules.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// a member who joined an hour ago, with a day-old account: the link
	// rules for newcomers read every link
	matched := engineMatches(t, rs, linksAt.AddDate(0, 0, -1), linksAt.Add(-time.Hour))
	for _, s := range []string{
		"vu sur steamcommunity.lat sans chemin",
		"trade me on STEAMCOMMUNITY.CFD",
		"steamcommunity.de",
		"steampowered.lat pour le jeu",
		"accept my trade: help.steamcommunity.lat",
		"free nitro: discord.gifts",
		"claim it on discord-nitro.lat",
		"steamcommunitytrade.cfd",
	} {
		if got := matched(s); !slices.Contains(got, "phishing") {
			t.Errorf("%q: matched %v, want phishing", s, got)
		}
	}
	for _, s := range []string{
		"j'utilise discord.py pour mon bot",
		"pip install discord.py",
		"google.it c'est Google en italien ?",
		"mon paypal.me est dans ma bio",
		"lis le readme.md et main.go",
		"bon.de rien",
		"e.g. this, i.e. that",
		"c'était génial.Merci",
		"my steam.lat is down",
		"dispo sur google.play et apple.music ?",
		"see discord-bot.lat",
		"discord-nitro.py est mon script",
	} {
		if got := matched(s); slices.ContainsFunc(got, func(r string) bool { return strings.Contains(r, "link") || r == "phishing" }) {
			t.Errorf("%q: matched %v, want no link rule", s, got)
		}
	}
}
