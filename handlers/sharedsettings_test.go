package handlers_test

import (
	"context"
	"errors"
	"testing"

	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// slowSettings is the Redis store whose read of the shared settings waits,
// once read, until the test lets it answer: a look that crosses a change.
type slowSettings struct {
	*redis.Store
	read, answer chan struct{}
}

func (s *slowSettings) Settings(ctx context.Context) (map[string]string, int64, error) {
	values, version, err := s.Store.Settings(ctx)
	if s.read != nil {
		close(s.read)
		<-s.answer
		s.read = nil
	}
	return values, version, err
}

// TestSharedPauseNotUndoneByAnOlderLook: another instance's change (a mode)
// is being read here when a CM pauses this instance. The read, from before
// the pause, says "not paused": taken up after the pause, it would undo it
// here (until the next look) while Redis and the other instances say
// paused. It is dropped, the next look finds nothing new, and this instance
// stays paused, as the other one that follows.
func TestSharedPauseNotUndoneByAnOlderLook(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.Prefix("shared-test")
	open := func() *redis.Store {
		return redistest.Open(t, srv.URL(), redis.WithPrefix(prefix))
	}
	ctx := context.Background()
	here := &slowSettings{Store: open()}
	m, _ := newModerator(t, here, nil)
	c := handlers.NewCommands(m, handlers.CommandsOptions{})
	other := open()
	om, _ := newModerator(t, other, nil)

	if _, err := other.PutSetting(ctx, "pause", ""); err != nil {
		t.Fatal(err)
	}
	m.FollowSettings(ctx) // learns the settings
	if _, err := other.PutSetting(ctx, "mode", ""); err != nil {
		t.Fatal(err)
	}
	here.read, here.answer = make(chan struct{}), make(chan struct{})
	looked := make(chan struct{})
	go func() {
		defer close(looked)
		m.FollowSettings(ctx)
	}()
	<-here.read // the look read "not paused"
	if _, err := c.Pause(ctx, 0, "telegram:42"); err != nil {
		t.Fatal(err)
	}
	close(here.answer)
	<-looked
	if paused, _ := m.Paused(); !paused {
		t.Errorf("the pause asked here was undone by a look that read the settings before it")
	}
	m.FollowSettings(ctx)
	if paused, _ := m.Paused(); !paused {
		t.Errorf("the pause asked here was undone by the next look")
	}
	om.FollowSettings(ctx)
	if paused, _ := om.Paused(); !paused {
		t.Errorf("the other instance does not follow the pause")
	}
}

// refusingPuts is the Redis store refusing the writes of the shared
// settings while refuse is set: a Redis that does not answer them.
type refusingPuts struct {
	*redis.Store
	refuse bool
}

func (s *refusingPuts) PutSetting(ctx context.Context, name, value string) (int64, error) {
	if s.refuse {
		return 0, errors.New("redis put setting: connection refused")
	}
	return s.Store.PutSetting(ctx, name, value)
}

// TestSharedPauseWrittenOnceTheStoreAnswers: a CM pauses an instance that
// never read the shared settings (Redis was away since it started), and the
// write fails. When Redis answers again, the settings there are older (not
// paused): they do not undo the pause asked here; the pause is written, and
// the other instance follows it.
func TestSharedPauseWrittenOnceTheStoreAnswers(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.Prefix("shared-test")
	open := func() *redis.Store {
		return redistest.Open(t, srv.URL(), redis.WithPrefix(prefix))
	}
	ctx := context.Background()
	other := open()
	om, _ := newModerator(t, other, nil)
	if _, err := other.PutSetting(ctx, "pause", ""); err != nil {
		t.Fatal(err)
	}
	here := &refusingPuts{Store: open(), refuse: true}
	m, _ := newModerator(t, here, nil)
	c := handlers.NewCommands(m, handlers.CommandsOptions{})
	if _, err := c.Pause(ctx, 0, "telegram:42"); err != nil {
		t.Fatal(err)
	}
	here.refuse = false
	m.FollowSettings(ctx)
	if paused, _ := m.Paused(); !paused {
		t.Errorf("the pause asked here while the store refused it was undone by the older settings read after")
	}
	om.FollowSettings(ctx)
	if paused, _ := om.Paused(); !paused {
		t.Errorf("the other instance was never told of the pause")
	}
}
