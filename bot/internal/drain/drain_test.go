package drain

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestQueue(t *testing.T) {
	one := 1
	tests := []struct {
		name       string
		first      *int
		queued     []int
		takes      int // how many hand accepts before it reports its context ended
		wantHanded int
		wantLeft   []int
		wantSeen   []int
	}{
		{name: "nothing", takes: 10},
		{name: "first, then the queue in order", first: &one, queued: []int{2, 3}, takes: 10, wantHanded: 3, wantSeen: []int{1, 2, 3}},
		{name: "the queue alone", queued: []int{2, 3}, takes: 10, wantHanded: 2, wantSeen: []int{2, 3}},
		{name: "what is left when time is up", first: &one, queued: []int{2, 3, 4}, takes: 2, wantHanded: 2, wantLeft: []int{3, 4}, wantSeen: []int{1, 2, 3}},
		{name: "nothing taken", queued: []int{2}, takes: 0, wantLeft: []int{2}, wantSeen: []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := make(chan int, len(tt.queued))
			for _, v := range tt.queued {
				q <- v
			}
			var seen []int
			handed, left := Queue(q, tt.first, time.Minute, func(ctx context.Context, v int) bool {
				seen = append(seen, v)
				if ctx.Err() != nil {
					t.Errorf("hand got an ended context for %d", v)
				}
				return len(seen) <= tt.takes
			})
			if handed != tt.wantHanded || !slices.Equal(left, tt.wantLeft) || !slices.Equal(seen, tt.wantSeen) {
				t.Errorf("handed %d, left %v, seen %v; want %d, %v, %v", handed, left, seen, tt.wantHanded, tt.wantLeft, tt.wantSeen)
			}
			if len(q) != 0 {
				t.Errorf("%d still queued", len(q))
			}
		})
	}
}

func TestKeysListsTheFirst50(t *testing.T) {
	items := make([]int, 60)
	for i := range items {
		items[i] = i
	}
	got := strings.Fields(Keys(items, strconv.Itoa))
	if len(got) != 50 || got[0] != "0" || got[49] != "49" {
		t.Errorf("Keys = %v", got)
	}
	if got := Keys([]int{7}, strconv.Itoa); got != "7" {
		t.Errorf("Keys of one = %q", got)
	}
}
