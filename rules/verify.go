package rules

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Verify is the verify: section: a button that new members press to show they
// are not a robot, within a time limit, before they may speak. Until they do,
// they are held (a Telegram restriction, a Discord timeout or role), and rules
// see author.verified false.
type Verify struct {
	// On says the section is written: verification runs on Telegram groups
	// and Discord servers alike.
	On bool
	// Timeout is how long a new member has to press the button.
	Timeout time.Duration
	// OnFail is what happens to a member who did not press it in time:
	// VerifyKick or VerifyKeep.
	OnFail string
	// Message is the prompt's text; {name} is the member's name.
	Message string
	// Button is the button's label.
	Button string
	// DiscordChannel is where Discord prompts are posted; empty sends them
	// to the member privately.
	DiscordChannel string
	// DiscordRole, when set, is a role given to new Discord members until
	// they press the button (the server's channels deny it the right to
	// speak), instead of a timeout.
	DiscordRole string
	// Line and Col are where the section is written, for vigie run's warning
	// when no platform that can ask is on.
	Line, Col int
}

// What happens to a member who did not press the button in time.
const (
	// VerifyKick removes them from the place; they may come back.
	VerifyKick = "kick"
	// VerifyKeep leaves them held, for the CMs to decide.
	VerifyKeep = "keep"
)

// Defaults and bounds of the verify: section.
const (
	DefaultVerifyTimeout = 5 * time.Minute
	DefaultVerifyMessage = "Welcome {name}! Press the button below within {timeout} to show you are not a robot."
	DefaultVerifyButton  = "I'm not a robot"
	minVerifyTimeout     = 30 * time.Second
	maxVerifyTimeout     = 24 * time.Hour
)

// Prompt is the message shown to the member called name.
func (v Verify) Prompt(name string) string {
	return strings.NewReplacer("{name}", name, "{timeout}", shortDuration(v.Timeout)).Replace(v.Message)
}

// shortDuration writes 5m0s as 5m and 1h30m0s as 1h30m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

type verifySpec struct {
	On             bool
	Timeout        time.Duration
	OnFail         string
	Message        string
	Button         string
	DiscordChannel string
	DiscordRole    string
	Line, Col      int
}

// decodeVerify reads a verify: section, the file's (where is "verify") or a
// community's.
func (d *decoder) decodeVerify(n *yaml.Node, where string) verifySpec {
	vs := verifySpec{On: true, Line: n.Line, Col: n.Column}
	m, ok := d.mapping(n, where, "timeout", "on_fail", "message", "button", "discord_channel", "discord_role")
	if !ok {
		return vs
	}
	if e, ok := m["timeout"]; ok {
		if w, ok := d.duration(e.Value, where+".timeout"); ok {
			if w.D < minVerifyTimeout || w.D > maxVerifyTimeout {
				d.errorf(resolve(e.Value), "%s.timeout: %s is out of bounds (30s to 24h)", where, e.Value.Value)
			} else {
				vs.Timeout = w.D
			}
		}
	}
	if e, ok := m["on_fail"]; ok {
		if s, ok := d.str(e.Value, where+".on_fail"); ok {
			switch s {
			case VerifyKick, VerifyKeep:
				vs.OnFail = s
			default:
				d.errorf(resolve(e.Value), "%s.on_fail: unknown outcome %q (want kick or keep)", where, s)
			}
		}
	}
	text := func(key string, max int) string {
		e, ok := m[key]
		if !ok {
			return ""
		}
		s, ok := d.str(e.Value, where+"."+key)
		if ok && len([]rune(s)) > max {
			d.errorf(resolve(e.Value), "%s.%s: %d characters is too long (at most %d)", where, key, len([]rune(s)), max)
			return ""
		}
		return s
	}
	// A Telegram button label and a Discord one are at most 80 characters
	// where both platforms agree; a prompt stays well within a message.
	vs.Message = text("message", 1500)
	vs.Button = text("button", 80)
	id := func(key string) string {
		s := text(key, 30)
		if s == "" {
			return ""
		}
		if _, err := strconv.ParseUint(s, 10, 64); err != nil {
			d.errorf(resolve(m[key].Value), "%s.%s: %q is not a Discord id, like 123456789012345678", where, key, s)
			return ""
		}
		return s
	}
	vs.DiscordChannel = id("discord_channel")
	vs.DiscordRole = id("discord_role")
	return vs
}

