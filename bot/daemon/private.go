package daemon

import (
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/telegram"
)

// The private messages people send to the bot (a Telegram private chat)
// are judged by an evaluator of their own, beside those of the community's
// spaces, and may keep only so many waiting: anyone can write to a bot, and
// a flood of strangers' messages in the evaluators' queues would have the
// groups' spam wait behind it, or stall the source that hands both over
// (Telegram's updates come in one stream). Past its share a private message
// is let go, counted and logged once a minute; a group's event never is.
const (
	// privateQueue is how many private messages may wait to be judged, of
	// every author together.
	privateQueue = 256
	// privatePerAuthor is how many of them one author may have waiting: a
	// single stranger does not crowd out the members asking the FAQ.
	privatePerAuthor = 8
)

// privateMessage reports whether ev was written to the bot in private: a
// DM, or the edit of one (a Telegram private chat's id is its user's; on a
// page, the Page's own comment has the page's id for author and space).
func privateMessage(ev *bot.Event) bool {
	return ev.Kind == bot.KindDM ||
		(ev.Kind == bot.KindEdit && ev.Platform == telegram.Platform && ev.Space != "" && ev.Space == ev.Author.ID)
}

// privateLane is the private messages' queue, bounded in all and by author.
type privateLane struct {
	q       chan bot.Event
	dropped *bot.Refusals

	mu      sync.Mutex
	waiting map[string]int // by platform and author, only those waiting
}

func newPrivateLane(log *slog.Logger, reg prometheus.Registerer, now func() time.Time) *privateLane {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigie_private_messages_dropped_total",
		Help: "Private messages to the bot let go unjudged, past their share of the evaluators: by platform and reason (author_share: " +
			"their author had 8 waiting; queue_full: 256 waited). The log has the first, then a line a minute at most.",
	}, []string{"platform", "reason"})
	if reg != nil {
		reg.MustRegister(c)
	}
	return &privateLane{q: make(chan bot.Event, privateQueue), dropped: bot.NewRefusalsOf(log, now, c, "platform"), waiting: map[string]int{}}
}

// offer queues ev without waiting, and reports whether it did; when it did
// not, ev is counted and logged as dropped.
func (p *privateLane) offer(ev bot.Event) bool {
	who := ev.Platform + "\x00" + ev.Author.ID
	p.mu.Lock()
	if p.waiting[who] >= privatePerAuthor {
		p.mu.Unlock()
		p.dropped.Refuse(ev.Platform, "author_share", "private messages let go unjudged: their author has "+
			"too many waiting (a stranger flooding the bot); the community's spaces go first", "author", ev.Author.ID)
		return false
	}
	select {
	case p.q <- ev:
		p.waiting[who]++
		p.mu.Unlock()
		return true
	default:
		p.mu.Unlock()
		p.dropped.Refuse(ev.Platform, "queue_full", "private messages let go unjudged: too many waiting "+
			"(a flood of private messages to the bot); the community's spaces go first", "waiting", privateQueue)
		return false
	}
}

// taken is told once ev, taken from the queue, is judged.
func (p *privateLane) taken(ev *bot.Event) {
	who := ev.Platform + "\x00" + ev.Author.ID
	p.mu.Lock()
	if p.waiting[who]--; p.waiting[who] <= 0 {
		delete(p.waiting, who)
	}
	p.mu.Unlock()
}
