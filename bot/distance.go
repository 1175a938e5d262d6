package bot

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Distance is the optimal string alignment distance of a and b: insertions,
// deletions, substitutions and swaps of two neighbours (tiemout) each count as
// one edit. Once the distance is known to exceed limit it returns limit+1, so
// that looking for near words stops early.
func Distance(a, b string, limit int) int {
	return DistanceRunes([]rune(a), []rune(b), limit)
}

// DistanceRunes is Distance on the letters of a and b; it does not allocate for
// words under 32 letters, which is what a typo search over many words needs.
func DistanceRunes(a, b []rune, limit int) int {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(b)-len(a) > limit {
		return limit + 1
	}
	if limit == 1 {
		// a typo search over many words asks for one edit at most: said in
		// one pass, without the table
		return oneEdit(a, b)
	}
	var rows [3][32]int
	var prev2, prev, cur []int
	if len(b) < len(rows[0]) {
		prev2, prev, cur = rows[0][:len(b)+1], rows[1][:len(b)+1], rows[2][:len(b)+1]
	} else {
		prev2 = make([]int, len(b)+1)
		prev = make([]int, len(b)+1)
		cur = make([]int, len(b)+1)
	}
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// oneEdit is DistanceRunes(a, b, 1) for len(a) <= len(b) <= len(a)+1: 0 when
// a and b are the same, 1 when one insertion, deletion, substitution or swap
// of two neighbours makes one the other, else 2.
func oneEdit(a, b []rune) int {
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	switch {
	case len(a) < len(b):
		// b has one letter more: at i, and the rest the same
		if slices.Equal(a[i:], b[i+1:]) {
			return 1
		}
	case i == len(a):
		return 0
	case slices.Equal(a[i+1:], b[i+1:]):
		return 1 // a substitution at i
	case i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && slices.Equal(a[i+2:], b[i+2:]):
		return 1 // a swap at i
	}
	return 2
}

// Closest returns the candidate nearest to word when it is close enough to be a
// likely typo (a rule file's key, a CM's command), or "".
func Closest(word string, candidates []string) string {
	limit := 2
	if utf8.RuneCountInString(word) <= 4 {
		limit = 1
	}
	best, bestD := "", 1<<30
	lw := strings.ToLower(word)
	for _, c := range candidates {
		dist := Distance(lw, strings.ToLower(c), limit)
		// on a tie, a candidate with the same first letter is the likelier typo
		if dist < bestD || dist == bestD && best != "" && lw != "" &&
			best[0] != lw[0] && strings.ToLower(c)[0] == lw[0] {
			best, bestD = c, dist
		}
	}
	if best == "" || bestD > limit || bestD == 0 && word == best {
		return ""
	}
	return best
}
