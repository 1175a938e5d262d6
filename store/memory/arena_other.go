//go:build !unix

package memory

// arena takes the tables' slots from the Go heap where mapping memory from
// the system is not written for (see arena_unix.go).
type arena struct{}

func newArena() *arena { return &arena{} }

func (*arena) alloc(n int) []slot { return make([]slot, n) }

func (*arena) allocFilled(n int) []slot { return make([]slot, n) }

func (*arena) free([]slot) {}

func (*arena) release() {}
