package telegram

import (
	"encoding/json"
	"fmt"
	"testing"
)

// BenchmarkGroupIntake is what a group message costs on the way in, without
// and with the moderators' commands' look at it (remembering its id for
// /purge, checking for a command), side by side: 1,000 members writing in
// turn in one group.
func BenchmarkGroupIntake(b *testing.B) {
	c, err := New(Config{Token: fakeToken})
	if err != nil {
		b.Fatal(err)
	}
	c.selfID.Store(botUserID)
	var raws [][]byte
	for i := range 1000 {
		u := map[string]any{"update_id": i, "message": message(group, i+1, tgUser{id: int64(10000 + i), first: "M", user: fmt.Sprint("m", i)}, t0, "hello there, how are you today?")}
		raw, _ := json.Marshal(u)
		raws = append(raws, raw)
	}
	for _, withMod := range []bool{false, true} {
		b.Run(fmt.Sprintf("modcmds=%v", withMod), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				u, err := decodeUpdate(raws[i%len(raws)])
				if err != nil {
					b.Fatal(err)
				}
				if withMod && c.modUpdate(b.Context(), u) {
					b.Fatal("a message taken as a command")
				}
				if len(c.events(u)) != 1 {
					b.Fatalf("no event from %s", raws[i%len(raws)])
				}
				i++
			}
		})
	}
	// What the look adds, alone, on messages already decoded.
	ups := make([]update, len(raws))
	for i, raw := range raws {
		ups[i], _ = decodeUpdate(raw)
	}
	b.Run("modUpdate-alone", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if c.modUpdate(b.Context(), ups[i%len(ups)]) {
				b.Fatal("a message taken as a command")
			}
			i++
		}
	})
}
