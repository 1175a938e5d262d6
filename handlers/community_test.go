package handlers_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// agencyFile is the example of docs/rules.md, "Several communities": the test
// runs what the docs show.
func agencyFile(t *testing.T) []byte {
	t.Helper()
	doc, err := os.ReadFile("../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## Several communities\n")
	if !ok {
		t.Fatal(`docs/rules.md has no "## Several communities" section`)
	}
	_, block, ok := strings.Cut(section, "```yaml\n")
	if !ok {
		t.Fatal(`"Several communities" shows no rule file`)
	}
	block, _, _ = strings.Cut(block, "```")
	return []byte(block)
}

// communityDesk shows the cases and alerts where the platform desks do: on
// the community's desk chat, else the file's.
type communityDesk struct {
	rs    *rules.Ruleset
	mu    sync.Mutex
	shown []string
}

func (d *communityDesk) where(community string) string {
	desk := d.rs.Desk
	if c := d.rs.Community(community); c != nil {
		desk = c.DeskFor(desk)
	}
	return "telegram " + desk.TelegramChat + ", discord " + desk.DiscordChannel
}

func (d *communityDesk) PostCase(_ context.Context, c store.Case) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.shown = append(d.shown, fmt.Sprintf("case %s in %q → %s", c.Rule, c.Community, d.where(c.Community)))
	return nil
}

func (d *communityDesk) Alert(ctx context.Context, text string) error {
	return d.AlertCommunity(ctx, "", text)
}

func (d *communityDesk) AlertCommunity(_ context.Context, community, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.shown = append(d.shown, fmt.Sprintf("alert %q in %q → %s", text, community, d.where(community)))
	return nil
}

