package rules

import (
	"fmt"
	"slices"
	"strconv"
	"time"
	"unsafe"

	"github.com/expr-lang/expr"
	"github.com/vigie-bot/vigie/rules/classify"
	"github.com/vigie-bot/vigie/rules/text"
	"github.com/vigie-bot/vigie/store"
)

// exprEnv is what an expression sees. Field tags are the names CMs write.
//
// Event fields: text (as written), content (everything the event gives to
// read: bot.Event.Content), platform, kind, space, channel, thread, reply_to,
// attachments (a count), files (their names), hidden_links (link targets the
// text does not show), forwarded, forward.from and forward.text. The text
// features below are those of content, so that a link or a scam hidden in a
// forward, a caption's hidden link or an embed is seen by the rules that read
// links; text stays what the author wrote. author.id, author.name, author.username, author.roles,
// author.staff, author.bot, author.account_age and author.member_age: the ages are
// time.Duration measured at evaluation time, and ZERO WHEN UNKNOWN (the platform
// did not say when the account was created or the member joined), so a test for a
// new account is written `author.account_age > 0 and author.account_age < duration("7d")`.
// author.verified is false while a new member has not pressed the verify:
// button, true otherwise (also for members who joined before vigie, or while
// verification was off).
//
// Text features, computed once per event by package rules/text: links and domains
// (lists of strings), mentions and emojis (counts), caps (share of capital letters,
// 0 to 1). counters.NAME is the counter's value for this event (this event
// included); lists.NAME is a word list; after_hours is true outside office_hours
// and on holidays (the community's office hours, when it has its own).
// community.name is the event's community ("" outside every community) and
// community.vars.NAME a var of the file's vars:, with the community's value.
//
// Functions (see envFunctions): has_any(s, list), any_in(items, list),
// all_in(items, list), none_in(items, list), s in list, strikes(window),
// duration(s), matches(s, regex).
//
// Spam signals (fields and functions): see signalEnv and signalFunctions.
type exprEnv struct {
	Text        string     `expr:"text"`
	Content     string     `expr:"content"`
	Platform    string     `expr:"platform"`
	Kind        string     `expr:"kind"`
	Space       string     `expr:"space"`
	Channel     string     `expr:"channel"`
	Thread      string     `expr:"thread"`
	ReplyTo     string     `expr:"reply_to"`
	Attachments int        `expr:"attachments"`
	Files       []string   `expr:"files"`
	HiddenLinks []string   `expr:"hidden_links"`
	Forwarded   bool       `expr:"forwarded"`
	Forward     forwardEnv `expr:"forward"`
	Author      authorEnv  `expr:"author"`
	Links       []string   `expr:"links"`
	Domains     []string   `expr:"domains"`
	Mentions    int        `expr:"mentions"`
	Emojis      int        `expr:"emojis"`
	Caps        float64    `expr:"caps"`
	// Counters is indexed by the counter's position in the file: the compiler
	// rewrites counters.NAME into counters[i], so no map is built per event.
	Counters []int `expr:"counters"`
	// Lists is never read at run time: the compiler replaces lists.NAME by the
	// compiled list itself. It is here so that the checker knows the name.
	Lists      map[string]*wordList `expr:"lists"`
	AfterHours bool                 `expr:"after_hours"`
	// Community is the event's community (communities:): its name, "" outside
	// every community, and its vars.
	Community communityEnv `expr:"community"`
	signalEnv

	// State is what the functions need from the event. The compiler passes it
	// as their hidden first argument; expressions cannot name it.
	State *evalState `expr:"__state"`
}

// stateName is the name State is given to the functions under.
const stateName = "__state"

