package redis

import (
	"context"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
)

var _ store.Settings = (*Store)(nil)
var _ store.Settings = (*Fallback)(nil)

// settingsVersion is the field of the settings' hash that counts the changes;
// the settings' own names are prefixed with "s:" so that none is taken for it.
const settingsVersion = "version"

// putSettingScript: KEYS the settings' hash; ARGV field, value. Returns the
// version after the change.
var putSettingScript = goredis.NewScript(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HINCRBY', KEYS[1], 'version', 1)
`)

// settingsKey is the hash of the settings every process follows.
func (s *Store) settingsKey() string { return s.cfg.prefix + ":{settings}" }

// PutSetting sets name to value for every process.
func (s *Store) PutSetting(ctx context.Context, name, value string) (int64, error) {
	v, err := s.script(ctx, putSettingScript, []string{s.settingsKey()}, "s:"+name, value).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis put setting %s: %w", name, err)
	}
	return v, nil
}

// Settings reads every setting, and their version.
func (s *Store) Settings(ctx context.Context) (map[string]string, int64, error) {
	all, err := s.c.HGetAll(ctx, s.settingsKey()).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("redis settings: %w", err)
	}
	out := make(map[string]string, len(all))
	var version int64
	for k, v := range all {
		if k == settingsVersion {
			if version, err = strconv.ParseInt(v, 10, 64); err != nil {
				return nil, 0, fmt.Errorf("redis settings: version %q: %w", v, err)
			}
			continue
		}
		if len(k) > 2 && k[:2] == "s:" {
			out[k[2:]] = v
		}
	}
	return out, version, nil
}

// PutSetting asks Redis; while Redis is away the others would not hear of it.
func (f *Fallback) PutSetting(ctx context.Context, name, value string) (int64, error) {
	if f.degraded.Load() {
		return 0, fmt.Errorf("redis put setting %s: %w", name, ErrUnavailable)
	}
	v, err := f.primary.PutSetting(ctx, name, value)
	f.outage(ctx, err)
	return v, err
}

// Settings asks Redis.
func (f *Fallback) Settings(ctx context.Context) (map[string]string, int64, error) {
	if f.degraded.Load() {
		return nil, 0, fmt.Errorf("redis settings: %w", ErrUnavailable)
	}
	m, v, err := f.primary.Settings(ctx)
	f.outage(ctx, err)
	return m, v, err
}
