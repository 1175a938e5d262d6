package report_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// sharedChats are the desks' chats as the platform keeps them, whichever
// instance posts: every report shown, by chat ("" for the file's desk).
type sharedChats struct {
	mu    sync.Mutex
	shown map[string][]string
}

func (c *sharedChats) show(chat, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shown[chat] = append(c.shown[chat], text)
}

// instanceDesk is one instance's way to the shared chats; fileDown: the
// file's desk refuses what this instance posts.
type instanceDesk struct {
	chats    *sharedChats
	fileDown bool
}

func (d *instanceDesk) Alert(_ context.Context, text string) error {
	if d.fileDown {
		return errors.New("telegram: 502 Bad Gateway")
	}
	d.chats.show("", text)
	return nil
}

func (d *instanceDesk) AlertCommunity(_ context.Context, community, text string) error {
	d.chats.show(community, text)
	return nil
}

// At 09:00 the instance that claims the report has it refused by the file's
// desk, and taken by the shop community's desk; it is then gone (a deploy),
// and another instance takes the report over once the claim's hold ran out.
// The file's desk gets the report once, from the new owner, and the shop's
// desk keeps the one it had: not a second, for the same night.
func TestMorningTakenOverAfterACommunityGotIt(t *testing.T) {
	rs, err := rules.Parse("night.yaml", []byte(nightRules+`
communities:
  shop:
    places: [facebook:104523749012345]
    desk: {telegram_chat: "-1002"}
`), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for name, st := range redistest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			chats := &sharedChats{shown: map[string][]string{}}
			now := at(20, 8, 59, 0)
			morning := func(d *instanceDesk) *report.Morning {
				return report.NewMorning(report.MorningOptions{
					Source: func() report.Source { return report.Source{Store: st, Location: paris} },
					Store:  st, Desk: d, AfterHours: rs.AfterHours, Schedule: rs.AfterHours,
					Rules: func() *rules.Ruleset { return rs },
					Now:   func() time.Time { return now },
				})
			}
			first := morning(&instanceDesk{chats: chats, fileDown: true})
			first.Check(ctx)
			now = at(20, 9, 0, 0)
			if first.Check(ctx) {
				t.Fatal("the file's desk took the report while it refuses it")
			}
			if got := chats.shown["shop"]; len(got) != 1 {
				t.Fatalf("the shop's desk got %d reports at 09:00, want 1", len(got))
			}
			// The first instance is gone; the second has the report's job.
			second := morning(&instanceDesk{chats: chats})
			for _, tm := range [][2]int{{1, 0}, {2, 30}, {3, 30}} {
				now = at(20, 9, tm[0], tm[1])
				second.Check(ctx)
			}
			if got := chats.shown[""]; len(got) != 1 || !strings.Contains(got[0], fridayNight) {
				t.Errorf("the file's desk got %q; want the night's report once", got)
			}
			if got := chats.shown["shop"]; len(got) != 1 {
				t.Errorf("the shop's desk got %d reports of the same night, want 1:\n%s", len(got), strings.Join(got, "\n---\n"))
			}
		})
	}
}
