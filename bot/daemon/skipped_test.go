package daemon_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	vigie "github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
)

// commentPage is a platform shaped like a page's comments: no timeout, no
// kick, no ban, no tag, no lockdown.
type commentPage struct{}

func (commentPage) Name() string                                   { return "page" }
func (commentPage) Delete(context.Context, bot.Event) error        { return nil }
func (commentPage) Hide(context.Context, bot.Event) error          { return nil }
func (commentPage) Unhide(context.Context, bot.Event) error        { return nil }
func (commentPage) Reply(context.Context, bot.Event, string) error { return nil }

// The starter pack on a platform without timeouts says once, at INFO, what is
// skipped there: a page that has no timeout is no mistake in the file, and a
// CM who turns every platform on must not be met by a wall of warnings.
func TestSkippedActionsAreSaidOncePerPlatform(t *testing.T) {
	in := start(t, "", map[string]string{"VIGIE_DESK_CHAT": "-100"}, func(c *daemon.Config) {
		c.ConfigPath = filepath.Join("..", "..", vigie.ExampleFile)
		c.Connectors = append(c.Connectors, daemon.Connector{Name: "page", Platforms: []bot.Platform{commentPage{}}})
	})
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	logs := in.logs.String()
	var skipped []string
	for line := range strings.Lines(logs) {
		// The desk's chat is the one setting the starter pack leaves to the CM.
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "rules:") && !strings.Contains(line, "VIGIE_DESK_CHAT") {
			t.Errorf("a warning caused by the starter pack: %s", line)
		}
		if strings.Contains(line, "cannot") && strings.Contains(line, "skipped") {
			skipped = append(skipped, line)
		}
	}
	var page []string
	for _, l := range skipped {
		if !strings.Contains(l, "level=INFO") {
			t.Errorf("not at INFO: %s", l)
		}
		if strings.Contains(l, "platform=page") {
			page = append(page, l)
		}
	}
	if len(page) != 1 || !strings.Contains(page[0], "page cannot timeout, tag, lockdown, kick;") ||
		!strings.Contains(page[0], "timeout=flood,mass-mentions,") || !strings.Contains(page[0], "kick=raid-new-accounts") || !strings.Contains(page[0], "lockdown=raid ") {
		t.Errorf("want one INFO line for the page, got %q", page)
	}
}
