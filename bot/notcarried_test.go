package bot_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vigie-bot/vigie/bot"
)

// TestNotCarriedOutKeepsAnUnknownRefusalCut: a refusal without plain words
// keeps its own text, cut at 300 bytes between letters.
func TestNotCarriedOutKeepsAnUnknownRefusalCut(t *testing.T) {
	short := errors.New("delete: some platform said no (code 12345)")
	if got, want := bot.NotCarriedOut(short), "⚠️ Not carried out: delete: some platform said no (code 12345)"; got != want {
		t.Errorf("NotCarriedOut = %q, want %q", got, want)
	}
	long := errors.New(strings.Repeat("a", 299) + strings.Repeat("é", 100))
	got := bot.RefusalWords(long)
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "…") || len(got) > bot.NotCarriedRaw+len("…") ||
		!strings.HasPrefix(long.Error(), strings.TrimSuffix(got, "…")) {
		t.Errorf("RefusalWords of %d bytes = %q (%d bytes), want its first 300 bytes or fewer, whole letters, then …", len(long.Error()), got, len(got))
	}
	err := &bot.ActionError{Op: bot.ActBan, Err: short}
	if bot.RefusalWords(err) != "ban: "+short.Error() {
		t.Errorf("RefusalWords(%v) = %q", err, bot.RefusalWords(err))
	}
}
