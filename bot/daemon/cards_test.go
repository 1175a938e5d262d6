package daemon_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestCardEditedByTheInstanceThatDecides runs two vigie on one Redis, each
// with its own way to the Bot API (two fakes, for the test to tell their
// calls apart): the case posted to the desk by one is decided over the HTTP
// API of the other, which edits the card the first one posted.
func TestCardEditedByTheInstanceThatDecides(t *testing.T) {
	const token, desk, group = "t0ken", -100500, -100200
	url := redistest.URL(t)
	prefix := fmt.Sprintf("vigietest-daemoncards-%d-%d", os.Getpid(), time.Now().UnixNano())
	apis := []*tgfake.Server{tgfake.New(t), tgfake.New(t)}
	var ins []*instance
	for _, api := range apis {
		ins = append(ins, start(t, telegramRules, map[string]string{
			"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
			"VIGIE_REDIS_URL": url, "VIGIE_REDIS_PREFIX": prefix, "VIGIE_ADMIN_TOKEN": token,
			// Its poller starts 3.6s after it found no lease, not 18s.
			"VIGIE_LEASE_TTL": "3s", "VIGIE_LEASE_TTL_MAX": "3s",
		}))
	}

	// A scam in a group the first instance takes the updates of: a case,
	// posted by whichever instance the store hands it to.
	apis[0].Push(groupMessage(group, 8, "Eve", "FREE NITRO here"))
	poster := -1
	testsync.Eventually(t, "the case card", func() bool {
		for i, api := range apis {
			if len(find(api, "sendMessage", "chat_id", strconv.Itoa(desk))) > 0 {
				poster = i
			}
		}
		return poster >= 0
	})
	other := 1 - poster
	st := redistest.Open(t, url, redis.WithPrefix(prefix))
	ctx := context.Background()
	open, err := st.Cases(ctx, store.CaseOpen)
	if err != nil || len(open) != 1 {
		t.Fatalf("open cases = %v, %v; want the scam", open, err)
	}
	id := open[0].ID
	var cards []string
	testsync.Eventually(t, "where the card is, in the store", func() bool {
		refs, err := st.CaseCards(ctx, id)
		cards = cards[:0]
		for _, r := range refs {
			cards = append(cards, r.Chat+"/"+r.Message)
		}
		return err == nil && len(refs) == 1
	})

	r := ins[other].do(t, "POST", "/v1/cases/"+id+"/decision", []byte(`{"outcome": "keep", "by": "ann"}`),
		map[string]string{"Authorization": "Bearer " + token})
	if r.code != 200 {
		t.Fatalf("decision over HTTP = %d %s", r.code, r.body)
	}
	edits := find(apis[other], "editMessageText", "chat_id", strconv.Itoa(desk))
	if len(edits) != 1 || edits[0].Get("chat_id")+"/"+edits[0].Get("message_id") != cards[0] {
		t.Fatalf("edits by the instance that decided = %v, want the card at %s", edits, cards[0])
	}
	if text := edits[0].Get("text"); !strings.Contains(text, "Kept") || !strings.Contains(text, "decided by http:ann") {
		t.Errorf("card:\n%s", text)
	}
	if edits[0].Get("reply_markup") != "" {
		t.Errorf("the decided card keeps its buttons: %s", edits[0].Get("reply_markup"))
	}
	if n := len(find(apis[poster], "editMessageText", "chat_id", strconv.Itoa(desk))); n != 0 {
		t.Errorf("%d edits by the instance that only posted the card, want 0", n)
	}
	// One card: the case was handed to one instance. (Two vigie in one
	// process once shared their name in the desk's consumer group, and
	// under load both posted the card, the decider editing its own too.)
	for i, api := range apis {
		if n := len(find(api, "sendMessage", "chat_id", strconv.Itoa(desk))); i != poster && n != 0 || i == poster && n != 1 {
			t.Errorf("instance %d posted %d cards to the desk; want one card, by instance %d", i, n, poster)
		}
	}
}
