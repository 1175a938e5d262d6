package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// recorder keeps the calls made to a platform; errs gives the errors its next
// calls return, by operation.
type recorder struct {
	name  string
	mu    sync.Mutex
	calls []string
	errs  map[string][]error
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) call(op, detail string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if q := r.errs[op]; len(q) > 0 {
		r.errs[op] = q[1:]
		if q[0] != nil {
			r.calls = append(r.calls, op+detail+" -> error")
			return q[0]
		}
	}
	r.calls = append(r.calls, op+detail)
	return nil
}

func (r *recorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// chat is a platform like Discord: it deletes, replies, times out (and lifts
// timeouts), kicks, bans and tags, but has no private messages (warn is a reply) and cannot hide.
type chat struct {
	recorder
	// byHand says, for each timeout asked, whether a person asked for it
	// (bot.ByHand).
	byHand []bool
}

var (
	_ bot.Deleter     = (*chat)(nil)
	_ bot.Replier     = (*chat)(nil)
	_ bot.Timeouter   = (*chat)(nil)
	_ bot.Untimeouter = (*chat)(nil)
	_ bot.Kicker      = (*chat)(nil)
	_ bot.Banner      = (*chat)(nil)
	_ bot.Tagger      = (*chat)(nil)
)

func (c *chat) Delete(_ context.Context, ev bot.Event) error { return c.call("delete", "") }
func (c *chat) Reply(_ context.Context, ev bot.Event, text string) error {
	return c.call("reply", fmt.Sprintf("(%q)", text))
}
func (c *chat) Timeout(ctx context.Context, ev bot.Event, d time.Duration) error {
	c.mu.Lock()
	c.byHand = append(c.byHand, bot.ByHand(ctx))
	c.mu.Unlock()
	return c.call("timeout", "("+bot.FormatDuration(d)+")")
}
func (c *chat) Untimeout(_ context.Context, ev bot.Event) error { return c.call("untimeout", "") }
func (c *chat) Kick(_ context.Context, ev bot.Event) error      { return c.call("kick", "") }
func (c *chat) Ban(_ context.Context, ev bot.Event, d time.Duration) error {
	if d == 0 {
		return c.call("ban", "")
	}
	return c.call("ban", "("+bot.FormatDuration(d)+")")
}
func (c *chat) Unban(_ context.Context, ev bot.Event) error { return c.call("unban", "") }
func (c *chat) Tag(_ context.Context, ev bot.Event, tag string) error {
	return c.call("tag", fmt.Sprintf("(%q)", tag))
}

// page is a platform like a Facebook Page: it deletes, hides and answers comments,
// and warns by private reply; it cannot time out, kick or ban.
type page struct{ recorder }

var (
	_ bot.Deleter = (*page)(nil)
	_ bot.Hider   = (*page)(nil)
	_ bot.Warner  = (*page)(nil)
)

func (p *page) Delete(_ context.Context, ev bot.Event) error { return p.call("delete", "") }
func (p *page) Reply(_ context.Context, ev bot.Event, text string) error {
	return p.call("reply", fmt.Sprintf("(%q)", text))
}
func (p *page) Hide(_ context.Context, ev bot.Event) error   { return p.call("hide", "") }
func (p *page) Unhide(_ context.Context, ev bot.Event) error { return p.call("unhide", "") }
func (p *page) Warn(_ context.Context, ev bot.Event, text string) error {
	return p.call("warn", fmt.Sprintf("(%q)", text))
}

// deskRecorder is a desk that keeps what it was shown.
type deskRecorder struct {
	mu     sync.Mutex
	cases  []string
	alerts []string
	err    error
}

func (d *deskRecorder) PostCase(_ context.Context, c store.Case) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cases = append(d.cases, c.ID+" "+c.Reason)
	return d.err
}

func (d *deskRecorder) Alert(_ context.Context, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	d.alerts = append(d.alerts, text)
	return nil
}

var at = time.Date(2026, 11, 20, 22, 10, 0, 0, time.UTC)

func event(platform string) bot.Event {
	return bot.Event{ID: "m-1", Platform: platform, Kind: bot.KindMessage, Space: "guild-1",
		Author: bot.Author{ID: "u-7", Name: "Bob"}, Text: "hello", At: at}
}

func verdict(platform string, matches ...bot.Match) bot.Verdict {
	return bot.Verdict{EventID: "m-1", Platform: platform, At: at, Matches: matches}
}

