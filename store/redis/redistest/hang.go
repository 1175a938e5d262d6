package redistest

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// HangProxy stands between a client and a real redis-server, and can stop
// passing anything on, as a Redis that hangs (a frozen process, a network
// that drops packets) does: connections stay open and nothing answers.
// What it holds is let go, and its connections closed, when the test ends.
type HangProxy struct {
	ln       net.Listener
	target   string
	hung     chan struct{}
	once     sync.Once
	gone     chan struct{}
	held     chan struct{}
	heldOnce sync.Once
	// at, if set, hangs the proxy at the first request that holds it.
	at atomic.Pointer[[]byte]
	// lose is how many of the server's next answers are lost on their
	// way back.
	lose atomic.Int64
	// holdAt, if set, holds the first request that holds it until
	// resume is closed (HoldAt); holding is closed once it is held.
	holdAt            atomic.Pointer[[]byte]
	holding, resume   chan struct{}
	holdOnce, resOnce sync.Once
}

// NewHangProxy listens on a free loopback port and passes what it gets on
// to target (host:port).
func NewHangProxy(t testing.TB, target string) *HangProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &HangProxy{ln: ln, target: target, hung: make(chan struct{}), gone: make(chan struct{}), held: make(chan struct{}),
		holding: make(chan struct{}), resume: make(chan struct{})}
	t.Cleanup(func() { close(p.gone); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
	return p
}

// HangAt makes the proxy hang at the first request in which match is
// found (a command's arguments, as Redis's protocol spells them: the
// bytes of each, between "\r\n"), holding that one and all after it.
// Call it before the client sends it.
func (p *HangProxy) HangAt(match []byte) { p.at.Store(&match) }

// HoldAt makes the proxy hold the first request in which match is found
// (as HangAt spells it) until Resume, then pass it on: a Redis slow to
// get one command, the others going on. Holding is closed once it holds
// it. Call it before the client sends it.
func (p *HangProxy) HoldAt(match []byte) { p.holdAt.Store(&match) }

// Holding is closed once the request HoldAt names is held.
func (p *HangProxy) Holding() <-chan struct{} { return p.holding }

// Resume passes on the request held by HoldAt, and those after it.
func (p *HangProxy) Resume() { p.resOnce.Do(func() { close(p.resume) }) }

// URL is the proxy's redis:// URL.
func (p *HangProxy) URL() string { return "redis://" + p.ln.Addr().String() }

// Hang stops every byte from here on, on the connections open and new ones.
func (p *HangProxy) Hang() { p.once.Do(func() { close(p.hung) }) }

// LoseReply loses the server's next answer on its way back, as a network
// cut after the request went through does: the server did what it was
// asked, and its client hears nothing of it.
func (p *HangProxy) LoseReply() { p.lose.Store(1) }

// lost says whether the answer just read is to be lost.
func (p *HangProxy) lost() bool {
	for {
		n := p.lose.Load()
		switch {
		case n <= 0:
			return false
		case p.lose.CompareAndSwap(n, n-1):
			return true
		}
	}
}

// Held is closed once the proxy, hung, has held back a first request: a
// client is waiting for an answer that will not come.
func (p *HangProxy) Held() <-chan struct{} { return p.held }

func (p *HangProxy) pipe(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer up.Close()
	go p.copy(up, c, true)
	p.copy(c, up, false)
}

// copy passes what src sends to dst until the proxy hangs; then it holds what
// it read until the test ends.
func (p *HangProxy) copy(dst, src net.Conn, request bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if at := p.at.Load(); request && at != nil && bytes.Contains(buf[:n], *at) {
				p.Hang()
			}
			if at := p.holdAt.Load(); request && at != nil && bytes.Contains(buf[:n], *at) && p.holdAt.CompareAndSwap(at, nil) {
				p.holdOnce.Do(func() { close(p.holding) })
				select {
				case <-p.resume:
				case <-p.gone:
					return
				}
			}
			select {
			case <-p.hung:
				if request {
					p.heldOnce.Do(func() { close(p.held) })
				}
				<-p.gone
				return
			default:
			}
			if !request && p.lost() {
				continue
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
