package redis

import (
	"slices"
	"testing"
)

// A Begin whose Done comes later in the same pipeline is left out; one whose
// Done came before it (another verdict of the same key, begun again), or
// whose Done is not in the pipeline, is sent.
func TestFinishedBegins(t *testing.T) {
	begin := func(key string) []*call {
		return []*call{{journal: key, begin: true}, {journal: key, begin: true}, {}} // HSET, ZADD, a PEXPIRE
	}
	done := func(key string) []*call { return []*call{{journal: key}, {}, {}} }
	for _, tc := range []struct {
		name  string
		batch [][]*call
		left  []int // the begins (by position in batch) left out
	}{
		{"begun and done", [][]*call{begin("a"), done("a")}, []int{0}},
		{"done then begun", [][]*call{done("a"), begin("a")}, nil},
		{"begun, done, begun", [][]*call{begin("a"), done("a"), begin("a")}, []int{0}},
		{"other key", [][]*call{begin("a"), done("b")}, nil},
		{"interleaved", [][]*call{begin("a"), begin("b"), {{}}, done("b"), done("a")}, []int{0, 1}},
		{"begun only", [][]*call{begin("a")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := finishedBegins(slices.Concat(tc.batch...))
			want := 0
			for i, calls := range tc.batch {
				left := slices.Contains(tc.left, i)
				for _, c := range calls {
					if c.begin && got[c] != left {
						t.Errorf("part %d: left out %v, want %v", i, got[c], left)
					}
					if got[c] && !c.begin {
						t.Errorf("part %d: a call that is no Begin's left out", i)
					}
					if left && c.begin {
						want++
					}
				}
			}
			if len(got) != want {
				t.Errorf("%d calls left out, want %d", len(got), want)
			}
		})
	}
}
