package redis

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
)

var _ store.ChannelMarks = (*Store)(nil)
var _ store.ChannelMarks = (*Fallback)(nil)

// A channel memory is one hash: channel id -> "GUILD:LAST:AT" (AT in unix
// ms), and for each writer the field "saved:WRITER" -> when it last wrote
// the memory (unix ms). The field "saved" alone is a writer's without a
// name: the memories written before writers had one.
const savedField = "saved"

// savedFieldOf is the field of writer's last write.
func savedFieldOf(writer string) string {
	if writer == "" {
		return savedField
	}
	return savedField + ":" + writer
}

// saveChannelsScript: KEYS memory; ARGV saved ms, keep, ttl ms, the
// writer's saved field, then for each channel its id, guild, last message
// id and at ms. A channel's last message only moves forward (ids compared as
// the numbers they are: by length, then by digits), and so do its at and
// the writer's saved. Past twice keep channels, the least recently active
// go, down to keep.
var saveChannelsScript = goredis.NewScript(`
local function after(a, b)
  if #a ~= #b then return #a > #b end
  return a > b
end
for i = 5, #ARGV, 4 do
  local ch, guild, last, at = ARGV[i], ARGV[i+1], ARGV[i+2], tonumber(ARGV[i+3])
  local cur = redis.call('HGET', KEYS[1], ch)
  if cur then
    local g, l, a = string.match(cur, '^([^:]*):([^:]*):([^:]*)$')
    if l and not after(last, l) then
      guild, last = g, l
    end
    if a and tonumber(a) and tonumber(a) > at then at = tonumber(a) end
  end
  redis.call('HSET', KEYS[1], ch, guild .. ':' .. last .. ':' .. string.format('%d', at))
end
local saved = tonumber(redis.call('HGET', KEYS[1], ARGV[4]) or '0') or 0
if tonumber(ARGV[1]) > saved then redis.call('HSET', KEYS[1], ARGV[4], ARGV[1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local keep = tonumber(ARGV[2])
if redis.call('HLEN', KEYS[1]) > 2 * keep + 1 then
  local all = redis.call('HGETALL', KEYS[1])
  local chans = {}
  for j = 1, #all, 2 do
    if string.sub(all[j], 1, 5) ~= 'saved' then
      table.insert(chans, {all[j], tonumber(string.match(all[j+1], ':([^:]*)$')) or 0})
    end
  end
  table.sort(chans, function(x, y)
    if x[2] ~= y[2] then return x[2] > y[2] end
    return x[1] < y[1]
  end)
  for j = keep + 1, #chans do redis.call('HDEL', KEYS[1], chans[j][1]) end
end
return 1
`)

// channelsKey is the hash of the channel memory name.
func (s *Store) channelsKey(name string) string { return s.cfg.prefix + ":{channels}:" + name }

// SaveChannelMarks merges marks into the memory name in one script.
func (s *Store) SaveChannelMarks(ctx context.Context, name, writer string, marks []store.ChannelMark, saved time.Time, keep int, ttl time.Duration) error {
	args := make([]any, 0, 4+4*len(marks))
	args = append(args, saved.UnixMilli(), max(keep, 1), max(ttl.Milliseconds(), 1), savedFieldOf(writer))
	for _, m := range marks {
		if m.Channel == "" || strings.HasPrefix(m.Channel, savedField) || strings.Contains(m.Guild, ":") || strings.Contains(m.Last, ":") {
			continue
		}
		args = append(args, m.Channel, m.Guild, m.Last, m.At.UnixMilli())
	}
	if err := s.script(ctx, saveChannelsScript, []string{s.channelsKey(name)}, args...).Err(); err != nil {
		return fmt.Errorf("redis save channel memory %s: %w", name, err)
	}
	return nil
}

// ChannelMarks reads the memory name.
func (s *Store) ChannelMarks(ctx context.Context, name string) ([]store.ChannelMark, map[string]time.Time, error) {
	all, err := s.c.HGetAll(ctx, s.channelsKey(name)).Result()
	if err != nil {
		return nil, nil, fmt.Errorf("redis read channel memory %s: %w", name, err)
	}
	saved := map[string]time.Time{}
	marks := make([]store.ChannelMark, 0, len(all))
	for field, v := range all {
		if writer, ok := strings.CutPrefix(field, savedField); ok {
			ms, err := strconv.ParseInt(v, 10, 64)
			if writer, ok = strings.CutPrefix(writer, ":"); err == nil && (ok || writer == "") {
				saved[writer] = time.UnixMilli(ms)
			}
			continue
		}
		parts := strings.Split(v, ":")
		if len(parts) != 3 {
			continue
		}
		ms, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil {
			continue
		}
		marks = append(marks, store.ChannelMark{Channel: field, Guild: parts[0], Last: parts[1], At: time.UnixMilli(ms)})
	}
	slices.SortFunc(marks, func(a, b store.ChannelMark) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return cmp.Compare(a.Channel, b.Channel)
	})
	return marks, saved, nil
}

// dropChannelsScript: KEYS memory. A script, not a DEL, so that it goes
// through the store's scripts as every write.
var dropChannelsScript = goredis.NewScript(`return redis.call('DEL', KEYS[1])`)

// DropChannelMarks deletes the memory name.
func (s *Store) DropChannelMarks(ctx context.Context, name string) error {
	if err := s.script(ctx, dropChannelsScript, []string{s.channelsKey(name)}).Err(); err != nil {
		return fmt.Errorf("redis drop channel memory %s: %w", name, err)
	}
	return nil
}

// SaveChannelMarks writes to Redis; while it is away the caller keeps its
// memory and writes it again later.
func (f *Fallback) SaveChannelMarks(ctx context.Context, name, writer string, marks []store.ChannelMark, saved time.Time, keep int, ttl time.Duration) error {
	if f.degraded.Load() {
		return fmt.Errorf("redis save channel memory %s: %w", name, ErrUnavailable)
	}
	err := f.primary.SaveChannelMarks(ctx, name, writer, marks, saved, keep, ttl)
	f.outage(ctx, err)
	return err
}

// DropChannelMarks deletes the memory in Redis; while it is away, the
// caller tries again later.
func (f *Fallback) DropChannelMarks(ctx context.Context, name string) error {
	if f.degraded.Load() {
		return fmt.Errorf("redis drop channel memory %s: %w", name, ErrUnavailable)
	}
	err := f.primary.DropChannelMarks(ctx, name)
	f.outage(ctx, err)
	return err
}

// ChannelMarks reads Redis.
func (f *Fallback) ChannelMarks(ctx context.Context, name string) ([]store.ChannelMark, map[string]time.Time, error) {
	if f.degraded.Load() {
		return nil, nil, fmt.Errorf("redis read channel memory %s: %w", name, ErrUnavailable)
	}
	marks, saved, err := f.primary.ChannelMarks(ctx, name)
	f.outage(ctx, err)
	return marks, saved, err
}
