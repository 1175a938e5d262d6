package rules

import (
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// parseDuration reads a duration of the rule file: see bot.ParseDuration.
func parseDuration(s string) (time.Duration, error) { return bot.ParseDuration(s) }
