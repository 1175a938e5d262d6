package store

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// A case id names one case for good: c-EPOCH-NNNNNN, the number counted from
// 000001 within the epoch. A store that starts numbering again (the memory
// store at every start, Redis once it lost its data) starts a new epoch, so
// that a card, a console page, a mod-log link or a command written with an
// id from before never names another case: it names none (ErrNotFound).

// EpochLen is the length of a case id's epoch.
const EpochLen = 5

// epochFirst and epochRest are the letters of an epoch: Crockford's base 32
// in lower case (no i, l, o or u: nothing read as a digit, no word), the
// first a letter, so that the epoch is never taken for the number.
const (
	epochFirst = "abcdefghjkmnpqrstvwxyz"
	epochRest  = "0123456789" + epochFirst
)

// NewCaseEpoch returns a new epoch for case ids, drawn at random: one of
// about 23 million, so that a store's epochs, and two processes' memory
// stores, differ.
func NewCaseEpoch() string {
	var b [EpochLen]byte
	b[0] = epochFirst[rand.IntN(len(epochFirst))]
	for i := 1; i < len(b); i++ {
		b[i] = epochRest[rand.IntN(len(epochRest))]
	}
	return string(b[:])
}

// CaseNumber is the number a case id ends with (c-EPOCH-000042: 42; an id
// from before epochs, c-000042, too), 0 for an id that ends with none.
func CaseNumber(id string) int64 {
	n, err := strconv.ParseInt(id[strings.LastIndexByte(id, '-')+1:], 10, 64)
	if err != nil {
		return 0
	}
	return n
}
