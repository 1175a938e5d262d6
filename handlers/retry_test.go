package handlers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// TestRetryPutOffByRateLimits: the tries a rate limit put off, saying when
// to come back, are not among the attempts while the waits they asked add
// up to MaxWait at most; past it, they count again, and a failure with no
// such word counts at once. A stage that tries once tries once.
func TestRetryPutOffByRateLimits(t *testing.T) {
	limited := &bot.ActionError{Op: bot.ActDelete, Retryable: true, RetryAfter: time.Second, Err: errors.New("429")}
	broken := &bot.ActionError{Op: bot.ActDelete, Retryable: true, Err: errors.New("500")}
	var waited time.Duration
	r := Retry{Attempts: 4, MaxWait: 30 * time.Second, AfterFunc: func(d time.Duration, f func()) func() bool {
		waited += d
		f()
		return func() bool { return false }
	}}
	for _, tt := range []struct {
		name  string
		fails []error
		want  string // "" is success
		tries int
	}{
		{"ten rate limits of a second, then done", repeat(limited, 10), "", 11},
		{"rate limits past thirty seconds count", repeat(limited, 40), "gave up after 34 attempts", 34},
		{"failures with no word count at once", repeat(broken, 10), "gave up after 4 attempts", 4},
		{"rate limits then failures", append(repeat(limited, 5), repeat(broken, 10)...), "gave up after 9 attempts", 9},
		{"a stage that tries once", repeat(limited, 10), "tried once", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := r
			if tt.name == "a stage that tries once" {
				r.Attempts = 1
			}
			tries := 0
			err := r.Do(context.Background(), func(context.Context) error {
				tries++
				if tries <= len(tt.fails) {
					return tt.fails[tries-1]
				}
				return nil
			})
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if tries != tt.tries {
				t.Errorf("%d tries, want %d", tries, tt.tries)
			}
		})
	}
}

func repeat(err error, n int) []error {
	out := make([]error, n)
	for i := range out {
		out[i] = err
	}
	return out
}