func newModerator(t *testing.T, st store.Store, desk handlers.Desk, ps ...bot.Platform) (*handlers.Moderator, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	byName := map[string]bot.Platform{}
	for _, p := range ps {
		byName[p.Name()] = p
	}
	m, err := handlers.New(handlers.Options{
		Platforms:  byName,
		Store:      st,
		Desk:       desk,
		Registerer: reg,
		Now:        func() time.Time { return at },
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

// counts reads vigie_actions_total as "platform/action/result" → value.
func counts(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetName() {
			case "vigie_actions_total":
				out[labels["platform"]+"/"+labels["action"]+"/"+labels["result"]] = m.GetCounter().GetValue()
			case "vigie_cases_open":
				out["cases_open"] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func openCases(t *testing.T, st store.Store) []string {
	t.Helper()
	cs, err := st.Cases(context.Background(), store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.Rule+": "+c.Reason)
	}
	return out
}

func TestHandle(t *testing.T) {
	flood := bot.Match{Rule: "flood", Category: "flood", Actions: []bot.Action{
		{Kind: bot.ActDelete}, {Kind: bot.ActTimeout, Duration: 10 * time.Minute},
		{Kind: bot.ActWarn, Text: "Please slow down"}}}
	insult := bot.Match{Rule: "insult", Category: "abuse", Actions: []bot.Action{
		{Kind: bot.ActHide}, {Kind: bot.ActStrike}, {Kind: bot.ActForward, Text: "insult"}}}
	scam := bot.Match{Rule: "scam", Category: "spam", Actions: []bot.Action{
		{Kind: bot.ActBan}, {Kind: bot.ActTag, Text: "scam"}, {Kind: bot.ActKick}}}
	shadow := bot.Match{Rule: "caps", Shadow: true, Actions: []bot.Action{{Kind: bot.ActBan}}}
	raid := bot.Match{Rule: "raid", Category: "raid", Actions: []bot.Action{{Kind: bot.ActAlert, Text: "raid on guild-1"}}}

	tests := []struct {
		name     string
		platform string // event platform; "discord" is a chat, "facebook" a page
		matches  []bot.Match
		errs     map[string][]error
		calls    []string
		cases    []string
		metrics  map[string]float64
	}{
		{
			name:     "no match does nothing",
			platform: "discord",
		},
		{
			name:     "flood on a chat: no warning to an author who is timed out",
			platform: "discord",
			matches:  []bot.Match{flood},
			calls:    []string{"delete", "timeout(10m)"},
			metrics: map[string]float64{"discord/delete/done": 1, "discord/timeout/done": 1,
				"discord/warn/withheld": 1},
		},
		{
			name:     "flood on a page: warn is private",
			platform: "facebook",
			matches:  []bot.Match{flood},
			calls:    []string{"delete", `warn("Please slow down")`},
			metrics:  map[string]float64{"facebook/timeout/unsupported": 1},
		},
		{
			name:     "hide is skipped on a chat, forward opens a case, strike is the engine's",
			platform: "discord",
			matches:  []bot.Match{insult},
			cases:    []string{"insult: insult"},
			metrics: map[string]float64{"discord/hide/unsupported": 1, "discord/forward/done": 1,
				"cases_open": 1},
		},
		{
			name:     "hide on a page",
			platform: "facebook",
			matches:  []bot.Match{insult},
			calls:    []string{"hide"},
			cases:    []string{"insult: insult"},
		},
		{
			name:     "shadow rules never act",
			platform: "discord",
			matches:  []bot.Match{shadow},
		},
		{
			name:     "unknown platform: no action, the case still opens",
			platform: "forum",
			matches:  []bot.Match{scam, insult, raid},
			cases:    []string{"insult: insult: insult; raid: alert: raid on guild-1"},
			metrics: map[string]float64{"other/ban/platform_off": 1, "other/forward/done": 1,
				"other/alert/done": 1},
		},
		{
			name:     "retryable error then success",
			platform: "discord",
			matches:  []bot.Match{scam},
			errs: map[string][]error{"ban": {
				&bot.ActionError{Op: bot.ActBan, Retryable: true, RetryAfter: 2 * time.Second, Err: errors.New("429 too many requests")},
				errors.New("connection reset"),
			}},
			calls:   []string{"ban -> error", "ban -> error", "ban", `tag("scam")`, "kick"},
			metrics: map[string]float64{"discord/ban/done": 1, "discord/ban/failed": 0},
		},
		{
			name:     "permanent error: no retry, a case instead",
			platform: "discord",
			matches:  []bot.Match{scam},
			errs: map[string][]error{"ban": {
				&bot.ActionError{Op: bot.ActBan, Err: errors.New("403 missing permission")}}},
			calls:   []string{"ban -> error", `tag("scam")`, "kick"},
			cases:   []string{"scam: action failed: ban: 403 missing permission"},
			metrics: map[string]float64{"discord/ban/failed": 1, "discord/kick/done": 1, "cases_open": 1},
		},
		{
			name:     "retries run out: a case",
			platform: "discord",
			matches:  []bot.Match{flood},
			errs: map[string][]error{"timeout": {
				errors.New("503"), errors.New("503"), errors.New("503"), errors.New("503"), errors.New("503")}},
			calls: []string{"delete", "timeout(10m) -> error", "timeout(10m) -> error",
				"timeout(10m) -> error", "timeout(10m) -> error", `reply("Please slow down")`},
			cases: []string{"flood: action failed: 503 (gave up after 4 attempts)"},
		},
		{
			name:     "a failed action's case names the rule that asked for it",
			platform: "discord",
			matches:  []bot.Match{insult, scam},
			errs: map[string][]error{"kick": {
				&bot.ActionError{Op: bot.ActKick, Err: errors.New("403 missing permission")}}},
			calls: []string{"ban", `tag("scam")`, "kick -> error"},
			cases: []string{"insult: insult: insult; scam: action failed: kick: 403 missing permission"},
		},
		{
			name:     "actions of two rules fail: one case names each rule",
			platform: "discord",
			matches: []bot.Match{flood, {Rule: "mute-new", Category: "raid", Actions: []bot.Action{
				{Kind: bot.ActTimeout, Duration: time.Hour}, {Kind: bot.ActKick}}}},
			errs: map[string][]error{
				"delete":  {&bot.ActionError{Op: bot.ActDelete, Err: errors.New("403 missing permission")}},
				"kick":    {&bot.ActionError{Op: bot.ActKick, Err: errors.New("403 missing permission")}},
				"timeout": {&bot.ActionError{Op: bot.ActTimeout, Err: errors.New("403 missing permission")}},
			},
			// The warning comes last: neither the timeout nor the kick was done.
			calls: []string{"delete -> error", "timeout(1h) -> error", "kick -> error", `reply("Please slow down")`},
			// The merged timeout is the longer one, mute-new's.
			cases: []string{"flood: flood: action failed: delete: 403 missing permission; " +
				"mute-new: action failed: timeout: 403 missing permission, kick: 403 missing permission"},
		},
		{
			name:     "retry-after beyond what the stage waits: a case at once",
			platform: "discord",
			matches:  []bot.Match{scam},
			errs: map[string][]error{"kick": {
				&bot.ActionError{Op: bot.ActKick, Retryable: true, RetryAfter: time.Hour, Err: errors.New("429")}}},
			calls: []string{"ban", `tag("scam")`, "kick -> error"},
			cases: []string{"scam: action failed: kick: 429 (platform asks to wait 1h, more than 30s)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// synctest's clock makes the retry stage's pauses instant.
			synctest.Test(t, func(t *testing.T) {
				discord := &chat{recorder: recorder{name: "discord", errs: tt.errs}}
				facebook := &page{recorder{name: "facebook", errs: tt.errs}}
				st := memory.New(memory.WithCaseEpoch("tests"))
				defer st.Close()
				m, reg := newModerator(t, st, nil, discord, facebook)
				ev := event(tt.platform)
				v := verdict(tt.platform, tt.matches...)
				if err := m.Handle(context.Background(), ev, v); err != nil {
					t.Fatalf("Handle: %v", err)
				}
				calls := discord.Calls()
				if tt.platform == "facebook" {
					calls = facebook.Calls()
				}
				if !slices.Equal(calls, tt.calls) {
					t.Errorf("calls = %q\nwant    %q", calls, tt.calls)
				}
				if got := openCases(t, st); !slices.Equal(got, tt.cases) {
					t.Errorf("cases = %q\nwant    %q", got, tt.cases)
				}
				got := counts(t, reg)
				for k, want := range tt.metrics {
					if got[k] != want {
						t.Errorf("metric %s = %v, want %v (all: %v)", k, got[k], want, got)
					}
				}
				audit, err := st.Audit(context.Background(), time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				if want := len(tt.matches) > 0; (len(audit) == 1) != want {
					t.Errorf("audit has %d entries, want one: %v", len(audit), want)
				}
			})
		})
	}
}

func TestHandleRetryStopsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		discord := &chat{recorder: recorder{name: "discord", errs: map[string][]error{"delete": {
			&bot.ActionError{Op: bot.ActDelete, Retryable: true, RetryAfter: 20 * time.Second, Err: errors.New("429")}}}}}
		st := memory.New(memory.WithCaseEpoch("tests"))
		defer st.Close()
		m, _ := newModerator(t, st, nil, discord)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		v := verdict("discord", bot.Match{Rule: "r", Actions: []bot.Action{{Kind: bot.ActDelete}}})
		if err := m.Handle(ctx, event("discord"), v); err != nil {
			t.Fatal(err)
		}
		// The cancelled context stopped the wait, and the case was still recorded.
		want := []string{"r: action failed: delete: 429 (gave up after 1 attempts: context deadline exceeded)"}
		if got := openCases(t, st); !slices.Equal(got, want) {
			t.Errorf("cases = %q, want %q", got, want)
		}
	})
}

func TestDesk(t *testing.T) {
	v := verdict("discord",
		bot.Match{Rule: "insult", Actions: []bot.Action{{Kind: bot.ActForward, Text: "insult"}}},
		bot.Match{Rule: "raid", Actions: []bot.Action{{Kind: bot.ActAlert, Text: "raid!"}}})
	t.Run("reachable", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			st := memory.New(memory.WithCaseEpoch("tests"))
			desk := &deskRecorder{}
			m, _ := newModerator(t, st, desk)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- m.DeliverCases(ctx) }()
			if err := m.Handle(context.Background(), event("discord"), v); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			if want := []string{"c-tests-000001 insult"}; !slices.Equal(desk.cases, want) {
				t.Errorf("desk cases = %q, want %q", desk.cases, want)
			}
			if want := []string{"raid!"}; !slices.Equal(desk.alerts, want) {
				t.Errorf("desk alerts = %q, want %q", desk.alerts, want)
			}
			if want := []string{"insult: insult"}; !slices.Equal(openCases(t, st), want) {
				t.Errorf("cases = %q, want %q", openCases(t, st), want)
			}
			if pending, _ := st.PendingCases(ctx); len(pending) != 0 {
				t.Errorf("%d cases still pending after the desk took them", len(pending))
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("DeliverCases = %v", err)
			}
		})
	})
	t.Run("unreachable, then back", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			st := memory.New(memory.WithCaseEpoch("tests"))
			desk := &deskRecorder{err: &bot.ActionError{Op: bot.ActAlert, Retryable: true, Err: errors.New("bad gateway")}}
			m, _ := newModerator(t, st, desk)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- m.DeliverCases(ctx) }()
			if err := m.Handle(context.Background(), event("discord"), v); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			want := []string{"insult: insult: insult; raid: alert: raid! (desk unreachable: alert: bad gateway (gave up after 4 attempts))"}
			if got := openCases(t, st); !slices.Equal(got, want) {
				t.Errorf("cases = %q\nwant    %q", got, want)
			}
			// The desk comes back: the next round posts the message's case,
			// which says the alert the desk did not take.
			desk.mu.Lock()
			desk.err, desk.cases = nil, nil
			desk.mu.Unlock()
			time.Sleep(time.Minute)
			synctest.Wait()
			wantPosted := []string{"c-tests-000001 insult: insult; raid: alert: raid! (desk unreachable: alert: bad gateway (gave up after 4 attempts))"}
			desk.mu.Lock()
			posted := slices.Clone(desk.cases)
			desk.mu.Unlock()
			if !slices.Equal(posted, wantPosted) {
				t.Errorf("posted = %q\nwant %q", posted, wantPosted)
			}
			cancel()
			<-done
		})
	})
	t.Run("no desk", func(t *testing.T) {
		m, _ := newModerator(t, memory.New(memory.WithCaseEpoch("tests")), nil)
		if err := m.DeliverCases(context.Background()); err != nil {
			t.Errorf("DeliverCases without a desk = %v", err)
		}
	})
}

