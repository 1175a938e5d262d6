package discord

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/vigie-bot/vigie/bot"
)

// A token reset or revoked while vigie runs closes the gateway with 4004, and
// discordgo then tries to reconnect for ever, telling only its own logger. So
// once the gateway has been down for TokenCheckAfter, vigie asks Discord's
// REST API who it is: a 401 means the token is refused, which is logged once
// and becomes the link's problem (/-/ready, vigie_source_up) until the gateway
// is back. A token taken, vigie asks for its application's flags too: a
// privileged intent turned off in the Developer Portal while vigie runs closes
// each new session with 4014, told only to discordgo's logger as well.

// DefaultTokenCheckAfter is how long the gateway may be down before vigie asks
// whether Discord still takes the token.
const DefaultTokenCheckAfter = 30 * time.Second

// maxTokenCheckWait caps the wait between two checks while the gateway stays
// down: each 401 counts towards Discord's ban of invalid requests.
const maxTokenCheckWait = 10 * time.Minute

// tokenRefusedHelp is what to do about a token Discord refuses.
const tokenRefusedHelp = "Discord refused the token (check DISCORD_TOKEN, or reset it under Bot in the Developer Portal)"

// tokenWatch is the state of the token checks: the link's changes wake it.
type tokenWatch struct {
	wake chan struct{} // a link change, for watchToken to look again
	mu   sync.Mutex
	// refused: the last check was a 401, and the gateway is not back since;
	// told: a refusal was logged, and the gateway is not back since.
	refused, told bool
	// intents names the privileged intents vigie asks for that the last
	// check found turned off ("" when none), and intentsTold says that was
	// logged, until the gateway is back.
	intents     string
	intentsTold bool
}

// privilegedIntents are the intents an application may use only once they are
// turned on in the Developer Portal, with the application flags that say they
// are (the approved one of a bot in 100 servers or more, and the "limited" one
// of a smaller bot, which the switch sets).
var privilegedIntents = []struct {
	intent discordgo.Intent
	flags  int
	name   string
}{
	{discordgo.IntentGuildMembers, 1<<14 | 1<<15, "Server Members Intent"},
	{discordgo.IntentGuildPresences, 1<<12 | 1<<13, "Presence Intent"},
	{discordgo.IntentMessageContent, 1<<18 | 1<<19, "Message Content Intent"},
}

// intentsHelp is what to do about privileged intents turned off.
func intentsHelp(names string) string {
	return "Discord refuses the gateway intents vigie asks for: turn on " + names +
		" in the Developer Portal (your application, Bot, Privileged Gateway Intents)"
}

// linkChanged wakes watchToken.
func (c *Client) linkChanged() {
	select {
	case c.tw.wake <- struct{}{}:
	default:
	}
}

// watchToken checks the token each time the gateway has been down for
// TokenCheckAfter, then again after twice as long each time, until the gateway
// is back or ctx ends.
func (c *Client) watchToken(ctx context.Context) {
	var since time.Time // the outage being watched
	var timer *time.Timer
	var fire <-chan time.Time
	wait := c.cfg.TokenCheckAfter
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case <-c.tw.wake:
		case <-fire:
			fire = nil
			if l := c.link.Link(); !l.Up && l.Since.Equal(since) {
				c.checkToken(ctx)
				wait = min(wait*2, maxTokenCheckWait)
				timer.Reset(wait)
				fire = timer.C
			}
			continue
		}
		l := c.link.Link()
		switch {
		case l.Up:
			since, fire = time.Time{}, nil
			if timer != nil {
				timer.Stop()
			}
		case !l.Since.Equal(since): // a new outage
			since, wait = l.Since, c.cfg.TokenCheckAfter
			if timer == nil {
				// On the wall clock: a network check (GET /users/@me) while the gateway is down.
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			fire = timer.C
		}
	}
}