// The agency's file, end to end: each community's events are judged with its
// rules (a rule disabled, one enabled, a threshold changed), its cases and
// alerts go to its desk, its actions to its mod-log, and its office hours
// are its own.
func TestSeveralCommunities(t *testing.T) {
	rs, err := rules.Parse("rules.yaml", agencyFile(t), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Saturday 16:00 in Paris is 10:00 in Montreal: the velo server is in
	// office hours, the others are not.
	sat := time.Date(2026, 11, 28, 16, 0, 0, 0, rs.Timezone)
	if !rs.AfterHours(sat) || !rs.Community("boulangerie").AfterHours(sat) || rs.Community("velo").AfterHours(sat) {
		t.Errorf("after hours on Saturday 16:00 Paris: file %v, boulangerie %v, velo %v",
			rs.AfterHours(sat), rs.Community("boulangerie").AfterHours(sat), rs.Community("velo").AfterHours(sat))
	}
	synctest.Test(t, func(t *testing.T) {
		st := memory.New()
		tgLog, dcLog := newLogChannel(), newLogChannel()
		l := newModLog(t, handlers.ModLogOptions{Posters: map[string]bot.LogPoster{"telegram": tgLog, "discord": dcLog}})
		l.SetConfig(rs.ModLog)
		l.SetCommunities(rs)
		desk := &communityDesk{rs: rs}
		platforms := map[string]bot.Platform{}
		for _, name := range []string{"facebook", "instagram"} {
			platforms[name] = &page{recorder: recorder{name: name}}
		}
		for _, name := range []string{"discord", "telegram"} {
			platforms[name] = &chat{recorder: recorder{name: name}}
		}
		m, err := handlers.New(handlers.Options{Platforms: platforms, Store: st, Desk: desk, ModLog: l})
		if err != nil {
			t.Fatal(err)
		}
		m.SetCommunities(rs)
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		wg.Go(func() { l.Run(ctx) })
		wg.Go(func() { m.DeliverCases(ctx) })

		engine := rules.NewEngine(rs, st, rules.Options{})
		n := 0
		send := func(platform, space, author, text string, memberAge time.Duration) []string {
			t.Helper()
			n++
			ev := bot.Event{ID: fmt.Sprint("e-", n), Platform: platform, Kind: bot.KindMessage, Space: space, Channel: space,
				Author: bot.Author{ID: author, Name: author}, Text: text, At: sat.Add(time.Duration(n) * time.Second)}
			if memberAge > 0 {
				ev.Author.JoinedAt = ev.At.Add(-memberAge)
			}
			v, err := engine.Evaluate(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Handle(ctx, ev, v); err != nil {
				t.Fatal(err)
			}
			var matched []string
			for _, x := range v.Matches {
				matched = append(matched, x.Rule)
			}
			return matched
		}
		const (
			boulangerieFB = "104523749012345"
			veloDiscord   = "123456789012345601"
			arcadeDiscord = "123456789012345603"
			arcadeIG      = "17841400000000003"
			elsewhere     = "-1009999999999"
		)
		for _, c := range []struct {
			platform, space, author, text string
			memberAge                     time.Duration
			want                          []string
		}{
			// competitors is enabled: false, and enabled by boulangerie only
			{"facebook", boulangerieFB, "ana", "Croissanterie Dupont does it better", 0, []string{"competitors"}},
			{"telegram", elsewhere, "ana", "Croissanterie Dupont does it better", 0, nil},
			// arcade disables newcomer_links; velo does not
			{"discord", arcadeDiscord, "kid", "my clip https://clips.example/1", time.Hour, nil},
			{"discord", veloDiscord, "kid", "buy here https://shop.example/1", time.Hour, []string{"newcomer_links"}},
		} {
			if got := send(c.platform, c.space, c.author, c.text, c.memberAge); !slices.Equal(got, c.want) {
				t.Errorf("%s:%s %q matched %v, want %v", c.platform, c.space, c.text, got, c.want)
			}
		}
		// flood: more than 5 messages in 10s, more than 12 on the velo server
		var velo, arcade []string
		for i := range 6 {
			velo = append(velo, send("discord", veloDiscord, "chatty", fmt.Sprint("hi ", i), 0)...)
		}
		for i := range 6 {
			arcade = append(arcade, send("instagram", arcadeIG, "chatty", fmt.Sprint("hi ", i), 0)...)
		}
		if len(velo) != 0 || !slices.Equal(arcade, []string{"flood"}) {
			t.Errorf("6 messages in 10s: velo matched %v, arcade %v; want none, then flood once", velo, arcade)
		}
		// an alert about the velo server goes to its desk
		ev := bot.Event{ID: "raid-1", Platform: "discord", Space: veloDiscord, Author: bot.Author{ID: "x"}, At: sat}
		if err := m.Handle(ctx, ev, bot.Verdict{EventID: ev.ID, Platform: "discord", Matches: []bot.Match{
			{Rule: "raid", Actions: []bot.Action{{Kind: bot.ActAlert, Text: "raid on the velo server"}}}}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		cancel()
		wg.Wait()

		wantDesk := []string{
			`case competitors in "boulangerie" → telegram -1001000000011, discord `,
			`alert "raid on the velo server" in "velo" → telegram -1001000000001, discord 223456789012345601`,
		}
		desk.mu.Lock()
		shown := slices.Clone(desk.shown)
		desk.mu.Unlock()
		slices.Sort(shown)
		slices.Sort(wantDesk)
		if !slices.Equal(shown, wantDesk) {
			t.Errorf("desk:\n%s\nwant:\n%s", strings.Join(shown, "\n"), strings.Join(wantDesk, "\n"))
		}
		cases, err := st.Cases(t.Context(), store.CaseOpen)
		if err != nil || len(cases) != 1 || cases[0].Community != "boulangerie" {
			t.Errorf("open cases = %+v, %v; want the competitors case, of boulangerie", cases, err)
		}
		// velo's delete is in velo's log channel; arcade has no mod-log of
		// its own: its flood on Instagram is in the file's log chat
		logged := func(lines []string, prefix string) bool {
			return slices.ContainsFunc(lines, func(s string) bool { return strings.HasPrefix(s, prefix) })
		}
		dc, tg := dcLog.all(), tgLog.all()
		if !logged(dc, "323456789012345601: 🗑 delete") || len(dc) != 1 {
			t.Errorf("discord log lines = %q, want velo's delete in 323456789012345601", dc)
		}
		if !logged(tg, "-1001000000002: 🗑 delete") || logged(tg, "-1001000000012") {
			t.Errorf("telegram log lines = %q, want arcade's flood in the file's -1001000000002", tg)
		}
	})
}

// A community's cases are filtered by GET /v1/cases?community=, which reads
// what the case recorded: a case opened elsewhere records none.
func TestCaseRecordsNoCommunityOutside(t *testing.T) {
	rs, err := rules.Parse("rules.yaml", agencyFile(t), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	m, _ := newModerator(t, st, nil)
	m.SetCommunities(rs)
	for _, space := range []string{"104523749012345", "-1009999999999"} {
		ev := bot.Event{ID: space, Platform: "facebook", Space: space, Author: bot.Author{ID: "a"}, At: at}
		if err := m.OpenCase(t.Context(), store.Case{Event: ev, Rule: "faq:opening", Reason: "a question"}); err != nil {
			t.Fatal(err)
		}
	}
	cases, err := st.Cases(t.Context(), store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cases {
		got = append(got, c.Event.Space+"="+c.Community)
	}
	slices.Sort(got)
	if want := []string{"-1009999999999=", "104523749012345=boulangerie"}; !slices.Equal(got, want) {
		t.Errorf("cases' communities = %q, want %q", got, want)
	}
}

// The audit records the mode of the event's community: velo's server is in
// office hours on Saturday morning in Montreal while the file is after hours;
// a mode forced from the desk wins everywhere.
func TestAuditModeOfCommunity(t *testing.T) {
	rs, err := rules.Parse("rules.yaml", agencyFile(t), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sat := time.Date(2026, 11, 28, 16, 0, 0, 0, rs.Timezone)
	now := func() time.Time { return sat }
	shift := handlers.NewShift(rs.AfterHours, now)
	st := memory.New()
	m, err := handlers.New(handlers.Options{Store: st, Shift: shift, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	m.SetCommunities(rs)
	modes := func() []string {
		t.Helper()
		for _, space := range []string{"123456789012345601", "123456789012345603"} {
			ev := bot.Event{ID: space + fmt.Sprint(len(space)), Platform: "discord", Space: space, Author: bot.Author{ID: "a"}, At: sat}
			if err := m.Handle(t.Context(), ev, bot.Verdict{EventID: ev.ID, Platform: "discord", Matches: []bot.Match{{Rule: "r", Actions: []bot.Action{{Kind: bot.ActTag, Text: "x"}}}}}); err != nil {
				t.Fatal(err)
			}
		}
		entries, err := st.Audit(t.Context(), sat.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries[len(entries)-2:] {
			out = append(out, e.Event.Space+" "+e.Mode)
		}
		return out
	}
	if got, want := modes(), []string{"123456789012345601 office", "123456789012345603 after"}; !slices.Equal(got, want) {
		t.Errorf("modes = %q, want %q", got, want)
	}
	if err := shift.Set(handlers.ShiftAfter, 0, "telegram:1"); err != nil {
		t.Fatal(err)
	}
	if got, want := modes(), []string{"123456789012345601 after", "123456789012345603 after"}; !slices.Equal(got, want) {
		t.Errorf("forced after hours: modes = %q, want %q", got, want)
	}
}

// A community's CM decides its cases and commands in its places only; the
// file's CMs decide everywhere. A refusal does nothing and says whose it is.
func TestCommunityCMRights(t *testing.T) {
	rs, err := rules.Parse("rules.yaml", agencyFile(t), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	p := &chat{recorder: recorder{name: "discord"}}
	m, _ := newModerator(t, st, nil, p)
	m.SetCommunities(rs)
	ctx := t.Context()
	open := func(platform, space, id string) store.Case {
		t.Helper()
		ev := bot.Event{ID: id, Platform: platform, Kind: bot.KindMessage, Space: space, Author: bot.Author{ID: "a-" + id}, At: at}
		if err := m.OpenCase(ctx, store.Case{Event: ev, Rule: "flood", Reason: "flood"}); err != nil {
			t.Fatal(err)
		}
		cases, _ := st.Cases(ctx, store.CaseOpen)
		for _, c := range cases {
			if c.Event.ID == id {
				return c
			}
		}
		t.Fatalf("no case for %s", id)
		return store.Case{}
	}
	const boulangerieCM, fileCM = "telegram:222222222", "telegram:111111111"
	velo := open("discord", "123456789012345601", "m-velo")
	c, err := m.Decide(ctx, velo.ID, "keep", boulangerieCM)
	var other *bot.CommunityError
	if !errors.As(err, &other) || other.Community != "velo" || other.Own != "boulangerie" {
		t.Fatalf("Decide by boulangerie's CM on velo's case: %v", err)
	}
	if !strings.Contains(err.Error(), "this case belongs to community velo") {
		t.Errorf("refusal says %q", err)
	}
	if c, _ := st.Case(ctx, velo.ID); c.Status != store.CaseOpen {
		t.Errorf("velo's case after the refusal: %s", c.Status)
	}
	outside := open("discord", "999", "m-outside")
	if _, err := m.Decide(ctx, outside.ID, "keep", boulangerieCM); !errors.As(err, &other) || other.Community != "" {
		t.Errorf("Decide by boulangerie's CM on a case of no community: %v", err)
	}
	bread := open("facebook", "104523749012345", "m-bread")
	if c, err = m.Decide(ctx, bread.ID, "keep", boulangerieCM); err != nil || c.Status != store.CaseDecided {
		t.Errorf("Decide by boulangerie's CM on its own case: %s, %v", c.Status, err)
	}
	for _, id := range []string{velo.ID, outside.ID} {
		if c, err = m.Decide(ctx, id, "keep", fileCM); err != nil || c.Status != store.CaseDecided {
			t.Errorf("Decide by the file's CM on %s: %s, %v", id, c.Status, err)
		}
	}

	member := bot.Event{Platform: "discord", Space: "123456789012345601", Author: bot.Author{ID: "u-9", Name: "Zed"}}
	text, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModKick, Target: member, By: boulangerieCM})
	if !errors.As(err, &other) || text != "Sorry, this place belongs to community velo: your rights are community boulangerie's." {
		t.Errorf("/kick by boulangerie's CM in velo's server = %q, %v", text, err)
	}
	if got := p.Calls(); len(got) != 0 {
		t.Errorf("platform calls after the refusal = %q", got)
	}
	if _, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModKick, Target: member, By: fileCM}); err != nil {
		t.Errorf("/kick by the file's CM: %v", err)
	}
	if got := p.Calls(); !slices.Equal(got, []string{"kick"}) {
		t.Errorf("platform calls = %q", got)
	}
}

// A lockdown in a community's place, and its lift, are told to the
// community's desk.
func TestLockdownToldToCommunityDesk(t *testing.T) {
	rs, err := rules.Parse("rules.yaml", agencyFile(t), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	clk := &clock{t: at}
	g := &guild{recorder: recorder{name: "discord"}}
	desk := &communityDesk{rs: rs}
	m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": g}, Store: memory.New(), Desk: desk, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	m.SetCommunities(rs)
	ev := join("j-1", at)
	ev.Space = "123456789012345601"
	if err := m.Handle(ctx, ev, raidVerdict(bot.Action{Kind: bot.ActLockdown, Duration: 10 * time.Minute})); err != nil {
		t.Fatal(err)
	}
	clk.Add(11 * time.Minute)
	if n, err := m.LiftLocks(ctx); n != 1 || err != nil {
		t.Fatalf("LiftLocks = %d, %v", n, err)
	}
	desk.mu.Lock()
	defer desk.mu.Unlock()
	if len(desk.shown) != 2 {
		t.Fatalf("desk = %q, want the lock and the lift", desk.shown)
	}
	for _, s := range desk.shown {
		if !strings.Contains(s, `in "velo" → telegram -1001000000001, discord 223456789012345601`) {
			t.Errorf("told %s, want velo's desk", s)
		}
	}
}

// A CM whose rights are a community's sees that community's cases and
// figures in /queue and /status, and is refused /pause, /resume and a /mode
// change, which act on every community; the file's CM sees and does all.
func TestCommunityCMDeskCommands(t *testing.T) {
	rs, err := rules.Parse("rules.yaml", agencyFile(t), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	m, _ := newModerator(t, st, nil, &chat{recorder: recorder{name: "discord"}})
	m.SetCommunities(rs)
	var reported []string
	c := handlers.NewCommands(m, handlers.CommandsOptions{
		Version: "1.0", Started: at.Add(-time.Hour),
		Status: func(context.Context) []string { return []string{"Events in the last hour: 3."} },
		Rules:  func() *rules.Ruleset { return rs },
		Report: func(_ context.Context, period time.Duration, community string) (string, []byte, error) {
			reported = append(reported, community)
			return "report of " + cmp.Or(community, "everything"), []byte("png"), nil
		},
	})
	ctx := t.Context()
	flood := bot.Match{Rule: "flood", Category: "flood", Actions: []bot.Action{{Kind: bot.ActDelete}}}
	for _, place := range []struct{ platform, space, id string }{
		{"discord", "123456789012345601", "m-velo"},
		{"facebook", "104523749012345", "m-bread"},
		{"discord", "999", "m-outside"},
	} {
		ev := bot.Event{ID: place.id, Platform: place.platform, Kind: bot.KindMessage, Space: place.space, Author: bot.Author{ID: "a-" + place.id}, At: at}
		if err := st.AppendAudit(ctx, store.AuditEntry{At: at.Add(-time.Minute), Event: ev, Verdict: bot.Verdict{Matches: []bot.Match{flood}}}); err != nil {
			t.Fatal(err)
		}
		if err := m.OpenCase(ctx, store.Case{Event: ev, Rule: "flood", Reason: "flood"}); err != nil {
			t.Fatal(err)
		}
	}
	const boulangerieCM, fileCM = "telegram:222222222", "telegram:111111111"
	queued := func(by string) []string {
		t.Helper()
		cases, err := c.Queue(ctx, by)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, k := range cases {
			ids = append(ids, k.Event.ID)
		}
		slices.Sort(ids)
		return ids
	}
	if got := queued(boulangerieCM); !slices.Equal(got, []string{"m-bread"}) {
		t.Errorf("boulangerie's CM's queue = %q", got)
	}
	if got := queued(fileCM); !slices.Equal(got, []string{"m-bread", "m-outside", "m-velo"}) {
		t.Errorf("the file's CM's queue = %q", got)
	}

	status, err := c.Status(ctx, boulangerieCM)
	if err != nil {
		t.Fatal(err)
	}
	if want := "vigie 1.0: enforcing, up 1h.\nRules: rules.yaml, 3 rules (0 in shadow mode).\nFigures of community boulangerie only.\nLast hour: 1 flagged, 1 action.\nOpen cases: 1."; status != want {
		t.Errorf("boulangerie's CM's status =\n%s\nwant\n%s", status, want)
	}
	status, _ = c.Status(ctx, fileCM)
	if !strings.Contains(status, "Events in the last hour: 3.\nLast hour: 3 flagged, 3 actions.\nOpen cases: 3.") {
		t.Errorf("the file's CM's status =\n%s", status)
	}

	const refusal = "acts on every community: your rights are community boulangerie's. Ask a CM of the file's desk."
	for name, give := range map[string]func(by string) (string, error){
		"pause":  func(by string) (string, error) { return c.Pause(ctx, time.Hour, by) },
		"resume": func(by string) (string, error) { return c.Resume(ctx, by) },
		"mode":   func(by string) (string, error) { return c.Mode(ctx, "after 1h", by) },
	} {
		text, err := give(boulangerieCM)
		if err != nil || text != "Sorry, /"+name+" "+refusal {
			t.Errorf("/%s by boulangerie's CM = %q, %v", name, text, err)
		}
	}
	if paused, _ := m.Paused(); paused {
		t.Error("paused by a community's CM")
	}
	if _, err := c.Pause(ctx, time.Hour, fileCM); err != nil {
		t.Fatal(err)
	}
	if paused, _ := m.Paused(); !paused {
		t.Error("the file's CM could not pause")
	}

	// /stats, /rules and /report show a community's CM their communities only.
	stats, err := c.Stats(ctx, time.Hour, boulangerieCM)
	if want := "Figures of community boulangerie only.\nLast 1h: 1 flagged, 1 action.\nBy rule:\n  flood 1\nBy category:\n  flood 1\nBy platform:\n  facebook 1"; err != nil || stats != want {
		t.Errorf("boulangerie's CM's stats =\n%s\nwant\n%s (%v)", stats, want, err)
	}
	if stats, _ = c.Stats(ctx, time.Hour, fileCM); !strings.HasPrefix(stats, "Last 1h: 3 flagged, 3 actions.") {
		t.Errorf("the file's CM's stats =\n%s", stats)
	}
	list, err := c.Rules(ctx, boulangerieCM)
	if want := "rules.yaml: 3 rules (hits today in community boulangerie's)\nflood enforce: 1\nnewcomer_links enforce: 0\ncompetitors enforce: 0"; err != nil || list != want {
		t.Errorf("boulangerie's CM's rules =\n%s\nwant\n%s (%v)", list, want, err)
	}
	arcadeCM := "telegram:333333333"
	rs.Communities[2].Desk.CMs = []string{arcadeCM}
	if list, _ = c.Rules(ctx, arcadeCM); !strings.Contains(list, "\nnewcomer_links enforce, off in arcade: 0\ncompetitors enforce, off in arcade: 0") {
		t.Errorf("arcade's CM's rules =\n%s", list)
	}
	if list, _ = c.Rules(ctx, fileCM); !strings.Contains(list, "(hits today)\nflood enforce: 3\n") {
		t.Errorf("the file's CM's rules =\n%s", list)
	}
	text, png, err := c.Report(ctx, time.Hour, boulangerieCM)
	if err != nil || text != "report of boulangerie" || string(png) != "png" {
		t.Errorf("boulangerie's CM's report = %q, %q, %v", text, png, err)
	}
	rs.Communities[0].Desk.CMs = append(rs.Communities[0].Desk.CMs, arcadeCM)
	text, png, err = c.Report(ctx, time.Hour, arcadeCM)
	if err != nil || text != "report of boulangerie\n\nreport of arcade" || png != nil {
		t.Errorf("a CM of two communities' report = %q, %q, %v", text, png, err)
	}
	if text, _, _ = c.Report(ctx, time.Hour, fileCM); text != "report of everything" {
		t.Errorf("the file's CM's report = %q", text)
	}
	if want := []string{"boulangerie", "boulangerie", "arcade", ""}; !slices.Equal(reported, want) {
		t.Errorf("reports built for %q, want %q", reported, want)
	}
}

// /warns lists the member's cases of the community where it is asked: a
// moderator of arcade's server (Discord's own rights there) does not read
// velo's cases about the same account, nor velo's about arcade's.
func TestWarnsKeepToTheCommunity(t *testing.T) {
	rs, err := rules.Parse("rules.yaml", agencyFile(t), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	m, _ := newModerator(t, st, nil, &chat{recorder: recorder{name: "discord"}})
	m.SetCommunities(rs)
	ctx := t.Context()
	const velo, arcade, outside = "123456789012345601", "123456789012345603", "999"
	for i, space := range []string{velo, velo, arcade, outside} {
		ev := bot.Event{ID: fmt.Sprintf("m-%d", i), Platform: "discord", Kind: bot.KindMessage, Space: space,
			Author: bot.Author{ID: "u-9", Name: "Zed"}, At: at.Add(time.Duration(i) * time.Second)}
		if err := m.OpenCase(ctx, store.Case{Event: ev, Rule: fmt.Sprintf("flood-%s-%d", space, i), Reason: "flood"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		space string
		want  string
	}{
		{arcade, "1 case."},
		{velo, "2 cases."},
		{outside, "1 case."},
	} {
		member := bot.Event{Platform: "discord", Space: tc.space, Author: bot.Author{ID: "u-9", Name: "Zed"}}
		text, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModWarns, Target: member, By: "discord:555", Private: true})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, "\n"+tc.want) {
			t.Errorf("/warns in %s = %q, want %q", tc.space, text, tc.want)
		}
		for _, other := range []string{velo, arcade, outside} {
			if other != tc.space && strings.Contains(text, "flood-"+other) {
				t.Errorf("/warns in %s shows a case of %s: %q", tc.space, other, text)
			}
		}
	}
}
