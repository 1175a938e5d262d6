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

// A strike that follows a strike on the same key at the same time is added to
// that one's call; one after another call, on another key, at another time, or
// that a caller waits for, is not.
func TestMergeStrikes(t *testing.T) {
	strike := func(key string, at int64, ttl int64, member string) *call {
		return &call{sc: strikeScript, keys: []string{key}, args: []any{at, 100, ttl, member}}
	}
	waited := strike("a", 1, 10, "w")
	waited.ready = make(chan struct{})
	for _, tc := range []struct {
		name  string
		batch []*call
		into  []int // for each call, the position of the call it was added to, or -1
		args  [][]any
	}{
		{"two", []*call{strike("a", 1, 10, "x"), strike("a", 1, 30, "y")}, []int{-1, 0},
			[][]any{{int64(1), 100, int64(30), "x", "y"}, nil}},
		{"three, the longest first", []*call{strike("a", 1, 30, "x"), strike("a", 1, 10, "y"), strike("a", 1, 20, "z")}, []int{-1, 0, 0},
			[][]any{{int64(1), 100, int64(30), "x", "y", "z"}, nil, nil}},
		{"other key", []*call{strike("a", 1, 10, "x"), strike("b", 1, 10, "y")}, []int{-1, -1}, nil},
		{"other time", []*call{strike("a", 1, 10, "x"), strike("a", 2, 10, "y")}, []int{-1, -1}, nil},
		{"a call between", []*call{strike("a", 1, 10, "x"), {}, strike("a", 1, 10, "y")}, []int{-1, -1, -1}, nil},
		{"waited for", []*call{strike("a", 1, 10, "x"), waited}, []int{-1, -1}, nil},
		{"then another key's pair", []*call{strike("a", 1, 10, "x"), strike("b", 1, 10, "y"), strike("b", 1, 10, "z")}, []int{-1, -1, 1},
			[][]any{nil, {int64(1), 100, int64(10), "y", "z"}, nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before [][]any
			for _, c := range tc.batch {
				before = append(before, slices.Clone(c.args))
			}
			merged := mergeStrikes(tc.batch)
			if want := slices.ContainsFunc(tc.into, func(i int) bool { return i >= 0 }); merged != want {
				t.Errorf("merged = %v, want %v", merged, want)
			}
			for i, c := range tc.batch {
				want := (*call)(nil)
				if tc.into[i] >= 0 {
					want = tc.batch[tc.into[i]]
				}
				if c.into != want {
					t.Errorf("call %d: into = %p, want %p", i, c.into, want)
				}
				wantArgs := before[i]
				if tc.args != nil && tc.args[i] != nil {
					wantArgs = tc.args[i]
				}
				if c.into == nil && !slices.Equal(c.args, wantArgs) {
					t.Errorf("call %d: args %v, want %v", i, c.args, wantArgs)
				}
			}
		})
	}
}
