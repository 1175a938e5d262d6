package discord

import (
	"context"
	"errors"
	"net"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/bwmarrin/discordgo"
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
	// unheard counts the connections in a row the gateway closed before it
	// dispatched anything: no READY, no RESUMED.
	unheard int
	// forget, called in the middle of discordgo's Open, before it sends
	// IDENTIFY or RESUME, drops the session discordgo would resume.
	forget func()
}

// unheardBeforeIdentify is how many connections in a row may end without a
// word from the gateway before the next one starts a new session rather than
// resume the old one. The gateway may refuse a RESUME by closing the
// connection (4007 Invalid seq, 4009 Session timed out: "reconnect and start
// a new session"), and discordgo, which keeps the session id until a READY
// replaces it, would send the same RESUME for ever. Two, not one: a
// connection lost for other reasons costs the resume (the gap's messages are
// read from the channels' history then) only when it happens twice.
const unheardBeforeIdentify = 2

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
		// On the wall clock: a connection's deadline.
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
	// On the wall clock: a connection's deadline.
	c := &gatewayConn{Conn: conn, g: g, first: time.Now().Add(g.timeout)}
	if err := c.applyLocked(); err != nil {
		conn.Close()
		return nil, err
	}
	if prev := g.conn; prev != nil {
		if prev.first.IsZero() {
			g.unheard = 0
		} else {
			g.unheard++
		}
		if g.unheard >= unheardBeforeIdentify && g.forget != nil {
			g.unheard = 0
			g.forget()
		}
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

// forgetSession drops the session id and sequence number discordgo keeps, so
// that its next connection sends IDENTIFY instead of RESUME. discordgo offers
// no way to do it (it replaces them at READY only): they are its unexported
// fields sessionID and sequence, set here the way its Open reads them. It is
// called from within Open, which holds the session's lock. It reports false
// when the fields are not there (another discordgo): nothing is changed.
func forgetSession(s *discordgo.Session) bool {
	v := reflect.ValueOf(s).Elem()
	id, seq := v.FieldByName("sessionID"), v.FieldByName("sequence")
	if !id.IsValid() || id.Kind() != reflect.String || !seq.IsValid() || seq.Type() != reflect.TypeFor[*int64]() {
		return false
	}
	reflect.NewAt(id.Type(), unsafe.Pointer(id.UnsafeAddr())).Elem().SetString("")
	if p := *(**int64)(unsafe.Pointer(seq.UnsafeAddr())); p != nil {
		atomic.StoreInt64(p, 0)
	}
	return true
}
