package discord

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// openTimeout is how long a new gateway connection may stay silent before its
// first dispatch (READY, or RESUMED after a resume).
const openTimeout = time.Minute

var errStopped = errors.New("discord: stopped")

// gatewayConns gives discordgo's gateway connections a deadline for the gateway's
// first words. discordgo's Open takes no context and reads HELLO and READY without
// a deadline: a gateway that accepts the connection and then says nothing would
// hold Run, and vigie's shutdown, for ever.
type gatewayConns struct {
	timeout time.Duration
	mu      sync.Mutex
	stopped bool
	conn    *gatewayConn // the newest connection
}

// start lets connections be made, as Run begins.
func (g *gatewayConns) start() {
	g.mu.Lock()
	g.stopped = false
	g.mu.Unlock()
}

// stop refuses new connections and cuts the newest one if the gateway has not
// spoken on it yet: Open then fails at once. A connection in use is left to
// Session.Close.
func (g *gatewayConns) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	if c := g.conn; c != nil && !c.first.IsZero() {
		c.first = time.Now()
		_ = c.applyLocked()
	}
}

// heard lifts the first-words deadline: the gateway dispatched an event.
func (g *gatewayConns) heard() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c := g.conn; c != nil && !c.first.IsZero() {
		c.first = time.Time{}
		_ = c.applyLocked()
	}
}

// dial is the websocket dialer's NetDialContext.
func (g *gatewayConns) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	g.mu.Lock()
	stopped := g.stopped
	g.mu.Unlock()
	if stopped {
		return nil, errStopped
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		conn.Close()
		return nil, errStopped
	}
	c := &gatewayConn{Conn: conn, g: g, first: time.Now().Add(g.timeout)}
	if err := c.applyLocked(); err != nil {
		conn.Close()
		return nil, err
	}
	g.conn = c
	return c, nil
}

// gatewayConn is a connection whose reads end at the first-words deadline too,
// whatever deadlines the websocket library sets (it clears them after the
// handshake).
type gatewayConn struct {
	net.Conn
	g     *gatewayConns
	read  time.Time // the read deadline the library asked for; guarded by g.mu
	first time.Time // the first-words deadline, zero once lifted; guarded by g.mu
}

func (c *gatewayConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

func (c *gatewayConn) SetReadDeadline(t time.Time) error {
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	c.read = t
	return c.applyLocked()
}

// applyLocked sets the earlier of the two deadlines on the connection.
func (c *gatewayConn) applyLocked() error {
	d := c.read
	if !c.first.IsZero() && (d.IsZero() || c.first.Before(d)) {
		d = c.first
	}
	return c.Conn.SetReadDeadline(d)
}