func TestPause(t *testing.T) {
	discord := &chat{recorder: recorder{name: "discord"}}
	st := memory.New(memory.WithCaseEpoch("tests"))
	m, reg := newModerator(t, st, nil, discord)
	v := verdict("discord", bot.Match{Rule: "flood", Category: "flood", Actions: []bot.Action{
		{Kind: bot.ActDelete}, {Kind: bot.ActTimeout, Duration: 10 * time.Minute}}})

	m.Pause(at.Add(time.Hour))
	if paused, until := m.Paused(); !paused || !until.Equal(at.Add(time.Hour)) {
		t.Fatalf("Paused() = %v, %v", paused, until)
	}
	if err := m.Handle(context.Background(), event("discord"), v); err != nil {
		t.Fatal(err)
	}
	if calls := discord.Calls(); len(calls) != 0 {
		t.Errorf("paused but the platform was called: %q", calls)
	}
	want := []string{"flood: paused: would delete, timeout(10m)"}
	if got := openCases(t, st); !slices.Equal(got, want) {
		t.Errorf("cases = %q, want %q", got, want)
	}
	if got := counts(t, reg)["discord/delete/paused"]; got != 1 {
		t.Errorf("paused deletes = %v, want 1", got)
	}
	audit, _ := st.Audit(context.Background(), time.Time{})
	if len(audit) != 1 || audit[0].Mode != "paused" {
		t.Errorf("audit = %+v, want one entry in mode paused", audit)
	}

	m.Resume()
	if paused, _ := m.Paused(); paused {
		t.Fatal("still paused after Resume")
	}
	if err := m.Handle(context.Background(), event("discord"), v); err != nil {
		t.Fatal(err)
	}
	if want := []string{"delete", "timeout(10m)"}; !slices.Equal(discord.Calls(), want) {
		t.Errorf("calls = %q, want %q", discord.Calls(), want)
	}

	m.Pause(at.Add(-time.Minute)) // a pause that is over
	if paused, _ := m.Paused(); paused {
		t.Error("a pause in the past still pauses")
	}
}