// evalState is one event's working state for the functions.
type evalState struct {
	// text is the string analysis is of: the event's content
	text     string
	analysis *text.Analysis
	// owners are the rule file's owners: (nil for none), for lookalike
	owners  *text.Owners
	now     time.Time
	strikes []time.Time
	// sketchSums are the bands of the text's sketch once sketched
	// (sketchHas: the text has one); sketches are them as strings, once one
	// was asked as a string (sketchText).
	sketchSums [text.SketchBands]uint64
	sketches   [text.SketchBands]string
	sketched   bool
	sketchHas  bool
	sketchText bool
	// matched remembers has_any's answers about the event's text.
	matched []listMatch
	// starts are the words of the event's text where an entry of a list of
	// startsOf may start, once has_any asked (text.ListSet.Starts).
	starts   []text.Start
	startsOf *text.ListSet
	// others are the analyses of the texts other than the content
	// has_any was asked about (analysisOf).
	others []*text.Analysis
	// hits are what the functions found (a word, a domain, a pattern) while the
	// current rule ran; they make the match's Reason.
	hits []hit
	// reason and spans are explain's buffer, kept from event to event.
	reason []byte
	spans  []reasonSpan
	// odd is whether text holds ſ or K (see foldsOdd): 0 not looked yet, 1
	// no, 2 yes.
	odd uint8
	// grams are the trigrams of text once a pattern asked (gramsFilled),
	// for the patterns' prefilters; the set is kept from event to event.
	grams       *gramSet
	gramsFilled bool
	// features are the text's features for the models, once score() asked
	// (featured); scores are the models' scores by the model's index, -1
	// while not computed.
	features classify.Features
	featured bool
	// grammed: the features' n-grams were added, for a model that reads them
	grammed bool
	scores  []float64
	// authorKey and spaceKey are the author's id and the space hashed
	// (store.SumText), once a counter's key read them (authorSummed,
	// spaceSummed): six counters of the starter pack read the author.
	authorKey, spaceKey       store.KeySum
	authorSummed, spaceSummed bool
	// built is the bytes of text the running expression has built so far
	// (budget.go); the engine sets it to 0 before each run.
	built int
	// turns are the turns the running expression's loops have taken so far
	// (budget.go), reset with built.
	turns int
}

// forwardEnv is the message an event forwards: empty strings when it forwards none.
type forwardEnv struct {
	From string `expr:"from"`
	Text string `expr:"text"`
}

type authorEnv struct {
	ID         string        `expr:"id"`
	Name       string        `expr:"name"`
	Username   string        `expr:"username"`
	Roles      []string      `expr:"roles"`
	Staff      bool          `expr:"staff"`
	Bot        bool          `expr:"bot"`
	AccountAge time.Duration `expr:"account_age"`
	MemberAge  time.Duration `expr:"member_age"`
	Verified   bool          `expr:"verified"`
}

type listMatch struct {
	list  *wordList
	entry string
	ok    bool
}

// wordList is a compiled list of the lists: section.
type wordList struct {
	name string
	l    *text.List
	// index is the list's place in the file's lists, from 1 (0 for a list
	// of none): where has_any keeps its answer for the event.
	index int
	// set holds the file's lists, this one among them.
	set *text.ListSet
}

type hitKind uint8

const (
	hitWord    hitKind = iota // has_any found a list entry
	hitIn                     // an item is in the list
	hitNotIn                  // an item is not in the list
	hitPattern                // matches() matched
)

type hit struct {
	kind hitKind
	list *wordList
	item string
	re   *pattern
}

// appendTo appends what String returns.
func (h hit) appendTo(buf []byte) []byte {
	switch h.kind {
	case hitWord:
		buf = strconv.AppendQuote(append(buf, "matched "...), h.item)
		return append(append(buf, " from lists."...), h.list.name...)
	case hitIn:
		return append(append(strconv.AppendQuote(buf, h.item), " in lists."...), h.list.name...)
	case hitNotIn:
		return append(append(strconv.AppendQuote(buf, h.item), " not in lists."...), h.list.name...)
	case hitLookalike:
		return append(append(append(buf, h.item...), " in lists."...), h.list.name...)
	case hitPattern:
		// what %s gives in String, without fmt's machinery and its string
		return append(append(append(buf, "matched /"...), h.re.String()...), '/')
	}
	return append(buf, h.String()...)
}

func (h hit) String() string {
	// strconv.Quote is what %q does with a string, without fmt's machinery:
	// every matched rule writes one of these
	switch h.kind {
	case hitWord:
		return "matched " + strconv.Quote(h.item) + " from lists." + h.list.name
	case hitIn:
		return strconv.Quote(h.item) + " in lists." + h.list.name
	case hitNotIn:
		return strconv.Quote(h.item) + " not in lists." + h.list.name
	case hitLookalike:
		return h.item + " in lists." + h.list.name
	default:
		return fmt.Sprintf("matched /%s/", h.re)
	}
}

// envFuncs are the functions that receive the event's state as a hidden first
// argument: the compiler rewrites has_any(text, l) into has_any(__state, text, l)
// so that they can reuse the analysis made once per event and record what they found.
var envFuncs = map[string]bool{
	"has_any": true, "any_in": true, "all_in": true, "none_in": true,
	"strikes": true, matchesFunc: true, "score": true,
	"lookalike": true, "sketch": true, // signals.go
	"repeat": true, "replace": true, "join": true, "uniq": true, // budget.go
	concatFunc: true, addFunc: true, chargeFunc: true,
}

// matchesFunc is the name matches(s, re) is compiled under: "matches" is an
// operator of the expr language (s matches "re"), so the function form is renamed
// before parsing, to a name of the same length so that positions do not move.
const matchesFunc = "rematch"

