package bot

import "testing"

// BenchmarkDecodeEvent decodes an event as POST /v1/events receives it.
func BenchmarkDecodeEvent(b *testing.B) {
	data := []byte(`{"id":"l-1-42","platform":"discord","kind":"message","space":"s12","channel":"s12c3",` +
		`"author":{"id":"a-123456","name":"Member 123456","roles":["member"],"created_at":"2026-11-19T10:00:00Z"},` +
		`"text":"Salut tout le monde, quelqu'un a vu le stream d'hier soir ? C'était vraiment génial, merci à tous",` +
		`"at":"2026-11-20T22:10:00.123Z"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeEvent(data); err != nil {
			b.Fatal(err)
		}
	}
}
