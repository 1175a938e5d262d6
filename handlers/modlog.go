package handlers

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
)

// The mod-log writes every action, the rules' and the moderators', as one line
// in a log chat or channel (the rule file's modlog:). Hits of one rule (or one
// moderator) doing one action in one place within the wave's window share a
// line, edited as its count grows: "🗑 34× delete in #general — rule flood,
// over 2m". Lines are written off the actions' way: Record never waits, a full
// queue drops the line (counted), and a platform that fails is retried a few
// times, then logged; moderation goes on.

// ModLogEntry is one action for the mod-log.
type ModLogEntry struct {
	At time.Time
	// Event is the message, or the member, acted on.
	Event  bot.Event
	Action bot.Action
	// Rule is the rule that acted; By the moderator who did (then Rule is
	// empty). Reason is the rule's or the moderator's.
	Rule, By, Reason string
	// CaseID is the case the action decided, when there is one.
	CaseID string
	// Failed says why the platform refused the action.
	Failed string
	// Until is when a timed ban ends, zero for none.
	Until time.Time

	// conf is where the line goes, fixed when the action is recorded
	// (confFor): a reload that moves the mod-log moves the lines of the
	// actions taken from then on, not those of the actions the old file
	// took, which the CMs who read the old channel look for there.
	conf *rules.ModLog
}

// ModLogOptions are what a ModLog works with.
type ModLogOptions struct {
	// Posters write lines, by the name of the platform whose chats or
	// channels they write in (telegram, discord).
	Posters map[string]bot.LogPoster
	// PublicURL is the console's address (VIGIE_PUBLIC_URL), for links to
	// the member's cases; empty gives none.
	PublicURL  string
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Now is the clock of the waves; nil is time.Now.
	Now func() time.Time
	// Retry tunes the posting's retries; the zero value tries 3 times.
	Retry Retry
}

// ModLog writes the mod-log. It is safe for concurrent use; Run writes.
type ModLog struct {
	o     ModLogOptions
	log   *slog.Logger
	retry Retry
	conf  atomic.Pointer[rules.ModLog]
	// communities, when set, give the places of each community its own
	// mod-log (community.go).
	communities atomic.Pointer[rules.Ruleset]
	queue       chan ModLogEntry
	lines       *prometheus.CounterVec
	mu          sync.Mutex
	waves       map[string]*wave
	logged      bot.Turn // the drops' log line
}

// modLogQueue is how many entries may wait for Run; past it they are dropped.
const modLogQueue = 1024

// modLogEditEvery spaces the edits of a growing wave's line.
const modLogEditEvery = 3 * time.Second

// NewModLog returns a ModLog writing nowhere until SetConfig says where.
func NewModLog(o ModLogOptions) (*ModLog, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Retry.Attempts == 0 {
		o.Retry.Attempts = 3
	}
	l := &ModLog{o: o, log: o.Logger.With("part", "mod-log"), retry: o.Retry.withDefaults(),
		queue: make(chan ModLogEntry, modLogQueue), waves: map[string]*wave{},
		lines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_modlog_lines_total",
			Help: "Mod-log lines by result: posted, edited, failed (the platform refused, after retries), dropped (too many waiting).",
		}, []string{"result"})}
	l.conf.Store(&rules.ModLog{Wave: rules.DefaultModLogWave})
	if o.Registerer != nil {
		if err := o.Registerer.Register(l.lines); err != nil {
			return nil, fmt.Errorf("mod-log: register metrics: %w", err)
		}
	}
	return l, nil
}

// SetConfig says where to log, as the rule file's modlog: does.
func (l *ModLog) SetConfig(c rules.ModLog) {
	if c.Wave <= 0 {
		c.Wave = rules.DefaultModLogWave
	}
	l.conf.Store(&c)
}

// Record hands an entry to the mod-log without waiting, to be written where
// the mod-log is set now. A nil ModLog records nothing.
func (l *ModLog) Record(e ModLogEntry) { l.recordBy(nil, e) }