// envFunctions returns the expr options that declare vigie's functions.
//
//	has_any(s, list)      s contains an entry of list: normalised, word-aware, case,
//	                      accent and obfuscation insensitive (rules/text). When s is
//	                      the event's text, the analysis made once per event is reused.
//	any_in(items, list)   some item of items (links, domains, author.roles) is in list
//	all_in(items, list)   every item is in list (true when items is empty)
//	none_in(items, list)  no item is in list (true when items is empty)
//	s in list             s is in list (normalised exact membership)
//	strikes(window)       the author's strikes within window ("24h" or a duration)
//	duration(s)           "90s", "10m", "7d", "2w" as a duration
//	matches(s, re)        s matches the regular expression re (compiled once at
//	                      load when constant); s matches "re" works too
func envFunctions() []expr.Option {
	return append([]expr.Option{
		expr.Function("has_any", hasAny, new(func(*evalState, string, *wordList) bool)),
		expr.Function("any_in", anyIn, new(func(*evalState, []string, *wordList) bool)),
		expr.Function("all_in", allIn, new(func(*evalState, []string, *wordList) bool)),
		expr.Function("none_in", noneIn, new(func(*evalState, []string, *wordList) bool)),
		expr.Function("in_list", inList, new(func(string, *wordList) bool)),
		expr.Function("strikes", strikes,
			new(func(*evalState, time.Duration) int),
			new(func(*evalState, string) int)),
		expr.Function("duration", durationFn, new(func(string) time.Duration)),
		expr.Function(matchesFunc, matchesFn,
			new(func(*evalState, string, *pattern) bool),
			new(func(*evalState, string, string) bool)),
		expr.Operator("in", "in_list"),
		scoreFunction(),
	}, append(signalFunctions(), budgetFunctions()...)...)
}

func hasAny(p ...any) (any, error) {
	return p[0].(*evalState).hasAny(p[1].(string), p[2].(*wordList)), nil
}

func (st *evalState) hasAny(s string, l *wordList) bool {
	var entry string
	var ok bool
	if a := st.analysis; a != nil && sameString(s, st.text) {
		// a list is often asked twice about the text (a counter's when: and a
		// rule): the first answer is kept for the event, at the list's
		// place in matched (index)
		i := -1
		if k := l.index - 1; k >= 0 {
			if k < len(st.matched) && st.matched[k].list == l {
				i = k
			}
		} else {
			i = slices.IndexFunc(st.matched, func(m listMatch) bool { return m.list == l })
		}
		if i < 0 {
			m := listMatch{list: l}
			if l.set != nil {
				if st.startsOf != l.set {
					st.starts, st.startsOf = l.set.Starts(a, st.starts[:0]), l.set
				}
				m.entry, m.ok = l.l.MatchFrom(a, st.starts)
			} else {
				m.entry, m.ok = l.l.Match(a)
			}
			if k := l.index - 1; k >= 0 {
				if k < cap(st.matched) {
					// past its length matched holds only zero entries:
					// reset clears what an event wrote, all within its
					// length, before it cuts it to none
					st.matched = st.matched[:max(len(st.matched), k+1)]
				}
				for len(st.matched) <= k {
					st.matched = append(st.matched, listMatch{})
				}
				st.matched[k], i = m, k
			} else {
				st.matched = append(st.matched, m)
				i = len(st.matched) - 1
			}
		}
		entry, ok = st.matched[i].entry, st.matched[i].ok
	} else {
		entry, ok = l.l.Match(st.analysisOf(s))
	}
	if ok {
		st.hits = append(st.hits, hit{kind: hitWord, list: l, item: entry})
	}
	return ok
}

// analysisOf is the analysis of s, a text other than the event's content,
// kept for the event: on a message that forwards another, the content is
// more than the text, and the starter pack asks has_any(text, ...) of four
// lists, which analysed the text four times; a rule asking has_any of
// text and forward.text in turn, fifty times, analysed them fifty times. A
// text is known by where its bytes are (a field of the event, or a text
// the rule built), not compared byte by byte. At most othersMost are kept:
// a loop asking has_any of each word (any(split(text, " "), {has_any(#,
// ...)})) kept the analysis of every one, 14,000 on a text of 40 KB, 40 MB
// held for the event, and looked through them all at each call, 2.7 s; past
// them a text is analysed at each call, as it was before any was kept, and
// the loop budget counts it.
func (st *evalState) analysisOf(s string) *text.Analysis {
	for _, a := range st.others {
		if len(a.Text) == len(s) && unsafe.StringData(a.Text) == unsafe.StringData(s) {
			return a
		}
	}
	a := text.Analyze(s)
	if len(st.others) < othersMost {
		st.others = append(st.others, a)
	}
	return a
}

