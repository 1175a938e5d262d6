package daemon

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
)

// newModLog builds the mod-log on the platforms that can write its lines.
// VIGIE_PUBLIC_URL, the console's address as the moderators reach it, gives
// its lines a link to the member's cases.
func newModLog(cfg Config, platforms map[string]bot.Platform, reg prometheus.Registerer) (*handlers.ModLog, error) {
	posters := map[string]bot.LogPoster{}
	for name, p := range platforms {
		if lp, ok := p.(bot.LogPoster); ok {
			posters[name] = lp
		}
	}
	return handlers.NewModLog(handlers.ModLogOptions{
		Posters:    posters,
		PublicURL:  strings.TrimSpace(cfg.Getenv("VIGIE_PUBLIC_URL")),
		Logger:     cfg.Logger,
		Registerer: reg,
		Now:        cfg.Now,
	})
}

// setModLog says where the mod-log goes, as the rule file now says, and warns
// of a log chat or channel on a platform that is off.
func (d *daemon) setModLog(l rules.ModLog) {
	d.modlog.SetConfig(l)
	if l.TelegramChat != "" && !d.connected["telegram"] {
		d.log.Warn("modlog.telegram_chat is set but Telegram is off (TELEGRAM_TOKEN): those actions are not logged")
	}
	if (l.DiscordChannel != "" || len(l.DiscordChannels) > 0) && !d.connected["discord"] {
		d.log.Warn("modlog.discord_channel(s) is set but Discord is off (DISCORD_TOKEN): those actions are not logged")
	}
}
