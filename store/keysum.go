package store

import (
	"hash/maphash"
	"math/bits"
)

// KeySum is a counter's name and key hashed to 128 bits, part by part, in
// place of the key's text: an engine that sends it to a store that keys its
// counters by hash alone (a SumKeyed store, the memory store) builds no
// string for the key and has its parts hashed once an event, not once per
// counter (an author's id, read by six counters of the starter pack, is
// hashed once). Begin with SumName, then add each part of the key with Then,
// the parts being SumText or SumNumber. The zero KeySum is none: the store
// reads Key.
//
// Two keys of one counter have the same sum when their parts are equal,
// each, and only by chance otherwise (a chance of 2^-64 or less for any two
// keys; the text's seeds are the process's own, so no one can make two keys
// collide on purpose). The sums are the process's own too: a store that
// outlives the process (Redis) names its keys by their text.
type KeySum [2]uint64

// SumKeyed is implemented by a store that reads CounterOp.Sum, when it is
// set, in place of the key's text (see KeySum). Its counters' sums are
// computed by one process only: the memory store's are its own.
type SumKeyed interface {
	SumKeyed()
}

// TakesSums reports whether s is a SumKeyed store.
func TakesSums(s Store) bool {
	_, ok := s.(SumKeyed)
	return ok
}

var sumSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// SumText hashes a part of a key that is text.
func SumText(s string) KeySum {
	return KeySum{maphash.String(sumSeeds[0], s), maphash.String(sumSeeds[1], s)}
}

// SumNumber is a part of a key that is a number, itself a hash (a
// fingerprint, a band of a sketch): not hashed again, Then mixes it in.
func SumNumber(x uint64) KeySum { return KeySum{x, bits.RotateLeft64(x, 32)} }

// SumName begins the sum of a counter's key with the counter's name.
func SumName(name string) KeySum { return SumText(name) }

// Then adds the part p to the sum k. For a given k it is one to one in
// each word of p: two keys of one counter whose parts differ in one of
// them differ in their sums.
func (k KeySum) Then(p KeySum) KeySum {
	return KeySum{mix64(k[0]*0x9e3779b97f4a7c15 ^ p[0]), mix64(k[1]*0xc2b2ae3d27d4eb4f + p[1])}
}

// IsZero reports whether k is no sum.
func (k KeySum) IsZero() bool { return k == KeySum{} }

// mix64 is the SplitMix64 finaliser, one to one on 64 bits.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