// TestRolesUnknown: an author the platform could not check for a staff role is
// judged, but not acted on: what would have been done becomes one case.
func TestRolesUnknown(t *testing.T) {
	discord := &chat{recorder: recorder{name: "discord"}}
	st := memory.New(memory.WithCaseEpoch("tests"))
	m, reg := newModerator(t, st, nil, discord)
	v := verdict("discord",
		bot.Match{Rule: "flood", Category: "flood", Actions: []bot.Action{
			{Kind: bot.ActDelete}, {Kind: bot.ActHide}, {Kind: bot.ActTimeout, Duration: 10 * time.Minute},
			{Kind: bot.ActWarn, Text: "Please slow down"}, {Kind: bot.ActStrike}}},
		bot.Match{Rule: "scam", Category: "spam", Actions: []bot.Action{
			{Kind: bot.ActBan}, {Kind: bot.ActKick}, {Kind: bot.ActTag, Text: "scam"}, {Kind: bot.ActForward, Text: "scam link"}}})
	ev := event("discord")
	ev.Author.RolesUnknown = true

	if err := m.Handle(context.Background(), ev, v); err != nil {
		t.Fatal(err)
	}
	if calls := discord.Calls(); len(calls) != 0 {
		t.Errorf("roles unknown but the platform was called: %q", calls)
	}
	// One case says the forward and the actions held; hide cannot be done on
	// a chat, so it is not offered, nor is a warning to an author the verdict
	// bans.
	want := []string{
		`scam: scam: scam link; flood: author's roles unknown (admin lookup failed or pending): would delete, timeout(10m), ban, kick, tag("scam")`,
	}
	got := openCases(t, st)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("cases = %q\nwant    %q", got, want)
	}
	metrics := counts(t, reg)
	for _, k := range []string{"discord/delete/roles_unknown", "discord/timeout/roles_unknown", "discord/warn/withheld",
		"discord/ban/roles_unknown", "discord/kick/roles_unknown", "discord/tag/roles_unknown", "discord/hide/unsupported"} {
		if metrics[k] != 1 {
			t.Errorf("metric %s = %v, want 1 (all: %v)", k, metrics[k], metrics)
		}
	}

	// Once the roles are known again, the same verdict is carried out.
	ev.ID, ev.Author.RolesUnknown = "m-2", false
	if err := m.Handle(context.Background(), ev, v); err != nil {
		t.Fatal(err)
	}
	if want := []string{"delete", "timeout(10m)", "ban", "kick", `tag("scam")`}; !slices.Equal(discord.Calls(), want) {
		t.Errorf("calls = %q, want %q", discord.Calls(), want)
	}
}

func TestNewNeedsAStore(t *testing.T) {
	if _, err := handlers.New(handlers.Options{}); err == nil {
		t.Fatal("New without a store: no error")
	}
}

func TestMetricsRegisterOnce(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := handlers.New(handlers.Options{Store: memory.New(memory.WithCaseEpoch("tests")), Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := handlers.New(handlers.Options{Store: memory.New(memory.WithCaseEpoch("tests")), Registerer: reg}); err == nil {
		t.Fatal("second registration on one registry: no error")
	}
}
