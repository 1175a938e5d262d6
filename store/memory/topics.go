package memory

import (
	"context"
	"sync"

	"github.com/vigie-bot/vigie/store"
)

var _ store.TopicKeeper = (*Store)(nil)

type topicBook struct {
	mu    sync.Mutex
	names map[[2]string]map[string]string // by platform and space, by thread
}

// PutTopicName records thread's name; past store.MaxTopicNames in the
// space, the space's names start again.
func (s *Store) PutTopicName(_ context.Context, platform, space, thread, name string) error {
	if len(name) > store.MaxTopicName {
		name = name[:store.MaxTopicName]
	}
	b := &s.topics
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.names == nil {
		b.names = map[[2]string]map[string]string{}
	}
	k := [2]string{platform, space}
	m := b.names[k]
	if m == nil || len(m) >= store.MaxTopicNames {
		m = map[string]string{}
		b.names[k] = m
	}
	m[thread] = name
	return nil
}

// TopicName returns thread's name, "" for none.
func (s *Store) TopicName(_ context.Context, platform, space, thread string) (string, error) {
	b := &s.topics
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.names[[2]string{platform, space}][thread], nil
}
