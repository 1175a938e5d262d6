package discord

import (
	"context"
	"errors"
	"time"

	"github.com/bwmarrin/discordgo"
)

// vigie, not discordgo, opens the gateway again after a lost connection.
// discordgo's own reconnection runs on whichever of its goroutines saw the
// connection fail (the reading loop, the heartbeat: both, when a connection
// dies under both), each an endless loop of Open that nothing outside
// ends: it ends only on ErrWSAlreadyOpen, and gorilla hands back the
// dialer's error unwrapped. Stopped, vigie's dialer refuses, and the loop
// went on after Run returned, every 10 minutes at most, for the life of
// the process, its Opens running alongside Run's Close. So the session is
// made with ShouldReconnectOnError off, and a Run owns one loop, the only
// caller of Open after the first: it ends before Run closes the session.

// Reconnection's waits between two tries while the gateway stays refused:
// discordgo's own (1s, doubled each time, 10 minutes at most).
const (
	firstReconnectWait = time.Second
	maxReconnectWait   = 10 * time.Minute
)

// connectionLost wakes keepConnected: the gateway's connection was closed,
// not by Run.
func (c *Client) connectionLost() {
	select {
	case c.connLost <- struct{}{}:
	default:
	}
}

// keepConnected opens the gateway again each time its connection is lost,
// after firstReconnectWait, then twice as long each time, up to
// maxReconnectWait, until a connection is open or ctx ends. Run waits for it
// before it closes the session: no Open of it may come after.
//
// The first try waits too. discordgo's reading loop and heartbeat read the
// session's gateway address without its lock when their connection fails,
// then take the lock to close it, and an Open that fails its dial clears
// that address: the wait lets each goroutine of the lost connection finish
// its Close, which orders its read before the next Open.
func (c *Client) keepConnected(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.connLost:
		}
		for wait := firstReconnectWait; ; wait = min(wait*2, maxReconnectWait) {
			if !c.reconnectWait(ctx, wait) {
				return
			}
			// A panic in Open is a failed try, as in Run's.
			var err error = errors.New("discord: panic while reconnecting to the gateway")
			c.guard.Do("discord gateway", func() { err = c.sess.Open() })
			if err == nil || errors.Is(err, discordgo.ErrWSAlreadyOpen) {
				break
			}
			if ctx.Err() != nil {
				return
			}
			c.log.Debug("gateway reconnection failed", "err", c.withoutToken(err))
		}
	}
}