// recordBy is Record for an action of a verdict of the rule file rs (nil:
// the one SetCommunities was last given, and SetConfig's mod-log): the line
// goes to the mod-log rs says, whatever file was loaded since.
func (l *ModLog) recordBy(rs *rules.Ruleset, e ModLogEntry) {
	if l == nil {
		return
	}
	e.conf = l.confFor(rs, e.Event)
	if _, ok := destOf(e.conf, e.Event); !ok {
		return
	}
	if e.At.IsZero() {
		e.At = l.o.Now()
	}
	select {
	case l.queue <- e:
	default:
		l.lines.WithLabelValues("dropped").Inc()
		if l.logged.Take(l.o.Now(), time.Minute) {
			l.log.Warn("mod-log lines dropped: too many waiting to be written", "waiting", modLogQueue)
		}
	}
}

// Run writes the entries recorded until ctx ends, then the edits still due.
func (l *ModLog) Run(ctx context.Context) {
	// On the wall clock: it paces the edits sent to the platforms, whose limits count real seconds.
	t := time.NewTicker(modLogEditEvery)
	defer t.Stop()
	for {
		select {
		case e := <-l.queue:
			l.write(ctx, e)
		case <-t.C:
			l.Flush(ctx)
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			for {
				select {
				case e := <-l.queue:
					l.write(fctx, e)
				default:
					l.Flush(fctx)
					return
				}
			}
		}
	}
}

// wave is one line of the mod-log: the entries of one key within the window.
type wave struct {
	dest        dest
	first, last ModLogEntry
	count       int
	id          string // the posted line, "" until posted
	dirty       bool   // the line says less than the wave
	fails       int    // flushes in a row that failed to write it
	gaveUp      bool   // the platform refused it for good, or kept failing
}

// modLogFlushTries bounds the flushes that try again a line a platform
// keeps failing to write; one it refuses for good is not tried again.
const modLogFlushTries = 3

// dest is where a line goes: a poster and its chat or channel.
type dest struct{ poster, to string }

// destOf is where ev's actions are logged; ok is false for nowhere.
func destOf(c *rules.ModLog, ev bot.Event) (dest, bool) {
	switch ev.Platform {
	case "discord":
		if ch := cmp.Or(c.DiscordChannels[ev.Space], c.DiscordChannel); ch != "" {
			return dest{"discord", ch}, true
		}
		return dest{}, false
	case "telegram":
	default:
		if c.TelegramChat == "" && c.DiscordChannel != "" {
			return dest{"discord", c.DiscordChannel}, true
		}
	}
	if c.TelegramChat != "" {
		return dest{"telegram", c.TelegramChat}, true
	}
	return dest{}, false
}

// write adds e to its wave: a new line is posted at once, a wave's growth is
// edited in by Flush.
func (l *ModLog) write(ctx context.Context, e ModLogEntry) {
	c := e.conf
	d, ok := destOf(c, e.Event)
	if !ok {
		return
	}
	window := cmp.Or(c.Wave, rules.DefaultModLogWave)
	ev := e.Event
	failed := ""
	if e.Failed != "" {
		failed = "failed"
	}
	key := strings.Join([]string{d.poster, d.to, e.Rule, e.By, e.Action.String(), failed, ev.Platform, ev.Space, ev.Channel}, "\x00")
	l.mu.Lock()
	w, ok := l.waves[key]
	if ok && e.At.Sub(w.first.At) <= window {
		w.count++
		w.last = e
		w.dirty = !w.gaveUp
		l.mu.Unlock()
		return
	}
	w = &wave{dest: d, first: e, last: e, count: 1}
	l.waves[key] = w
	for k, old := range l.waves {
		if e.At.Sub(old.first.At) > 2*window && (!old.dirty || old.gaveUp) {
			delete(l.waves, k)
		}
	}
	l.mu.Unlock()
	l.post(ctx, w)
}

