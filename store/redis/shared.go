package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
)

var _ store.Settings = (*Store)(nil)
var _ store.Settings = (*Fallback)(nil)
var _ store.Reloads = (*Store)(nil)
var _ store.Reloads = (*Fallback)(nil)

// What every process follows (the settings, the reloads asked) is kept in a
// counted hash: one of its fields counts the writes, so that a process that
// polls it sees a change by the count alone. The keys and fields are those
// of earlier versions, which still follow what this one writes.

// countedWriteScript: KEYS the hash; ARGV the counting field, then the fields
// to set and their values. Returns the count after this write.
var countedWriteScript = goredis.NewScript(`
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
`)

// countedWrite sets fields (name, value, name, value…) of the hash at key
// and counts the write in its field count, at once.
func (s *Store) countedWrite(ctx context.Context, key, count string, fields ...string) (int64, error) {
	args := make([]any, 0, 1+len(fields))
	args = append(args, count)
	for _, f := range fields {
		args = append(args, f)
	}
	return s.script(ctx, countedWriteScript, []string{key}, args...).Int64()
}

// countedRead reads the hash at key: its other fields, and the count in its
// field count (0 when nothing was written, or Redis lost it).
func (s *Store) countedRead(ctx context.Context, key, count string) (map[string]string, int64, error) {
	fields, err := s.c.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, 0, err
	}
	var n int64
	if str, ok := fields[count]; ok {
		if n, err = strconv.ParseInt(str, 10, 64); err != nil {
			return nil, 0, fmt.Errorf("%s %q: %w", count, str, err)
		}
		delete(fields, count)
	}
	return fields, n, nil
}

// The settings' hash counts in "version"; the settings' own names are
// prefixed with "s:" so that none is taken for it.
func (s *Store) settingsKey() string { return s.cfg.prefix + ":{settings}" }

const settingPrefix = "s:"

// PutSetting sets name to value for every process.
func (s *Store) PutSetting(ctx context.Context, name, value string) (int64, error) {
	v, err := s.countedWrite(ctx, s.settingsKey(), "version", settingPrefix+name, value)
	if err != nil {
		return 0, fmt.Errorf("redis put setting %s: %w", name, err)
	}
	return v, nil
}

// Settings reads every setting, and their version.
func (s *Store) Settings(ctx context.Context) (map[string]string, int64, error) {
	fields, v, err := s.countedRead(ctx, s.settingsKey(), "version")
	if err != nil {
		return nil, 0, fmt.Errorf("redis settings: %w", err)
	}
	out := make(map[string]string, len(fields))
	for k, val := range fields {
		if name, ok := strings.CutPrefix(k, settingPrefix); ok && name != "" {
			out[name] = val
		}
	}
	return out, v, nil
}

// The reloads' hash counts the reloads asked in "n", and keeps confined
// ("1" or "0") and digest for the last one.
func (s *Store) reloadsKey() string { return s.cfg.prefix + ":{rules}:reloads" }

// AskReload counts one more reload asked, for every process to reload.
func (s *Store) AskReload(ctx context.Context, a store.ReloadAsk) (int64, error) {
	confined := "0"
	if a.Confined {
		confined = "1"
	}
	n, err := s.countedWrite(ctx, s.reloadsKey(), "n", "confined", confined, "digest", a.Digest)
	if err != nil {
		return 0, fmt.Errorf("redis ask reload: %w", err)
	}
	return n, nil
}

// ReloadsAsked reads the reloads asked so far.
func (s *Store) ReloadsAsked(ctx context.Context) (store.ReloadAsk, error) {
	fields, n, err := s.countedRead(ctx, s.reloadsKey(), "n")
	if err != nil {
		return store.ReloadAsk{}, fmt.Errorf("redis reloads asked: %w", err)
	}
	return store.ReloadAsk{N: n, Confined: fields["confined"] == "1", Digest: fields["digest"]}, nil
}

// onlyShared asks Redis what only it can share between the processes: while
// it is away there is no answer from memory, as the others would not hear of it.
func onlyShared[T any](ctx context.Context, f *Fallback, what string, ask func() (T, error)) (T, error) {
	if f.degraded.Load() {
		var zero T
		return zero, fmt.Errorf("%s: %w", what, ErrUnavailable)
	}
	v, err := ask()
	f.outage(ctx, err)
	return v, err
}

// PutSetting asks Redis.
func (f *Fallback) PutSetting(ctx context.Context, name, value string) (int64, error) {
	return onlyShared(ctx, f, "redis put setting "+name, func() (int64, error) {
		return f.primary.PutSetting(ctx, name, value)
	})
}

// Settings asks Redis.
func (f *Fallback) Settings(ctx context.Context) (map[string]string, int64, error) {
	var v int64
	m, err := onlyShared(ctx, f, "redis settings", func() (m map[string]string, err error) {
		m, v, err = f.primary.Settings(ctx)
		return m, err
	})
	return m, v, err
}

// AskReload asks Redis.
func (f *Fallback) AskReload(ctx context.Context, a store.ReloadAsk) (int64, error) {
	return onlyShared(ctx, f, "redis ask reload", func() (int64, error) { return f.primary.AskReload(ctx, a) })
}

// ReloadsAsked asks Redis.
func (f *Fallback) ReloadsAsked(ctx context.Context) (store.ReloadAsk, error) {
	return onlyShared(ctx, f, "redis reloads asked", func() (store.ReloadAsk, error) { return f.primary.ReloadsAsked(ctx) })
}
