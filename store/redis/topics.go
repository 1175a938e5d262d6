package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
)

var (
	_ store.TopicKeeper = (*Store)(nil)
	_ store.TopicKeeper = (*Fallback)(nil)
)

// topicsKey is the hash of a space's thread names, by thread.
func (s *Store) topicsKey(platform, space string) string {
	return s.tag(platform, space, "") + ":topics"
}

// PutTopicName records thread's name in the space's hash; past
// store.MaxTopicNames threads there, the hash starts again.
func (s *Store) PutTopicName(ctx context.Context, platform, space, thread, name string) error {
	if err := s.settle(ctx); err != nil {
		return fmt.Errorf("redis topic name: %w", err)
	}
	if len(name) > store.MaxTopicName {
		name = name[:store.MaxTopicName]
	}
	key := s.topicsKey(platform, space)
	p := s.c.Pipeline()
	p.HSet(ctx, key, thread, name)
	n := p.HLen(ctx, key)
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("redis topic name: %w", err)
	}
	if n.Val() > store.MaxTopicNames {
		p := s.c.Pipeline()
		p.Del(ctx, key)
		p.HSet(ctx, key, thread, name)
		if _, err := p.Exec(ctx); err != nil {
			return fmt.Errorf("redis topic name: %w", err)
		}
	}
	return nil
}

// TopicName returns thread's name, "" for none.
func (s *Store) TopicName(ctx context.Context, platform, space, thread string) (string, error) {
	if err := s.settle(ctx); err != nil {
		return "", fmt.Errorf("redis topic name: %w", err)
	}
	p := s.c.Pipeline()
	get := p.HGet(ctx, s.topicsKey(platform, space), thread)
	if _, err := p.Exec(ctx); err != nil && err != goredis.Nil {
		return "", fmt.Errorf("redis topic name: %w", err)
	}
	name, err := get.Result()
	if err == goredis.Nil {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("redis topic name: %w", err)
	}
	return name, nil
}

// PutTopicName and TopicName go to Redis: a name kept in this process only
// would not reach the instances that show the cards, which then show the
// name Telegram gives, the topic's first.
func (f *Fallback) PutTopicName(ctx context.Context, platform, space, thread, name string) error {
	return f.primary.PutTopicName(ctx, platform, space, thread, name)
}

func (f *Fallback) TopicName(ctx context.Context, platform, space, thread string) (string, error) {
	return f.primary.TopicName(ctx, platform, space, thread)
}
