package console

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/bot"
)

// BenchmarkBacktest is the rules page's backtest of the starter pack over
// 100,000 stored events: the draft and the running rules, one replay each.
func BenchmarkBacktest(b *testing.B) {
	rs, err := vigie.LoadEmbedded()
	if err != nil {
		b.Fatal(err)
	}
	texts := []string{
		"salut tout le monde", "quelqu'un a testé la nouvelle mise à jour ?", "FREE NITRO claim it https://discord-gift.example.net/x",
		"vous livrez en Belgique ?", "t'es vraiment un idiot", "gg wp", "check my channel https://youtube.com/watch?v=abc",
		"le serveur est down ?", "BUY CHEAP FOLLOWERS NOW!!!", "merci pour l'aide", "who wants to trade skins",
	}
	at := time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)
	events := make([]bot.Event, 100_000)
	for i := range events {
		events[i] = bot.Event{ID: fmt.Sprintf("m%d", i), Platform: "discord", Kind: bot.KindMessage,
			Space: fmt.Sprintf("g%d", i%5), Channel: fmt.Sprintf("c%d", i%20),
			Author: bot.Author{ID: fmt.Sprintf("u%d", i%3000), Name: "member"},
			Text:   texts[i%len(texts)], At: at.Add(time.Duration(i) * 500 * time.Millisecond)}
	}
	ctx := context.Background()
	for b.Loop() {
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				if _, err := backtest(ctx, rs, events); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
}
