//go:build !linux

package main

// growReplayHeap does nothing where transparent huge pages are not Linux's.
func growReplayHeap() {}