// decodeCommunityVerify reads a community's verify:: a section like the
// file's, or off (false) for none in its places.
func (d *decoder) decodeCommunityVerify(n *yaml.Node, where string) *verifySpec {
	if r := resolve(n); r.Kind == yaml.ScalarNode {
		if r.Value == "off" || r.Value == "false" {
			return &verifySpec{Line: r.Line, Col: r.Column}
		}
		d.errorf(r, "%s: want a section like the file's verify: ({} for its defaults), or off", where)
		return nil
	}
	vs := d.decodeVerify(n, where)
	return &vs
}

// ownVerify is a community's verify: over the file's: what it does not say
// comes from the file's section (or the defaults), but for discord_channel
// and discord_role, which are one server's own.
func ownVerify(file, own verifySpec) verifySpec {
	if !own.On {
		return own
	}
	if file.On {
		own.Timeout = cmp.Or(own.Timeout, file.Timeout)
		own.OnFail = cmp.Or(own.OnFail, file.OnFail)
		own.Message = cmp.Or(own.Message, file.Message)
		own.Button = cmp.Or(own.Button, file.Button)
	}
	return own
}

// VerifyFor is the verification of new members in a place: its community's
// own verify: when it has one, else the file's.
func (rs *Ruleset) VerifyFor(platform, space string) Verify {
	if c := rs.CommunityOf(platform, space); c != nil && c.Verify != nil {
		return *c.Verify
	}
	return rs.Verify
}

// VerifyPlaces are the places of platform (their spaces) whose community has
// its own verify:, with it.
func (rs *Ruleset) VerifyPlaces(platform string) map[string]Verify {
	var out map[string]Verify
	for _, c := range rs.Communities {
		if c.Verify == nil {
			continue
		}
		for _, p := range c.Places {
			pl, space, _ := strings.Cut(p, ":")
			if pl != platform {
				continue
			}
			if out == nil {
				out = map[string]Verify{}
			}
			out[space] = *c.Verify
		}
	}
	return out
}

// VerifyAnywhere reports whether the file's verify: or a community's is on.
func (rs *Ruleset) VerifyAnywhere() bool {
	return rs.Verify.On || slices.ContainsFunc(rs.Communities, func(c Community) bool { return c.Verify != nil && c.Verify.On })
}

func compileVerify(vs verifySpec) Verify {
	if !vs.On {
		return Verify{}
	}
	v := Verify{On: true, Timeout: vs.Timeout, OnFail: vs.OnFail, Message: vs.Message, Button: vs.Button,
		DiscordChannel: vs.DiscordChannel, DiscordRole: vs.DiscordRole, Line: vs.Line, Col: vs.Col}
	if v.Timeout == 0 {
		v.Timeout = DefaultVerifyTimeout
	}
	if v.OnFail == "" {
		v.OnFail = VerifyKick
	}
	if v.Message == "" {
		v.Message = DefaultVerifyMessage
	}
	if v.Button == "" {
		v.Button = DefaultVerifyButton
	}
	return v
}

// verifySchema is the verify: section in the rule file's schema.
func verifySchema() obj {
	return jsDesc(jsStrict(obj{
		"timeout":         jsDuration("How long a new member has to press the button (default 5m, 30s to 24h)."),
		"on_fail":         jsOneOf("What happens to a member who did not press in time: kick (default) or keep them held for the CMs.", VerifyKick, VerifyKeep),
		"message":         jsScalar("The prompt; {name} is the member's name, {timeout} the time limit."),
		"button":          jsScalar("The button's label (default \"I'm not a robot\")."),
		"discord_channel": jsScalar("The Discord channel where prompts are posted; without it they are sent privately."),
		"discord_role":    jsScalar("A Discord role held until the button is pressed, instead of a timeout."),
	}), "A button that new members press within a time limit to show they are not a robot (Telegram groups and Discord servers); rules see author.verified.")
}
