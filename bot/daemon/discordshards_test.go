package daemon

import (
	"io"
	"log/slog"
	"reflect"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/rules"
)

// perShard are the methods of a discord.Client that belong to its own shard
// (its gateway, its desk, its verifications): the connector calls them on each
// Client, never through the platform the actions go to.
var perShard = map[string]bool{
	"Run": true, "RunShard": true, "Link": true, "Desk": true, "SetDesk": true, "SetVerify": true,
	"Shards": true, "VerifyDue": true, "RecommendedShards": true,
}

// With several shards (DISCORD_SHARD_COUNT, as several instances run them),
// the platform the actions go to can do all that one Client can: lockdown,
// slowmode and the mod-log were lost with two shards, said only as "discord
// cannot lockdown" at start.
func TestDiscordShardsDoWhatAClientDoes(t *testing.T) {
	rs, err := rules.Parse("rules.yaml", []byte("timezone: UTC\nrules: []\n"), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	platformOf := func(shards string) bot.Platform {
		t.Helper()
		env := map[string]string{"DISCORD_TOKEN": "x", "DISCORD_API_URL": "http://127.0.0.1:1/api/v9", "DISCORD_SHARD_COUNT": shards}
		cfg := Config{Getenv: func(k string) string { return env[k] }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		c, err := discordConnector(cfg, rs, prometheus.NewRegistry(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Platforms) != 1 {
			t.Fatalf("%s shards: %d platforms, want 1", shards, len(c.Platforms))
		}
		return c.Platforms[0]
	}
	one, two := platformOf("1"), platformOf("2")
	if _, ok := one.(*discord.Client); !ok {
		t.Fatalf("one shard: platform %T, want *discord.Client", one)
	}
	if _, ok := two.(*discordShards); !ok {
		t.Fatalf("two shards: platform %T, want *discordShards", two)
	}

	for _, k := range bot.ActionKinds {
		if bot.Capable(one, k) != bot.Capable(two, k) {
			t.Errorf("%s: one shard capable %v, two shards %v", k, bot.Capable(one, k), bot.Capable(two, k))
		}
	}
	if _, ok := two.(bot.LogPoster); !ok {
		t.Error("two shards: no mod-log (bot.LogPoster)")
	}
	if _, ok := two.(bot.LogEscaper); !ok {
		t.Error("two shards: mod-log lines not escaped (bot.LogEscaper)")
	}
	// Whatever a Client learns next is carried by the shards too.
	client, shards := reflect.TypeOf(one), reflect.TypeOf(two)
	for i := range client.NumMethod() {
		m := client.Method(i)
		if perShard[m.Name] {
			continue
		}
		sm, ok := shards.MethodByName(m.Name)
		if !ok {
			t.Errorf("*discord.Client has %s, *discordShards has not", m.Name)
			continue
		}
		// The receiver differs; the rest of the signature must not.
		if a, b := m.Type, sm.Type; a.NumIn() != b.NumIn() || a.NumOut() != b.NumOut() {
			t.Errorf("%s: %v on a Client, %v on the shards", m.Name, a, b)
		}
	}
}
