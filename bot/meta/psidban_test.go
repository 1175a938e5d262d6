package meta_test

import (
	"context"
	"testing"
	"time"
)

// TestMessengerBanLiftedByPSID: the end of a Messenger sender's timed ban,
// read back from the book (which keeps who and where, not the message's
// kind), unblocks them by page-scoped id, as they were blocked, not as a
// commenter's user id; nor is the blocked list asked about them by user.
func TestMessengerBanLiftedByPSID(t *testing.T) {
	ctx := context.Background()
	h, mod, _, later := bookHarness(t, "metapsid")
	if err := mod.Handle(ctx, fbDM, banFor(fbDM, 24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	later(24 * time.Hour)
	if n, err := mod.LiftBans(ctx); n != 1 || err != nil {
		t.Fatalf("LiftBans = %d, %v, want 1, nil", n, err)
	}
	for _, c := range h.graph.Calls() {
		if c.Path == "/"+pageID+"/blocked" && (c.Params.Has("user") || !c.Params.Has("psid")) && c.Method != "GET" {
			t.Errorf("%s %s with %v: a Messenger sender is named by psid", c.Method, c.Path, c.Params)
		}
		if c.Path == "/"+pageID+"/blocked" && c.Method == "GET" && c.Params.Get("user") == fbDM.Author.ID {
			t.Errorf("the blocked list asked about a Messenger sender as a user: %v", c.Params)
		}
	}
}
