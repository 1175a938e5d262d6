package daemon

import "testing"

// TestLocalHostKept: a request that names the local host found last costs
// no allocation to check (every event posted without VIGIE_WEBHOOK_SECRET
// is checked so); a foreign host is still refused, and the local host kept
// still found after it.
func TestLocalHostKept(t *testing.T) {
	var d daemon
	if !d.localHost("127.0.0.1:8080") {
		t.Fatal("127.0.0.1:8080 not local")
	}
	if d.localHost("example.com") {
		t.Fatal("example.com local")
	}
	if n := testing.AllocsPerRun(100, func() {
		if !d.localHost("127.0.0.1:8080") {
			t.Fatal("127.0.0.1:8080 not local once kept")
		}
	}); n != 0 {
		t.Fatalf("%v allocations to check the host kept, want 0", n)
	}
	if !d.localHost("localhost:8080") || !d.localHost("127.0.0.1:8080") {
		t.Fatal("a local host not found local")
	}
}
