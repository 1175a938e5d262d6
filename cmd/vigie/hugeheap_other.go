//go:build !linux

package main

// growHeapHuge does nothing where transparent huge pages are not Linux's.
func growHeapHuge(int) {}
