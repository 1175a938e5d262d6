package meta

import (
	"net/http"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// clearFor is how long a trouble Meta makes (the page token refused, a
// permission missing for a kind of action on the Page or on Instagram) must
// have held clear, with a call of its kind carried out at its start and no
// refusal since, before the desk is told it is over. Until then a refusal
// belongs to the same trouble, which the desk was told of once: Graph
// refusing and taking by turns (a flaky Graph, a permission granted on one
// side only) does not post a pair of messages each time. A trouble's alert
// and its end come at most once in clearFor.
const clearFor = 10 * time.Minute

// clearForText is clearFor as the desk and the log read it.
const clearForText = "10 minutes"

// trouble is a condition Meta holds on some of vigie's calls.
type trouble struct {
	// last is the last refusal; clear, the first call carried out since
	// (zero while none was).
	last, clear time.Time
	// on and what name it for the desk: where (Facebook, Instagram, ""
	// for both) and which kind of call.
	on, what string
}

// troubleKey names the trouble of a permission missing for op on on:
// where it is refused (the Page and the Instagram account are granted
// apart) and which kind of call, a read apart from the action it serves.
func troubleKey(on string, op bot.ActionKind, method string) (key, what string) {
	what = string(op)
	if method == http.MethodGet && op != "read" && op != "token check" && op != opBanCheck {
		what += " read-back"
	}
	return on + "|" + what, what
}

// troubleStarts records a refusal of key at now; it reports whether a new
// trouble starts, to be told. refusedMu is held.
func (g *graph) troubleStarts(key, on, what string, now time.Time) bool {
	if g.troubles == nil {
		g.troubles = map[string]*trouble{}
	}
	t, ok := g.troubles[key]
	if !ok {
		g.troubles[key] = &trouble{last: now, on: on, what: what}
		return true
	}
	t.last, t.clear = now, time.Time{}
	return false
}

// troubleEases records a call of key carried out at now; it reports whether
// it is the first since the last refusal of a trouble under way.
// refusedMu is held.
func (g *graph) troubleEases(key string, now time.Time) bool {
	t, ok := g.troubles[key]
	if !ok || !t.clear.IsZero() {
		return false
	}
	t.clear = now
	return true
}

// troublesOver forgets and returns the troubles that held clear for
// clearFor at now. refusedMu is held.
func (g *graph) troublesOver(now time.Time) map[string]trouble {
	var over map[string]trouble
	for k, t := range g.troubles {
		if !t.clear.IsZero() && now.Sub(t.clear) >= clearFor {
			if over == nil {
				over = map[string]trouble{}
			}
			over[k] = *t
			delete(g.troubles, k)
		}
	}
	return over
}

// settle tells of the troubles over: the page token taken again, a
// permission there again. Called after each Graph call, the token's check
// every TokenCheckEvery among them.
func (g *graph) settle() {
	g.tellMu.Lock()
	defer g.tellMu.Unlock()
	g.refusedMu.Lock()
	over := g.troublesOver(g.now())
	g.refusedMu.Unlock()
	for k, t := range over {
		if k == tokenTrouble {
			g.log.Info("Meta has taken the page token for " + clearForText + " without refusing it: the trouble is over")
			if g.changed != nil {
				g.changed(false, false, "")
			}
			continue
		}
		g.log.Info("Meta has carried out the action for "+clearForText+" without refusing it: its permission is there", "action", t.what, "on", t.on)
		if g.permission != nil {
			g.permission(t.on, t.what, false, "")
		}
	}
}

// tokenTrouble is the key of the trouble of the page token refused (or its
// proof): every call carries it, on the Page and on Instagram alike.
const tokenTrouble = "token"
