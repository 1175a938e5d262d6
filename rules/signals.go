package rules

import (
	"fmt"
	"reflect"

	"github.com/expr-lang/expr"

	"github.com/vigie-bot/vigie/rules/text"
)

// signalEnv holds the spam signals of rules/text as expression fields. It is
// embedded in exprEnv, so CMs write them at the top level: promo > 0.
//
//	words           words outside links
//	emoji_share     emojis / (emojis + words), 0 to 1
//	max_run         longest run of one character ("!!!!!!" 6, "nooooon" 5, "😂😂😂" 3)
//	invites         Discord invitations (discord.gg/…, discord.com/invite/…)
//	telegram_links  links to Telegram (t.me/…, telegram.me/…)
//	shortened       links through URL shorteners and cloakers (bit.ly, tinyurl.com, …)
//	wallets         cryptocurrency addresses (Bitcoin, Ethereum, Tron, Litecoin)
//	emails          e-mail addresses
//	phones          phone numbers (10 to 15 digits written like one)
//	promo           self-promotion phrases: "check out my channel", "sub4sub",
//	                "follow me on insta", "abonnez-vous", "va voir ma chaîne"
//	fingerprint     stable hash of the normalised words (links and mentions left
//	                out), "" without words: key a counter on it to see the same
//	                text again, from one author or from many
//	language        "fr" or "en" when the function words say so, "" when they
//	                do not: a threshold or a rule for one language
type signalEnv struct {
	Words         int     `expr:"words"`
	EmojiShare    float64 `expr:"emoji_share"`
	MaxRun        int     `expr:"max_run"`
	Invites       int     `expr:"invites"`
	TelegramLinks int     `expr:"telegram_links"`
	Shortened     int     `expr:"shortened"`
	MaskedLinks   int     `expr:"masked_links"`
	Wallets       int     `expr:"wallets"`
	Emails        int     `expr:"emails"`
	Phones        int     `expr:"phones"`
	Promo         int     `expr:"promo"`
	Fingerprint   string  `expr:"fingerprint"`
	Language      string  `expr:"language"`
}

func signalsOf(a *text.Analysis) signalEnv {
	return signalEnv{
		Words:         a.Words,
		EmojiShare:    a.EmojiShare,
		MaxRun:        a.MaxRun,
		Invites:       a.Invites,
		TelegramLinks: a.TelegramLinks,
		Shortened:     a.Shortened,
		MaskedLinks:   a.MaskedLinks,
		Wallets:       a.Wallets,
		Emails:        a.Emails,
		Phones:        a.Phones,
		Promo:         a.Promo,
		Fingerprint:   a.Fingerprint,
		Language:      a.Language,
	}
}

// hitLookalike: lookalike() found a domain imitating a list's host.
const hitLookalike = hitPattern + 1

// signalFuncs are the signal functions that take the event's state as hidden
// first argument.
var signalFuncs = []string{"lookalike", "sketch"}

// signalNames are the names the signals add to expressions, for "did you mean".
func signalNames() []string {
	return append(tagNames(reflect.TypeFor[signalEnv]()), signalFuncs...)
}

// signalFunctions declares the signal functions.
//
//	lookalike(items, list)  some item (a domain) imitates a host of list without
//	                        being it or under it: look-alike letters of other
//	                        scripts, digits for letters, doubled letters, rn for
//	                        m ("dіscord.gg", "d1scord.gg", "steamcommunnity.com"
//	                        for [discord.gg, steamcommunity.com]). For lists of
//	                        brands and trusted sites; any_in and none_in compare
//	                        exactly, so an allow list never lets a look-alike in.
//	                        An item may be a link: a listed host shown first
//	                        ("discord.com.gift-claim.ru") or as its user info
//	                        ("https://discord.com@evil.example/") counts too.
//	sketch(band)            band 0 to 3 of the text's similarity sketch (MinHash
//	                        of its words): texts that share most of their words
//	                        share a band. "" for texts under 4 words. A counter
//	                        keyed on author.id + sketch(0) counts the author's
//	                        recent messages similar to this one; four counters,
//	                        one per band, catch nearly all near-copies.
func signalFunctions() []expr.Option {
	return []expr.Option{
		expr.Function("lookalike", lookalike, new(func(*evalState, []string, *wordList) bool)),
		expr.Function("sketch", sketch, new(func(*evalState, int) string)),
	}
}

func lookalike(p ...any) (any, error) {
	return p[0].(*evalState).lookalike(stringsArg(p[1]), p[2].(*wordList)), nil
}

func (st *evalState) lookalike(items []string, l *wordList) bool {
	for _, it := range items {
		if host, ok := l.l.LookalikeOwned(it, st.owners); ok {
			st.hits = append(st.hits, hit{kind: hitLookalike, list: l, item: fmt.Sprintf("%q looks like %q", it, host)})
			return true
		}
	}
	return false
}

func sketch(p ...any) (any, error) {
	return p[0].(*evalState).sketch(p[1].(int)), nil
}

// sketch returns band b of the event's sketch; the bands are computed together
// on the first call of the event, since a file keys one counter on each, and
// made strings together the first time one is asked as a string.
func (st *evalState) sketch(b int) string {
	if _, ok := st.sketchSum(b); !ok {
		return ""
	}
	if !st.sketchText {
		var buf [text.SketchBands * 16]byte
		digits := buf[:0]
		for _, h := range st.sketchSums {
			digits = text.AppendSketch(digits, h)
		}
		all := string(digits)
		for i := range st.sketches {
			st.sketches[i] = all[i*16 : (i+1)*16]
		}
		st.sketchText = true
	}
	return st.sketches[b]
}

// appendSketch appends band b of the event's sketch to buf, as sketch(b)
// writes it, without making a string of it: a counter key glued from an
// author and a band is built straight into the event's key buffer.
func (st *evalState) appendSketch(buf []byte, b int) []byte {
	if h, ok := st.sketchSum(b); ok {
		return text.AppendSketch(buf, h)
	}
	return buf
}

// sketchSum is band b of the event's sketch as a number; false when the
// text has none or b is not a band.
func (st *evalState) sketchSum(b int) (uint64, bool) {
	if st.analysis == nil || b < 0 || b >= text.SketchBands {
		return 0, false
	}
	if !st.sketched {
		st.sketchSums, st.sketchHas = st.analysis.SketchSums()
		st.sketched = true
	}
	return st.sketchSums[b], st.sketchHas
}
