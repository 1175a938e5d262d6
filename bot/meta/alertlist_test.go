package meta_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/meta"
)

// alertList is a desk that keeps the alerts it is told, for one connector
// or several (c.AlertWith(l.alert)).
type alertList struct {
	mu     sync.Mutex
	alerts []string
}

func (l *alertList) alert(_ context.Context, text string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.alerts = append(l.alerts, text)
	return nil
}

// all is what the desk was told, in order.
func (l *alertList) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.alerts...)
}

// told counts the alerts holding part.
func (l *alertList) told(part string) int {
	n := 0
	for _, a := range l.all() {
		if strings.Contains(a, part) {
			n++
		}
	}
	return n
}

// runConnector runs c, its events going to a channel of size buffered,
// until the test ends.
func runConnector(t *testing.T, c *meta.Connector, buffered int) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, make(chan bot.Event, buffered)) }()
	t.Cleanup(func() { cancel(); <-done })
}
