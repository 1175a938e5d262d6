package text

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
