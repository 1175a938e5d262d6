package rules

import (
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// ModLog is the modlog: section: where every action, the rules' and the
// moderators', is written as one line for the moderators to read back. A
// community of the communities: section may have its own, with the same keys.
type ModLog struct {
	// TelegramChat logs the actions in Telegram groups, and on pages
	// (Facebook, Instagram) and other platforms; empty logs none there.
	TelegramChat string
	// DiscordChannel logs the actions in every Discord guild without its own
	// channel in DiscordChannels.
	DiscordChannel string
	// DiscordChannels are the log channels by guild id.
	DiscordChannels map[string]string
	// Wave is how long the hits of one rule in one place share a line, whose
	// count goes up as they come (DefaultModLogWave when not written).
	Wave time.Duration
}

// Bounds of modlog.wave.
const (
	DefaultModLogWave = 2 * time.Minute
	minModLogWave     = 10 * time.Second
	maxModLogWave     = time.Hour
)

// On reports whether the mod-log is written anywhere.
func (l ModLog) On() bool {
	return l.TelegramChat != "" || l.DiscordChannel != "" || len(l.DiscordChannels) > 0
}

type modLogSpec struct {
	TelegramChat    string
	DiscordChannel  string
	DiscordChannels map[string]string
	Wave            time.Duration
}

func (d *decoder) decodeModLog(n *yaml.Node) modLogSpec {
	var ms modLogSpec
	m, ok := d.mapping(n, "modlog", "telegram_chat", "discord_channel", "discord_channels", "wave")
	if !ok {
		return ms
	}
	// id reads one chat or channel id; an unset ${ENV} is a warning and no id.
	id := func(v *yaml.Node, where string, signed bool) string {
		d.unset = d.unset[:0]
		s, ok := d.str(v, where)
		for _, name := range d.unset {
			d.warnf(resolve(v), "%s: environment variable %s is not set", where, name)
		}
		if !ok || s == "" {
			return ""
		}
		var err error
		if signed {
			_, err = strconv.ParseInt(s, 10, 64)
		} else {
			_, err = strconv.ParseUint(s, 10, 64)
		}
		if err != nil {
			what := "a Discord channel id, like 123456789012345678"
			if signed {
				what = "a Telegram chat id, like -1001234567890"
			}
			d.errorf(resolve(v), "%s: %q is not %s", where, s, what)
			return ""
		}
		return s
	}
	if e, ok := m["telegram_chat"]; ok {
		ms.TelegramChat = id(e.Value, "modlog.telegram_chat", true)
	}
	if e, ok := m["discord_channel"]; ok {
		ms.DiscordChannel = id(e.Value, "modlog.discord_channel", false)
	}
	if e, ok := m["discord_channels"]; ok {
		v := resolve(e.Value)
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		case v.Kind != yaml.MappingNode:
			d.errorf(v, "modlog.discord_channels: expected a mapping of guild ids to channel ids, got %s", kindName(v))
		default:
			ms.DiscordChannels = map[string]string{}
			for i := 0; i+1 < len(v.Content); i += 2 {
				k := resolve(v.Content[i])
				guild := id(k, "modlog.discord_channels", false)
				if guild == "" {
					continue
				}
				if _, dup := ms.DiscordChannels[guild]; dup {
					d.errorf(k, "modlog.discord_channels: guild %s written twice", guild)
					continue
				}
				if ch := id(v.Content[i+1], "modlog.discord_channels."+guild, false); ch != "" {
					ms.DiscordChannels[guild] = ch
				}
			}
		}
	}
	if e, ok := m["wave"]; ok {
		if w, ok := d.duration(e.Value, "modlog.wave"); ok {
			if w.D < minModLogWave || w.D > maxModLogWave {
				d.errorf(resolve(e.Value), "modlog.wave: %s is out of bounds (10s to 1h)", e.Value.Value)
			} else {
				ms.Wave = w.D
			}
		}
	}
	return ms
}

func compileModLog(ms modLogSpec) ModLog {
	l := ModLog{TelegramChat: ms.TelegramChat, DiscordChannel: ms.DiscordChannel, DiscordChannels: ms.DiscordChannels, Wave: ms.Wave}
	if l.Wave == 0 {
		l.Wave = DefaultModLogWave
	}
	return l
}

// modLogSchema is the modlog: section in the rule file's schema.
func modLogSchema() obj {
	return jsDesc(jsStrict(obj{
		"telegram_chat":   jsScalar("The Telegram chat where the actions in Telegram groups (and on pages) are logged, one line each."),
		"discord_channel": jsScalar("The Discord channel where the actions in Discord servers are logged, unless discord_channels names one for the server."),
		"discord_channels": obj{"type": []string{"object", "null"}, "propertyNames": obj{"pattern": `^\s*[0-9]+\s*$`},
			"additionalProperties": jsScalar(""), "description": "Discord server id → the channel id where its actions are logged."},
		"wave": jsDuration("How long the hits of one rule in one place share a line whose count goes up (default 2m, 10s to 1h)."),
	}), "The mod-log: every action, the rules' and the moderators', as one line in a log chat or channel.")
}
