package store

import (
	"context"
	"slices"
	"sync"
	"time"
)

// CauseCard is the desk card that the cases of one cause share (see
// Case.Cause): the first case's, which counts the others as they come. It is
// kept in the store so that every instance on it, and this one after a
// restart, joins the same card rather than post its own.
type CauseCard struct {
	// Lead is the id of the case whose card it is.
	Lead string `json:"lead"`
	// Since is when Lead claimed it; the card takes cases for the window
	// JoinCause is given from then.
	Since time.Time `json:"since"`
	// Posted says that Lead's card is on the desk (CausePosted).
	Posted bool `json:"posted,omitempty"`
	// N counts the cases shown, Lead included; Shown is N as the card last
	// showed it (ShowCause).
	N     int `json:"n"`
	Shown int `json:"shown"`
	// Latest are the latest cases joined after Lead, oldest first, at most
	// MaxCauseLatest.
	Latest []CauseJoin `json:"latest,omitempty"`
	// Closed says that Lead was decided (CloseCause): the card shows that
	// decision, and the next case of the cause claims a new one.
	Closed bool `json:"closed,omitempty"`
}

// CauseJoin is what a cause's card says of one case it counts.
type CauseJoin struct {
	Case   string `json:"case"`
	Name   string `json:"name,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// MaxCauseLatest bounds CauseCard.Latest.
const MaxCauseLatest = 10

// CauseTurn is what JoinCause tells the case to do.
type CauseTurn int

const (
	// CausePost: the case's card is the cause's; post it (claimed now, or
	// claimed by this case before and not posted yet).
	CausePost CauseTurn = iota
	// CauseCounted: the card of the cause counts the case (it is its lead,
	// posted, or joined it now or before): no card of its own.
	CauseCounted
	// CauseWait: another case claimed the cause's card and has not posted
	// it yet; ask again later (its post may fail, and this case then
	// claims it).
	CauseWait
)

// CauseKeeper is offered by a store that keeps the cause cards. Each call is
// one step, atomic among the processes on the store. A card is forgotten
// twice its window after it was claimed.
type CauseKeeper interface {
	// JoinCause asks, for the case j about to be shown at now, what its
	// cause's card (scope: a desk and a cause) does with it. No card, one
	// closed or claimed window or longer before now: j claims it (N 1),
	// CausePost. j's own: CausePost until posted, then CauseCounted. A
	// posted card: j joins it (N goes up, j ends Latest) once, CauseCounted.
	// Another's card not posted yet: CauseWait, unchanged.
	JoinCause(ctx context.Context, scope string, j CauseJoin, now time.Time, window time.Duration) (CauseCard, CauseTurn, error)
	// CausePosted records that lead's card is on the desk; nothing if the
	// cause's card is another's.
	CausePosted(ctx context.Context, scope, lead string) error
	// ShowCause returns the cause's card and true when its count is to be
	// shown (posted, not closed, N not Shown), and sets Shown to N: of the
	// processes asking, one edits it for that count.
	ShowCause(ctx context.Context, scope string) (CauseCard, bool, error)
	// CloseCause closes the cause's card if lead is its lead (decided, or
	// never to be posted) and returns it, true; closed already counts.
	CloseCause(ctx context.Context, scope, lead string) (CauseCard, bool, error)
}

// CauseBook is a CauseKeeper in the process's memory: the memory store's,
// and the stand-in for a store that keeps none or does not answer. Its zero
// value is ready.
type CauseBook struct {
	mu    sync.Mutex
	cards map[string]*causeEntry
}

type causeEntry struct {
	card   CauseCard
	window time.Duration
	// cases are the ids of the cases the card counts.
	cases map[string]bool
}

var _ CauseKeeper = (*CauseBook)(nil)

// JoinCause is CauseKeeper's.
func (b *CauseBook) JoinCause(_ context.Context, scope string, j CauseJoin, now time.Time, window time.Duration) (CauseCard, CauseTurn, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cards == nil {
		b.cards = map[string]*causeEntry{}
	}
	for k, e := range b.cards {
		if now.Sub(e.card.Since) >= 2*e.window {
			delete(b.cards, k)
		}
	}
	e := b.cards[scope]
	if e == nil || e.card.Closed || now.Sub(e.card.Since) >= window {
		e = &causeEntry{card: CauseCard{Lead: j.Case, Since: now, N: 1, Shown: 1}, window: window, cases: map[string]bool{j.Case: true}}
		b.cards[scope] = e
		return e.card, CausePost, nil
	}
	card := &e.card
	switch {
	case card.Lead == j.Case && !card.Posted:
		return card.clone(), CausePost, nil
	case card.Lead == j.Case:
		return card.clone(), CauseCounted, nil
	case !card.Posted:
		return card.clone(), CauseWait, nil
	}
	if !e.cases[j.Case] {
		e.cases[j.Case] = true
		card.N++
		card.Latest = append(card.Latest, j)
		if len(card.Latest) > MaxCauseLatest {
			card.Latest = slices.Delete(card.Latest, 0, len(card.Latest)-MaxCauseLatest)
		}
	}
	return card.clone(), CauseCounted, nil
}

// CausePosted is CauseKeeper's.
func (b *CauseBook) CausePosted(_ context.Context, scope, lead string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.cards[scope]; e != nil && e.card.Lead == lead {
		e.card.Posted = true
	}
	return nil
}

// ShowCause is CauseKeeper's.
func (b *CauseBook) ShowCause(_ context.Context, scope string) (CauseCard, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.cards[scope]
	if e == nil || !e.card.Posted || e.card.Closed || e.card.N == e.card.Shown {
		return CauseCard{}, false, nil
	}
	e.card.Shown = e.card.N
	return e.card.clone(), true, nil
}

// CloseCause is CauseKeeper's.
func (b *CauseBook) CloseCause(_ context.Context, scope, lead string) (CauseCard, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.cards[scope]
	if e == nil || e.card.Lead != lead {
		return CauseCard{}, false, nil
	}
	e.card.Closed = true
	return e.card.clone(), true, nil
}

func (c *CauseCard) clone() CauseCard {
	out := *c
	out.Latest = slices.Clone(c.Latest)
	return out
}
