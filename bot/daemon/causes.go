package daemon

import (
	"errors"
	"fmt"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/bot/telegram"
	"github.com/vigie-bot/vigie/handlers"
)

// failureCause names the refusal behind a failed action when every such
// action in its place would meet it (handlers.Options.FailureCause), so
// that their cases share one card on the desk: vigie's token refused, or a
// platform's refusal for good by its code (a Discord 50013 or 50001, a
// Telegram "not enough rights" or "message can't be deleted", a Graph
// permission missing). A failure worth another try (an outage, a rate
// limit vigie waits out) is no cause: its actions may yet be carried out, and
// the platform watch (actionWatch) tells of an outage. A rate limit longer
// than vigie waits is one: every action behind it in the place is left as a
// case at once, a scam wave's each, and one card counting them tells the CMs
// more than a card each. Meta's page token refused is one of its own
// (handlers.PageTokenCause): what it left is carried out once Meta takes a
// token again (limitEnded). Nor is one about the member (the member above
// vigie) or about the event itself (no message to delete).
func failureCause(err error) string {
	if _, ok := longRateLimit(err); ok {
		return handlers.LongLimitCause
	}
	var ae *bot.ActionError
	if !errors.As(err, &ae) || ae.Retryable || errors.Is(err, bot.ErrOutranked) {
		return ""
	}
	if tokenRefused(err) {
		if errors.As(err, new(*meta.GraphError)) {
			// carried out once Meta takes a token again
			return handlers.PageTokenCause
		}
		return "token refused"
	}
	var te *telegram.APIError
	if errors.As(err, &te) {
		return fmt.Sprintf("telegram %d %s", te.Code, te.Description)
	}
	var de *discord.APIError
	if errors.As(err, &de) {
		return fmt.Sprintf("discord %d %d", de.Status, de.Code)
	}
	var ge *meta.GraphError
	if errors.As(err, &ge) && !ge.Transient {
		return fmt.Sprintf("graph %d %d", ge.Code, ge.Subcode)
	}
	return ""
}
