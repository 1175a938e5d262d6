package deskwork

import (
	"context"
	"testing"
)

// TestAsking: a key is under way from its first Start to its last end; Wait
// returns once it is not, or when its context ends first.
func TestAsking(t *testing.T) {
	var a Asking
	if a.Under("g:7") {
		t.Fatal("under way before any Start")
	}
	if !a.Wait(context.Background(), "g:7") {
		t.Fatal("Wait with nothing under way reported its context ended")
	}
	end1 := a.Start("g:7")
	end2 := a.Start("g:7")
	if !a.Under("g:7") || a.Under("g:8") {
		t.Fatal("Under does not tell the key started from another")
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if a.Wait(cancelled, "g:7") {
		t.Error("Wait on an ended context reported the ask over while under way")
	}
	end1()
	end1() // a second call changes nothing
	if !a.Under("g:7") {
		t.Fatal("over after the first of two asks ended")
	}
	waited := make(chan bool)
	go func() { waited <- a.Wait(context.Background(), "g:7") }()
	end2()
	if !<-waited {
		t.Error("Wait did not report the ask over")
	}
	if a.Under("g:7") {
		t.Error("still under way after both asks ended")
	}
}
