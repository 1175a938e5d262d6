package bot_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/vigie-bot/vigie/bot"
)

// runOut is a hold whose lease ran out once out is set.
type runOut struct{ out atomic.Bool }

func (h *runOut) Check() error {
	if h.out.Load() {
		return bot.ErrLeaseRunOut
	}
	return nil
}

// TestLeaseCheckedRefusesOnceRunOut: a call whose context carries a lease
// that may have run out never reaches the server; one under a lease that
// holds, or under none, does.
func TestLeaseCheckedRefusesOnceRunOut(t *testing.T) {
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got.Add(1) }))
	defer srv.Close()
	c := &http.Client{Transport: bot.LeaseChecked(nil)}
	h := &runOut{}
	do := func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	held := bot.WithLeaseHold(context.Background(), h)
	if err := do(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := do(held); err != nil {
		t.Fatal(err)
	}
	h.out.Store(true)
	if err := do(held); !errors.Is(err, bot.ErrLeaseRunOut) {
		t.Errorf("call under a lease run out: %v, want bot.ErrLeaseRunOut", err)
	}
	if n := got.Load(); n != 2 {
		t.Errorf("the server got %d calls, want 2: the one under a lease run out was sent", n)
	}
	if err := do(context.Background()); err != nil {
		t.Errorf("a call of no job refused: %v", err)
	}
}

// TestWithoutLeaseHold: work a job hands on, stripped of its hold, is not
// refused once the job's lease ran out.
func TestWithoutLeaseHold(t *testing.T) {
	h := &runOut{}
	h.out.Store(true)
	ctx := bot.WithLeaseHold(context.Background(), h)
	if err := bot.CheckLease(ctx); err == nil {
		t.Fatal("a hold run out passes")
	}
	if err := bot.CheckLease(bot.WithoutLeaseHold(ctx)); err != nil {
		t.Errorf("work handed on refused: %v", err)
	}
}
