package rules_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

// The starter pack loads without warnings other than its unset desk chat, and
// its own tests pass.
func TestExampleFile(t *testing.T) {
	rs, err := rules.Parse("../rules.example.yaml", mustRead(t, "../rules.example.yaml"), rules.LoadOptions{
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range rs.Warnings {
		t.Log("warning:", w)
	}
	for _, r := range rs.RunTests(context.Background()) {
		if !r.Passed() {
			t.Errorf("test %q (line %d):\n  %s", r.Name, r.Line, joinLines(r.Failures))
		}
	}
}

// A community that welcomes its partners' invitations puts discord.gg in the
// starter pack's lists/allowed-domains.txt: an invitation then passes, while a
// shortened link, or an invitation beside a site not allowed, is still taken
// down.
func TestExampleAllowedInvitations(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"rules.example.yaml", "lists", "models"} {
		copyTree(t, filepath.Join("..", f), filepath.Join(dir, f))
	}
	allowed := filepath.Join(dir, "lists", "allowed-domains.txt")
	if err := os.WriteFile(allowed, append(mustRead(t, allowed), "discord.gg\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Load(filepath.Join(dir, "rules.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	defer st.Close()
	eng := rules.NewEngine(rs, st, rules.Options{})
	at := time.Date(2026, 11, 18, 14, 0, 0, 0, time.UTC)
	for i, tt := range []struct {
		text string
		want string // the rules matched, joined by commas
	}{
		{"our partners: https://discord.gg/abcdef", ""},
		{"the partners' server discord.gg/abcdef and the trailer https://youtu.be/dQw4w9WgXcQ", ""},
		{"regarde ça https://bit.ly/3xYz", "risky-links"},
		{"join discord.gg/abcdef and https://t.me/somegroup", "risky-links"},
	} {
		ev := bot.Event{ID: fmt.Sprint("m", i), Platform: "discord", Kind: bot.KindMessage, Space: "g", Channel: "general",
			Author: bot.Author{ID: fmt.Sprint("u", i), CreatedAt: at.AddDate(-5, 0, 0), JoinedAt: at.AddDate(-2, 0, 0)},
			Text:   tt.text, At: at.Add(time.Duration(i) * time.Minute)}
		v, err := eng.Evaluate(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range v.Matches {
			got = append(got, m.Rule)
		}
		if strings.Join(got, ",") != tt.want {
			t.Errorf("%q: rules %q, want %q", tt.text, got, tt.want)
		}
	}
}

// copyTree copies the file or folder src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	fi, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	if fi.IsDir() {
		err = os.CopyFS(dst, os.DirFS(src))
	} else {
		err = os.WriteFile(dst, mustRead(t, src), 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}