// checkToken asks Discord who vigie is. A 401 marks the token refused (logged
// when it starts); an answer lifts a refusal; any other failure says nothing
// of the token.
func (c *Client) checkToken(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err := c.sess.User("@me", discordgo.WithContext(ctx))
	var re *discordgo.RESTError
	refused := errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusUnauthorized
	if err != nil && !refused {
		c.log.Debug("token check", "err", c.withoutToken(err))
		return
	}
	// A token taken while the gateway stays down: the intents may be what
	// Discord refuses (close 4014 at each IDENTIFY, told to discordgo only).
	intents, intentsKnown := "", false
	if !refused {
		intents, intentsKnown = c.intentsOff(ctx)
	}
	c.tw.mu.Lock()
	// linkUp marks the link up before it forgets a refusal: a gateway back
	// while Discord was being asked is seen here, and wins.
	l := c.link.Link()
	if l.Up {
		c.tw.mu.Unlock()
		return
	}
	c.tw.refused = refused
	tell := refused && !c.tw.told
	c.tw.told = c.tw.told || refused
	if intentsKnown {
		c.tw.intents = intents
	}
	tellIntents := c.tw.intents != "" && !c.tw.intentsTold
	c.tw.intentsTold = c.tw.intentsTold || tellIntents
	c.tw.mu.Unlock()
	if tell {
		c.log.Error(tokenRefusedHelp+": the gateway is down and nothing is received or moderated on Discord until vigie runs with a token Discord takes; cases wait",
			"down_since", l.Since.UTC().Format(time.RFC3339))
	}
	if tellIntents {
		c.log.Error(intentsHelp(intents)+": the gateway is down and nothing is received or moderated on Discord until then; "+
			"vigie tries again after a growing delay (10 minutes at most); cases wait",
			"down_since", l.Since.UTC().Format(time.RFC3339))
	}
}

// intentsOff asks Discord for vigie's application flags and names the
// privileged intents vigie asks for that are turned off; known is false
// when Discord could not be asked.
func (c *Client) intentsOff(ctx context.Context) (names string, known bool) {
	raw, err := c.sess.RequestWithBucketID("GET", discordgo.EndpointApplication("@me"), nil, discordgo.EndpointApplication("@me"), opts(ctx)...)
	var app struct {
		Flags *int `json:"flags"`
	}
	if err != nil || json.Unmarshal(raw, &app) != nil || app.Flags == nil {
		c.log.Debug("application check", "err", err)
		return "", false
	}
	var off []string
	for _, p := range privilegedIntents {
		if c.sess.Identify.Intents&p.intent != 0 && *app.Flags&p.flags == 0 {
			off = append(off, p.name)
		}
	}
	return strings.Join(off, " and "), true
}

// tokenLink is l with the token's refusal as its problem while the gateway is
// down and the last check was refused.
func (c *Client) tokenLink(l bot.Link) bot.Link {
	c.tw.mu.Lock()
	defer c.tw.mu.Unlock()
	switch {
	case l.Up:
	case c.tw.refused:
		l.Problem = tokenRefusedHelp + ": the gateway is refused and GET /users/@me answers 401"
	case c.tw.intents != "":
		l.Problem = intentsHelp(c.tw.intents) + ": the gateway is refused and the application's flags say they are off"
	}
	return l
}

// tokenBack forgets a refusal, as the gateway is back, and reports whether
// one was logged.
func (c *Client) tokenBack() bool {
	c.tw.mu.Lock()
	defer c.tw.mu.Unlock()
	told := c.tw.told
	c.tw.refused, c.tw.told = false, false
	c.tw.intents, c.tw.intentsTold = "", false
	return told
}

// withoutToken is err's text with the bot's token, which discordgo's errors
// may carry (a URL, a header), written <token>: for the log, the health
// page and the cases.
func (c *Client) withoutToken(err error) string {
	return strings.ReplaceAll(err.Error(), c.cfg.Token, "<token>")
}
