package redistest

import (
	"errors"
	"strconv"
	"testing"
)

// TestPortAnotherServerTook: a server started on a port that another
// redis-server took before it could bind it is told apart from it: its start
// fails as errPortTaken (Start then picks another port), rather than the
// test going on with the other server's data.
func TestPortAnotherServerTook(t *testing.T) {
	other := Start(t)
	s := &Server{t: t, bin: Binary(t, "redis-server"), dir: t.TempDir(), Port: other.Port}
	s.args = []string{"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", s.dir}
	t.Cleanup(s.Stop)
	if err := s.start(); !errors.Is(err, errPortTaken) {
		t.Fatalf("started on %s's port: %v, want %v", other.Addr(), err, errPortTaken)
	}
	if s.cmd != nil {
		t.Errorf("the server that could not bind is still taken as running")
	}
}
