package telegram

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestLimiterReservations(t *testing.T) {
	start := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		sends []int64 // chat of each send, all asked at start
		hold  map[int64]time.Duration
		want  time.Duration // the last send's slot, after start
	}{
		{name: "first message goes at once", sends: []int64{5}, want: 0},
		{name: "one a second in a chat", sends: []int64{5, 5, 5}, want: 2 * time.Second},
		{name: "different private chats do not wait", sends: []int64{5, 6, 7}, want: 0},
		{name: "twenty a minute in a group", sends: repeat(-100, 21), want: time.Minute},
		{name: "thirty a second in all", sends: count(1, 31), want: time.Second},
		{name: "a 429 holds the chat", sends: []int64{5}, hold: map[int64]time.Duration{5: 7 * time.Second}, want: 7 * time.Second},
		{name: "a 429 in one chat does not hold another", sends: []int64{6}, hold: map[int64]time.Duration{5: 7 * time.Second}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter(telegramLimits, func() time.Time { return start })
			for chat, d := range tt.hold {
				l.hold(chat, d)
			}
			var last time.Time
			for _, chat := range tt.sends {
				last = l.reserve(chat)
			}
			if got := last.Sub(start); got != tt.want {
				t.Errorf("last send at +%s, want +%s", got, tt.want)
			}
		})
	}
}

func TestLimiterForgetsThePast(t *testing.T) {
	now := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	l := newLimiter(telegramLimits, func() time.Time { return now })
	for range 20 {
		l.reserve(-100)
		now = now.Add(time.Second)
	}
	// Twenty sends spread over twenty seconds: the twenty-first waits for the
	// first to leave the minute; once past it, sends go at once again.
	if got := l.reserve(-100).Sub(now); got != 40*time.Second {
		t.Errorf("21st send waits %s, want 40s", got)
	}
	now = now.Add(2 * time.Minute)
	if got := l.reserve(-100); !got.Equal(now) {
		t.Errorf("after two quiet minutes the send waits until %s", got)
	}
}

// In the bubble, the limiter's clock is the bubble's (time.Now): it starts at
// midnight UTC, 1 January 2000, whatever the date, and moves only as the
// limiter's waits do.
func TestLimiterWaitIsContextAware(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(telegramLimits, time.Now)
		ctx := context.Background()
		start := l.now()
		for range 3 {
			if err := l.wait(ctx, 5); err != nil {
				t.Fatal(err)
			}
		}
		if got := l.now().Sub(start); got != 2*time.Second {
			t.Errorf("three messages to one chat took %s, want 2s", got)
		}
		ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		if err := l.wait(ctx, 5); err != context.DeadlineExceeded {
			t.Errorf("wait = %v, want the context's error", err)
		}
	})
}

// A send booked before a 429 came for the chat, waiting for its slot, does
// not go before the retry_after Telegram asked for: it waits for the hold's
// end.
func TestLimiterBookedSendWaitsForALaterHold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(telegramLimits, time.Now)
		start := l.now()
		if err := l.wait(t.Context(), -100); err != nil {
			t.Fatal(err)
		}
		sent := make(chan time.Time)
		go func() {
			_ = l.wait(t.Context(), -100) // booked at +1s, the chat's gap
			sent <- l.now()
		}()
		synctest.Wait()
		// The first send's answer: 429, retry after 5 seconds.
		l.hold(-100, 5*time.Second)
		if got := (<-sent).Sub(start); got < 5*time.Second {
			t.Errorf("the send booked before the 429 went at +%s, before the 5s asked", got)
		}
	})
}

func repeat(chat int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = chat
	}
	return out
}

func count(from int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = from + int64(i)
	}
	return out
}

// Reservations are bounded: a raid's sends do not book the rest of the night,
// and a send that gave up gives its slot back to the next one.
func TestLimiterReservationsAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(telegramLimits, time.Now)
		ctx := context.Background()
		// A group takes 20 a minute: 60 sends fill 3 minutes, and the 61st
		// is refused at once instead of waiting past them.
		for range 60 {
			l.reserve(-100)
		}
		if err := l.wait(ctx, -100); err != errNoSlot {
			t.Errorf("61st send = %v, want errNoSlot", err)
		}
		if n := len(l.chats[-100].minute); n != 60 {
			t.Errorf("%d bookings after a refused send, want 60", n)
		}

		// A send whose context ends gives its slot back.
		l2 := newLimiter(telegramLimits, time.Now)
		l2.reserve(5)
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error)
		go func() { done <- l2.wait(cctx, 5) }() // books +1s
		synctest.Wait()
		cancel()
		if err := <-done; err != context.Canceled {
			t.Fatalf("cancelled wait = %v", err)
		}
		if got := l2.reserve(5).Sub(l2.now()); got != time.Second {
			t.Errorf("the next send waits %s, want the cancelled one's slot (1s)", got)
		}
	})
}

// A message that may wait only a little fails at once when the chat's next
// slot is later, and gives the slot back to the messages that may wait.
func TestLimiterPatience(t *testing.T) {
	start := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	l := newLimiter(telegramLimits, func() time.Time { return start })
	for range 20 {
		l.reserve(-100) // the group's minute is booked
	}
	if err := l.waitWithin(t.Context(), -100, 2*time.Second); err != errNoSlot {
		t.Fatalf("waitWithin = %v, want errNoSlot", err)
	}
	if got := l.reserve(-100).Sub(start); got != time.Minute {
		t.Errorf("the next send is at +%s, want +1m0s: the impatient one's slot was not given back", got)
	}
	if err := l.waitWithin(t.Context(), 5, 2*time.Second); err != nil {
		t.Errorf("a quiet private chat: waitWithin = %v", err)
	}
}

// The same stranger is told of a refusal once per refusalGap in each chat.
func TestRefusalsOncePerGap(t *testing.T) {
	now := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	r := newRefusals(func() time.Time { return now })
	if !r.first(-100, 666) || r.first(-100, 666) {
		t.Fatal("want the first refusal told, the second not")
	}
	if !r.first(-100, 667) || !r.first(666, 666) {
		t.Error("another stranger, or the same one in another chat, is told too")
	}
	now = now.Add(refusalGap)
	if !r.first(-100, 666) {
		t.Error("told again after refusalGap")
	}
}
