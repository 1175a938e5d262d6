package daemon

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"

	"github.com/vigie-bot/vigie/bot"
)

// MaxConnections is the most connections vigie's HTTP server holds at once,
// when the process may open enough files (maxConnections).
const MaxConnections = 4096

// maxConnections is how many connections the server holds: MaxConnections,
// or half the files the process may open when that is fewer, so that the
// other half stays for Redis, the platforms, the journal and the rule file.
func maxConnections(openFiles uint64) int {
	if openFiles == 0 || openFiles/2 >= MaxConnections {
		return MaxConnections
	}
	return max(int(openFiles/2), 1)
}

// connLimit is the HTTP listener, holding at most max connections. A
// connection whose request is being handled is never closed here; one that
// waits for nothing (kept alive between requests, or still sending its
// first headers) is, the one that has waited longest first, to take a new
// one in. A stranger who opens connections and keeps them open, or sends
// their headers a byte at a time, would otherwise have vigie hold a file
// for each until the process may open no more: no request, webhook or
// event, would come in, and no connection to Redis or a platform could be
// made, for as long as the stranger cares to hold them.
type connLimit struct {
	net.Listener
	max      int
	refusals *bot.Refusals

	mu    sync.Mutex
	conns map[*limitedConn]struct{}
	// tick orders the connections by when they last began to wait.
	tick uint64
}

func newConnLimit(ln net.Listener, max int, refusals *bot.Refusals) *connLimit {
	return &connLimit{Listener: ln, max: max, refusals: refusals, conns: make(map[*limitedConn]struct{})}
}

// limitedConn is a connection the server holds. serving counts its requests
// being handled (HTTP/2 has several at once); waiting is the tick at which
// it last began to wait for one.
type limitedConn struct {
	net.Conn
	l       *connLimit
	once    sync.Once
	serving int
	waiting uint64
}

func (c *limitedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

func (l *connLimit) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		var oldest *limitedConn
		if len(l.conns) >= l.max {
			for c := range l.conns {
				if c.serving == 0 && (oldest == nil || c.waiting < oldest.waiting) {
					oldest = c
				}
			}
			if oldest == nil {
				l.mu.Unlock()
				conn.Close()
				l.refusals.Refuse("connections", "all_busy", "connection refused: vigie holds as many connections as it may, each with a request being handled",
					"remote", conn.RemoteAddr().String(), "max", l.max)
				continue
			}
			delete(l.conns, oldest)
		}
		l.tick++
		c := &limitedConn{Conn: conn, l: l, waiting: l.tick}
		l.conns[c] = struct{}{}
		l.mu.Unlock()
		if oldest != nil {
			oldest.Close()
			l.refusals.Refuse("connections", "idle_closed", "connection closed to take a new one: vigie holds as many connections as it may, and this one waited longest with no request",
				"remote", oldest.RemoteAddr().String(), "max", l.max)
		}
		return c, nil
	}
}

// connKey is the context key of the request's connection.
type connKey struct{}

// connContext is the server's ConnContext: the request's handler finds its
// connection there.
func (l *connLimit) connContext(ctx context.Context, c net.Conn) context.Context {
	if t, ok := c.(*tls.Conn); ok {
		c = t.NetConn()
	}
	if lc, ok := c.(*limitedConn); ok {
		return context.WithValue(ctx, connKey{}, lc)
	}
	return ctx
}

// serving marks the connection of each request h handles as busy until h
// returns: it is not closed to take a new one meanwhile.
func (l *connLimit) serving(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(connKey{}).(*limitedConn)
		if c == nil {
			h.ServeHTTP(w, r)
			return
		}
		l.mu.Lock()
		c.serving++
		l.mu.Unlock()
		defer func() {
			l.mu.Lock()
			c.serving--
			l.tick++
			c.waiting = l.tick
			l.mu.Unlock()
		}()
		h.ServeHTTP(w, r)
	})
}