// othersMost bounds the analyses of texts other than the content kept for
// an event: the event's own fields are a few, the rest texts a rule built.
const othersMost = 32

// sameString is s == t, without a call to compare the bytes when both are
// the same string (the event's text, handed to has_any as it is).
func sameString(s, t string) bool {
	return len(s) == len(t) && (unsafe.StringData(s) == unsafe.StringData(t) || s == t)
}

func stringsArg(v any) []string {
	switch s := v.(type) {
	case []string:
		return s
	case []any:
		out := make([]string, 0, len(s))
		for _, x := range s {
			if str, ok := x.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}

func anyIn(p ...any) (any, error) {
	return p[0].(*evalState).anyIn(stringsArg(p[1]), p[2].(*wordList)), nil
}

func (st *evalState) anyIn(items []string, l *wordList) bool {
	for _, it := range items {
		if l.l.Contains(it) {
			st.hits = append(st.hits, hit{kind: hitIn, list: l, item: it})
			return true
		}
	}
	return false
}

func allIn(p ...any) (any, error) {
	return p[0].(*evalState).allIn(stringsArg(p[1]), p[2].(*wordList)), nil
}

func (st *evalState) allIn(items []string, l *wordList) bool {
	for _, it := range items {
		if !l.l.Contains(it) {
			st.hits = append(st.hits, hit{kind: hitNotIn, list: l, item: it})
			return false
		}
	}
	return true
}

func noneIn(p ...any) (any, error) {
	return p[0].(*evalState).noneIn(stringsArg(p[1]), p[2].(*wordList)), nil
}

func (st *evalState) noneIn(items []string, l *wordList) bool {
	for _, it := range items {
		if l.l.Contains(it) {
			st.hits = append(st.hits, hit{kind: hitIn, list: l, item: it})
			return false
		}
	}
	if len(items) > 0 {
		// one example is enough for a reason: "evil.example" not in lists.allowed
		st.hits = append(st.hits, hit{kind: hitNotIn, list: l, item: items[0]})
	}
	return true
}

func inList(p ...any) (any, error) {
	return p[1].(*wordList).l.Contains(p[0].(string)), nil
}

func strikes(p ...any) (any, error) {
	st := p[0].(*evalState)
	var window time.Duration
	switch w := p[1].(type) {
	case time.Duration:
		window = w
	case string:
		d, err := parseDuration(w)
		if err != nil {
			return nil, fmt.Errorf("strikes: %w", err)
		}
		window = d
	}
	return st.strikesIn(window), nil
}

func (st *evalState) strikesIn(window time.Duration) int {
	since := st.now.Add(-window)
	n := 0
	for _, t := range st.strikes {
		if t.After(since) {
			n++
		}
	}
	return n
}

func durationFn(p ...any) (any, error) {
	return parseDuration(p[0].(string))
}

func matchesFn(p ...any) (any, error) {
	st := p[0].(*evalState)
	s, ok := p[1].(string)
	if !ok {
		return nil, fmt.Errorf("matches: %T is not text", p[1])
	}
	var pat *pattern
	switch r := p[2].(type) {
	case *pattern:
		pat = r
	case string:
		var err error
		if pat, err = runtimePattern(r); err != nil {
			return nil, err
		}
		if err := st.chargeMatch(s, pat); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("matches: the pattern is %T, not text", p[2])
	}
	return st.matches(s, pat), nil
}

func (st *evalState) matches(s string, pat *pattern) bool {
	var ok bool
	if s == st.text {
		if st.odd == 0 {
			st.odd = 1
			if foldsOdd(s) {
				st.odd = 2
			}
		}
		if !st.gramsFilled {
			if st.grams == nil {
				st.grams = new(gramSet)
			}
			st.grams.fill(s)
			st.gramsFilled = true
		}
		ok = pat.matchFolding(s, st.odd == 2, st.grams)
	} else {
		ok = pat.match(s)
	}
	if ok {
		st.hits = append(st.hits, hit{kind: hitPattern, re: pat})
		return true
	}
	return false
}

// authorSum is the author's id hashed for a counter's key, once an event.
func (st *evalState) authorSum(id string) store.KeySum {
	if !st.authorSummed {
		st.authorKey, st.authorSummed = store.SumText(id), true
	}
	return st.authorKey
}

// spaceSum is the space hashed for a counter's key, once an event.
func (st *evalState) spaceSum(space string) store.KeySum {
	if !st.spaceSummed {
		st.spaceKey, st.spaceSummed = store.SumText(space), true
	}
	return st.spaceKey
}
