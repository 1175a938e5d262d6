package daemon

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot/internal/guard"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
	"github.com/vigie-bot/vigie/store/redis"
)

// openStore opens the Redis store when a URL is given (flag, then VIGIE_REDIS_URL),
// and the memory store otherwise. It returns the store's kind for /healthz. Opening
// Redis makes no network call; /healthz pings it. While Redis is away, vigie goes
// on moderating from memory and writes cases and audit back when it returns.
//
// VIGIE_MAX_OPEN_CASES bounds the cases open at once (store.DefaultOpenCaseCap):
// past it, new cases are dropped, their actions carried out all the same.
//
// VIGIE_REDIS_PREFIX sets the keys' prefix (vigie), so that several communities
// can share one Redis. Events evaluated at the same time share pipelines
// (auto-pipelining), and the writes nobody waits for (strikes, audit, the
// journal) go out with the next pipeline instead of a round trip of their own.
//
// What waits for Redis while it is away is spooled to disk (openSpool), so
// that a stop or a crash meanwhile does not lose it.
func openStore(cfg Config, reg prometheus.Registerer, g *guard.Guard) (store.Store, string, error) {
	url := cfg.RedisURL
	if url == "" {
		url = cfg.Getenv("VIGIE_REDIS_URL")
	}
	openCap := 0
	if v := cfg.Getenv("VIGIE_MAX_OPEN_CASES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, "", fmt.Errorf("store: VIGIE_MAX_OPEN_CASES=%q: want a positive number", v)
		}
		openCap = n
	}
	if url == "" {
		// The console's logouts run out on the daemon's clock, as the
		// console reads its sessions' expiry; the leases on theirs.
		return memory.New(memory.WithOpenCaseCap(openCap), memory.WithClock(cfg.Now), memory.WithLeaseClock(leaseClock(cfg))), "memory", nil
	}
	opts := []redis.Option{redis.WithAutoPipeline(), redis.WithOpenCaseCap(openCap)}
	if p := cfg.Getenv("VIGIE_REDIS_PREFIX"); p != "" {
		opts = append(opts, redis.WithPrefix(p))
	}
	// go-redis has one logger for the process, plain text on stderr by default,
	// a line twice a second while Redis is down: this vigie's log takes it, a
	// line a minute per kind of message.
	redis.UseLogger(redis.NewLogger(cfg.Logger.With("store", "redis"), time.Minute))
	primary, err := redis.Open(url, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("store: %w", err)
	}
	sp, err := openSpool(cfg, url, cfg.Getenv("VIGIE_REDIS_PREFIX"))
	if err != nil {
		return nil, "", errors.Join(fmt.Errorf("store: %w", err), primary.Close())
	}
	st := redis.NewFallback(primary, redis.FallbackOptions{Logger: cfg.Logger, OnPanic: g.Report, Spool: sp, Now: cfg.Now})
	if err := st.Register(reg); err != nil {
		return nil, "", errors.Join(fmt.Errorf("store metrics: %w", err), st.Close())
	}
	return st, "redis", nil
}

// openSpool opens the directory where what waits for Redis is kept on disk:
// VIGIE_SPOOL_DIR ("off": none), else systemd's STATE_DIRECTORY/spool, else
// XDG_STATE_HOME/vigie/spool, else HOME/.local/state/vigie/spool. A
// directory named by VIGIE_SPOOL_DIR that cannot be used is an error; one
// by default is logged, and vigie runs without a spool, as before it had
// one. The spool is the store's own: its Redis URL (without the password)
// and prefix name it.
func openSpool(cfg Config, url, prefix string) (*redis.Spool, error) {
	log := cfg.Logger.With("store", "redis")
	dir := cfg.Getenv("VIGIE_SPOOL_DIR")
	if dir == "off" {
		log.Warn("spool off (VIGIE_SPOOL_DIR=off): what waits for redis while it is away is lost if vigie stops before it returns")
		return nil, nil
	}
	set := dir != ""
	if !set {
		dir = defaultSpoolDir(cfg.Getenv)
	}
	if dir == "" {
		log.Warn("no spool: VIGIE_SPOOL_DIR, STATE_DIRECTORY, XDG_STATE_HOME and HOME are unset; what waits for redis while it is away is lost if vigie stops before it returns")
		return nil, nil
	}
	if prefix == "" {
		prefix = "vigie"
	}
	sp, err := redis.OpenSpool(dir, redis.SpoolIdentity(url, prefix), log)
	if err != nil {
		if set {
			return nil, fmt.Errorf("VIGIE_SPOOL_DIR=%s: %w (give a directory vigie can write, or off)", dir, err)
		}
		log.Error("no spool: the default directory cannot be used; set VIGIE_SPOOL_DIR to one vigie can write. What waits for redis while it is away is lost if vigie stops before it returns",
			"dir", dir, "err", err)
		return nil, nil
	}
	log.Info("spool: what waits for redis while it is away is kept in " + sp.Path())
	return sp, nil
}

// defaultSpoolDir is the spool's directory when VIGIE_SPOOL_DIR is unset.
func defaultSpoolDir(getenv func(string) string) string {
	if d := stateDir(getenv); d != "" {
		return filepath.Join(d, "spool")
	}
	return ""
}

// stateDir is where vigie keeps what must outlive a process on this host:
// systemd's STATE_DIRECTORY, else XDG_STATE_HOME/vigie, else
// HOME/.local/state/vigie; "" when none is set.
func stateDir(getenv func(string) string) string {
	if d, _, _ := strings.Cut(getenv("STATE_DIRECTORY"), ":"); d != "" {
		return d
	}
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "vigie")
	}
	if d := getenv("HOME"); d != "" {
		return filepath.Join(d, ".local", "state", "vigie")
	}
	return ""
}

// leaseClock is the clock the leases' holders read their deadlines on
// (LeaseOptions.Now), which a store kept in memory ends them on.
func leaseClock(cfg Config) func() time.Time {
	if cfg.Leases.Now != nil {
		return cfg.Leases.Now
	}
	// The leases keep the wall clock unless told otherwise (Config.Now).
	return time.Now
}
