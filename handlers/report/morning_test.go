package report_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/rules"
)

// pictureDesk keeps the pictures and texts the desk was sent.
type pictureDesk struct {
	mu       sync.Mutex
	texts    []string
	pictures [][]byte
}

func (d *pictureDesk) Alert(_ context.Context, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.texts = append(d.texts, text)
	return nil
}

func (d *pictureDesk) Picture(_ context.Context, text, name string, b []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.texts = append(d.texts, text)
	d.pictures = append(d.pictures, b)
	return nil
}

// TestMorningReport plays the night, then the clock crosses 09:00 on Friday: the
// desk gets one report of the night (19:00 to 09:00) with its chart, even with
// two instances sharing the store, and nothing more at 09:01.
func TestMorningReport(t *testing.T) {
	nt, _ := playNight(t)
	rs, err := rules.Parse("night.yaml", []byte(nightRules), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := at(20, 8, 58, 0)
	src := report.Source{Store: nt.st, Events: nt.counts, Location: paris}
	desks := []*pictureDesk{{}, {}}
	var mornings []*report.Morning
	for _, d := range desks {
		mornings = append(mornings, report.NewMorning(report.MorningOptions{
			Source: func() report.Source { return src }, Store: nt.st, Desk: d,
			AfterHours: rs.AfterHours, Schedule: rs.AfterHours, Now: func() time.Time { return now },
		}))
	}
	ctx := context.Background()
	sent := 0
	for _, minute := range []int{58, 59, 60, 61} {
		now = at(20, 8, minute, 0)
		for _, m := range mornings {
			if m.Check(ctx) {
				sent++
			}
		}
	}
	if sent != 1 {
		t.Fatalf("sent %d reports", sent)
	}
	var d *pictureDesk
	for _, x := range desks {
		if len(x.pictures) > 0 {
			d = x
		}
	}
	if d == nil || len(d.texts) != 1 || len(d.pictures) != 1 {
		t.Fatalf("desks got %+v", desks)
	}
	for _, want := range []string{
		"Good morning. Report Thu 19 Nov 2026 19:00 → Fri 20 Nov 2026 09:00 (Europe/Paris)",
		"72 events, 29 flagged, 31 actions",
		"insult 25 (2 overturned)",
	} {
		if !strings.Contains(d.texts[0], want) {
			t.Errorf("report lacks %q:\n%s", want, d.texts[0])
		}
	}
	if _, err := png.Decode(bytes.NewReader(d.pictures[0])); err != nil {
		t.Errorf("chart: %v", err)
	}
}

// TestMorningAfterAWeekend covers Friday 19:00 to Monday 09:00.
func TestMorningAfterAWeekend(t *testing.T) {
	nt := newNight(t)
	rs, _ := rules.Parse("night.yaml", []byte(nightRules), rules.LoadOptions{})
	now := at(23, 8, 59, 0)
	d := &pictureDesk{}
	m := report.NewMorning(report.MorningOptions{
		Source: func() report.Source { return report.Source{Store: nt.st, Location: paris} },
		Store:  nt.st, Desk: d, AfterHours: rs.AfterHours, Schedule: rs.AfterHours,
		Now: func() time.Time { return now },
	})
	m.Check(context.Background())
	now = at(23, 9, 0, 0)
	if !m.Check(context.Background()) || !strings.Contains(d.texts[0], "Report Fri 20 Nov 2026 19:00 → Mon 23 Nov 2026 09:00") {
		t.Errorf("weekend report: %q", d.texts)
	}
}

// TestMorningRunStartedAgain: the report's job ran here last night, then in
// another instance; it comes back at 14:00. What this instance saw last
// night (after hours) says nothing of now: it does not report at 14:00.
func TestMorningRunStartedAgain(t *testing.T) {
	nt := newNight(t)
	rs, _ := rules.Parse("night.yaml", []byte(nightRules), rules.LoadOptions{})
	now := at(19, 23, 0, 0)
	d := &pictureDesk{}
	m := report.NewMorning(report.MorningOptions{
		Source: func() report.Source { return report.Source{Store: nt.st, Location: paris} },
		Store:  nt.st, Desk: d, AfterHours: rs.AfterHours, Schedule: rs.AfterHours,
		Now: func() time.Time { return now },
	})
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	m.Run(stopped) // one look, after hours, and the job moves away
	now = at(20, 14, 0, 0)
	m.Run(stopped) // the job is back, in office hours
	if len(d.texts) != 0 {
		t.Errorf("a report at 14:00 from what was seen last night: %q", d.texts)
	}
}

// communityDesk keeps the texts by community ("" for the file's desk).
type communityDesk struct {
	pictureDesk
	community map[string]string
}

func (d *communityDesk) AlertCommunity(_ context.Context, community, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.community[community] = text
	return nil
}

// The morning report goes whole to the file's desk, with its chart, and to
// each community with a desk of its own its own figures; a community whose
// cases go to the file's desk gets none.
func TestMorningReportPerCommunity(t *testing.T) {
	nt := newNight(t)
	for i := range 8 {
		nt.event(at(19, 22, 0, i), "discord", "123456789012345678", "flooder", fmt.Sprint("spam ", i))
	}
	for i := range 25 {
		nt.event(at(19, 23, 0, i*10), "facebook", "104523749012345", fmt.Sprint("angry", i%6), "quel idiot, ce service")
	}
	rs, err := rules.Parse("night.yaml", []byte(nightRules+`
communities:
  shop:
    places: [facebook:104523749012345]
    desk: {telegram_chat: "-1002"}
  club:
    places: [discord:123456789012345678]
`), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src := report.Source{Store: nt.st, Events: nt.counts, Location: paris}
	d := &communityDesk{community: map[string]string{}}
	m := report.NewMorning(report.MorningOptions{
		Source: func() report.Source { return src }, Store: nt.st, Desk: d,
		AfterHours: rs.AfterHours, Schedule: rs.AfterHours,
		Rules: func() *rules.Ruleset { return rs },
	})
	if err := m.Send(context.Background(), at(19, 19, 0, 0), at(20, 9, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if len(d.texts) != 1 || len(d.pictures) != 1 || !strings.Contains(d.texts[0], "33 events, 28 flagged") {
		t.Errorf("file's desk got %q", d.texts)
	}
	if len(d.community) != 1 {
		t.Fatalf("communities' desks got %q, want shop's alone", d.community)
	}
	shop := d.community["shop"]
	for _, want := range []string{"Good morning, shop. Report", "insult 25"} {
		if !strings.Contains(shop, want) {
			t.Errorf("shop's report lacks %q:\n%s", want, shop)
		}
	}
	if strings.Contains(shop, "flood") {
		t.Errorf("shop's report counts the club's flood:\n%s", shop)
	}
}

// flakyDesk refuses the reports while down, as a platform in an outage does.
type flakyDesk struct {
	communityDesk
	down    bool
	refused int
}

func (d *flakyDesk) Picture(ctx context.Context, text, name string, b []byte) error {
	if d.down {
		d.refused++
		return errors.New("telegram: 502 Bad Gateway")
	}
	return d.pictureDesk.Picture(ctx, text, name, b)
}

func (d *flakyDesk) AlertCommunity(ctx context.Context, community, text string) error {
	if d.down {
		d.refused++
		return errors.New("telegram: 502 Bad Gateway")
	}
	return d.communityDesk.AlertCommunity(ctx, community, text)
}

// The report's job moves to another instance around 09:00 (the one that had
// it stopped at 08:59:30): the first look of the new owner, at 09:00:40,
// sends the report the old one never saw the change-over for; a third
// instance that takes the job at 09:02 does not send it again.
func TestMorningJobMovedAtTheChangeOver(t *testing.T) {
	nt := newNight(t)
	rs, _ := rules.Parse("night.yaml", []byte(nightRules), rules.LoadOptions{})
	now := at(20, 8, 59, 30)
	desks := []*pictureDesk{{}, {}, {}}
	var mornings []*report.Morning
	for _, d := range desks {
		mornings = append(mornings, report.NewMorning(report.MorningOptions{
			Source: func() report.Source { return report.Source{Store: nt.st, Location: paris} },
			Store:  nt.st, Desk: d, AfterHours: rs.AfterHours, Schedule: rs.AfterHours,
			Now: func() time.Time { return now },
		}))
	}
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	mornings[0].Run(stopped) // one look, after hours, and the instance is gone
	now = at(20, 9, 0, 40)
	mornings[1].Run(stopped) // the new owner's first look
	now = at(20, 9, 2, 0)
	mornings[2].Run(stopped)
	if len(desks[0].texts)+len(desks[2].texts) != 0 || len(desks[1].texts) != 1 ||
		!strings.Contains(desks[1].texts[0], "Report Thu 19 Nov 2026 19:00 → Fri 20 Nov 2026 09:00") {
		t.Errorf("desks got %q, %q, %q; want one report, from the new owner", desks[0].texts, desks[1].texts, desks[2].texts)
	}
}

// The desk is down at 09:00 (a platform outage): the report is tried again
// each minute and shown once the desk takes it, on the file's desk and on the
// community's, for the same night; a desk down for more than an hour is given
// up on.
func TestMorningDeskDown(t *testing.T) {
	nt := newNight(t)
	rs, err := rules.Parse("night.yaml", []byte(nightRules+`
communities:
  shop:
    places: [facebook:104523749012345]
    desk: {telegram_chat: "-1002"}
`), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := at(20, 8, 59, 0)
	d := &flakyDesk{communityDesk: communityDesk{community: map[string]string{}}, down: true}
	m := report.NewMorning(report.MorningOptions{
		Source: func() report.Source { return report.Source{Store: nt.st, Location: paris} },
		Store:  nt.st, Desk: d, AfterHours: rs.AfterHours, Schedule: rs.AfterHours,
		Rules: func() *rules.Ruleset { return rs },
		Now:   func() time.Time { return now },
	})
	ctx := context.Background()
	for _, minute := range []int{59, 60, 61, 62} {
		now = at(20, 8, minute, 0)
		if m.Check(ctx) {
			t.Fatalf("sent at 08:%d while the desk is down", minute)
		}
	}
	if d.refused != 6 {
		t.Errorf("%d tries, want 6 (three checks, two desks)", d.refused)
	}
	d.down = false
	now = at(20, 9, 3, 0)
	if !m.Check(ctx) {
		t.Fatal("not sent when the desk came back")
	}
	if len(d.texts) != 1 || !strings.Contains(d.texts[0], "Report Thu 19 Nov 2026 19:00 → Fri 20 Nov 2026 09:00") ||
		!strings.Contains(d.community["shop"], "Good morning, shop.") {
		t.Errorf("desks got %q and %q", d.texts, d.community)
	}
	now = at(20, 9, 4, 0)
	if m.Check(ctx) || len(d.texts) != 1 {
		t.Errorf("sent again: %q", d.texts)
	}

	// On Monday morning the desk stays down: tried for an hour (here at the
	// checks of 09:00, 09:30 and 10:00), then given up.
	d.down, d.refused = true, 0
	for _, hm := range [][2]int{{8, 59}, {9, 0}, {9, 30}, {10, 0}, {10, 1}, {10, 2}} {
		now = at(23, hm[0], hm[1], 0)
		m.Check(ctx)
	}
	if d.refused != 6 {
		t.Errorf("%d tries on Monday morning, want 6 (at 09:00, 09:30 and 10:00, two desks)", d.refused)
	}
}