// Flush edits the lines whose waves grew since they were written.
func (l *ModLog) Flush(ctx context.Context) {
	l.mu.Lock()
	var due []*wave
	for _, w := range l.waves {
		if w.dirty {
			due = append(due, w)
		}
	}
	l.mu.Unlock()
	for _, w := range due {
		l.post(ctx, w)
	}
}

// post writes w's line: posted when it has none yet, edited otherwise.
func (l *ModLog) post(ctx context.Context, w *wave) {
	p := l.o.Posters[w.dest.poster]
	if p == nil {
		return
	}
	l.mu.Lock()
	text, id := l.line(w, p), w.id
	w.dirty = false
	l.mu.Unlock()
	var newID string
	err := l.retry.Do(ctx, func(ctx context.Context) error {
		if id != "" {
			return p.EditLog(ctx, w.dest.to, id, text)
		}
		var err error
		newID, err = p.PostLog(ctx, w.dest.to, text)
		return err
	})
	if err != nil {
		l.lines.WithLabelValues("failed").Inc()
		l.mu.Lock()
		w.fails++
		// The next flush tries again, unless the platform refused for good
		// (no right to post there, chat gone) or kept failing.
		w.dirty = bot.Retryable(err) && w.fails < modLogFlushTries
		w.gaveUp = !w.dirty
		again := w.dirty
		l.mu.Unlock()
		l.log.Warn("mod-log line not written", "to", w.dest.poster+":"+w.dest.to, "err", err, "tried_again", again)
		return
	}
	if id != "" {
		l.lines.WithLabelValues("edited").Inc()
		return
	}
	l.lines.WithLabelValues("posted").Inc()
	l.mu.Lock()
	w.id, w.fails = newID, 0
	l.mu.Unlock()
}

// actionEmoji marks a line by what was done.
var actionEmoji = map[bot.ActionKind]string{
	bot.ActDelete: "🗑", bot.ActHide: "🙈", bot.ActReply: "💬", bot.ActWarn: "⚠️", bot.ActTimeout: "🔇",
	bot.ActKick: "👢", bot.ActBan: "⛔", bot.ActTag: "🏷", bot.ActStrike: "❗", OutcomeUnban: "↩️",
	OutcomeUntimeout: "🔊", OutcomeUnhide: "👁", OutcomeKeep: "✅", "resetwarns": "🧹",
	bot.ActLockdown: "🔒", bot.ActSlowmode: "🐢", opLift: "🔓",
}

// maxLogLine bounds a mod-log line, as its chat shows it (escapes included),
// within a Discord message.
const maxLogLine = 1900

// line is w as the mod-log shows it in the chats of poster p. What vigie did
// not write (names, the action's text, reasons, errors) is a member's part:
// escaped when p reads lines as markup (bot.LogEscaper), so a name like
// "[Verify here](https://…)" shows as written, not as a link in vigie's voice.
func (l *ModLog) line(w *wave, p bot.LogPoster) string {
	e := w.last
	ev := e.Event
	var b logLine
	if w.first.Failed != "" {
		b.vigie("❌ failed: ")
	}
	b.vigie(cmp.Or(actionEmoji[e.Action.Kind], "•") + " ")
	if w.count > 1 {
		b.vigie(fmt.Sprintf("%d× ", w.count))
	}
	b.member(truncateText(e.Action.String(), 300))
	if !e.Until.IsZero() {
		b.vigie(" " + UntilText(e.Until, e.At))
	}
	place, ours := placeLabel(ev)
	if n, ok := l.o.Posters[ev.Platform].(bot.PlaceNamer); ok {
		if name := n.PlaceName(ev); name != "" {
			place, ours = name, false
		}
	}
	if place != "" {
		b.vigie(" in ")
		if ours {
			b.vigie(place)
		} else {
			b.member(truncateText(place, 100))
		}
	}
	b.vigie(" — ")
	why(&b, e)
	sep := " · "
	if w.count > 1 {
		b.vigie(fmt.Sprintf(", over %s; last:", bot.FormatDuration(w.last.At.Sub(w.first.At).Round(time.Second))))
		sep = " "
	}
	if ev.Author.ID != "" {
		b.vigie(sep)
		b.member(truncateText(cmp.Or(ev.Author.Name, ev.Author.ID), 100))
		b.vigie(" (" + ev.Platform + " ")
		b.member(truncateText(ev.Author.ID, 100))
		b.vigie(")")
	}
	if strings.HasPrefix(ev.Link, "https://") {
		b.vigie(" · " + ev.Link)
	}
	if e.CaseID != "" {
		b.vigie(" · case ")
		b.member(e.CaseID)
	}
	if u := l.memberURL(ev, e.CaseID); u != "" {
		b.vigie(" · " + u)
	}
	if e.Failed != "" && w.count == 1 {
		b.vigie(" · ")
		b.member(truncateText(e.Failed, 200))
	}
	esc := func(s string) string { return s }
	if x, ok := p.(bot.LogEscaper); ok {
		esc = x.EscapeLog
	}
	return b.render(esc, maxLogLine)
}

