package report_test

import (
	"bytes"
	"context"
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