// why is the rule and its reason, or the moderator and theirs.
func why(b *logLine, e ModLogEntry) {
	switch {
	case e.By != "":
		b.vigie("by ")
		b.member(e.By)
	case e.Rule != "":
		b.vigie("rule ")
		b.member(e.Rule)
	default:
		b.vigie("vigie")
	}
	if e.Reason != "" {
		b.vigie(": ")
		b.member(truncateText(e.Reason, 200))
	}
}

// logLine is a mod-log line in parts: vigie's own text, written in the
// chat's markup (a channel's mention, links), and what others wrote.
type logLine []logPart

type logPart struct {
	text   string
	member bool
}

func (b *logLine) vigie(s string) { *b = append(*b, logPart{text: s}) }

// member adds a part written by others, on one line, set apart when it could
// turn the rest of the line around (bot.IsolateBidi).
func (b *logLine) member(s string) {
	*b = append(*b, logPart{text: bot.IsolateBidi(strings.Join(strings.Fields(s), " ")), member: true})
}

// render writes the line within max characters, the members' parts escaped
// by esc. A line too long ends with "…": a member's part is cut before it
// is escaped, so no escape is cut in two; a part of vigie's that does not
// fit (a link) is left out whole.
func (b logLine) render(esc func(string) string, max int) string {
	var out strings.Builder
	n := 0
	for _, p := range b {
		t := p.text
		if p.member {
			t = esc(t)
		}
		if k := utf8.RuneCountInString(t); n+k <= max-1 {
			out.WriteString(t)
			n += k
			continue
		}
		if p.member {
			var kept []rune
			for _, r := range p.text {
				k := utf8.RuneCountInString(esc(string(r)))
				if n+k > max-1 {
					break
				}
				kept = append(kept, r)
				n += k
			}
			out.WriteString(esc(string(kept)))
		}
		out.WriteString("…")
		break
	}
	return out.String()
}

// placeLabel names where ev happened: a Discord channel as Discord shows
// it (ours: vigie's markup), a chat or a page by id.
func placeLabel(ev bot.Event) (label string, ours bool) {
	ch := cmp.Or(ev.Thread, ev.Channel)
	if ch == "" {
		return ev.Space, false
	}
	if ev.Platform == "discord" {
		return "<#" + ch + ">", true
	}
	return ch, false
}

// memberURL is the member's page on the console, at the case when known.
func (l *ModLog) memberURL(ev bot.Event, caseID string) string {
	if l.o.PublicURL == "" || ev.Author.ID == "" {
		return ""
	}
	u := strings.TrimRight(l.o.PublicURL, "/") + "/people/" + url.PathEscape(ev.Platform) + "/" +
		url.PathEscape(ev.Space) + "/" + url.PathEscape(ev.Author.ID)
	if caseID != "" {
		u += "#case-" + url.PathEscape(caseID)
	}
	return u
}

func truncateText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
