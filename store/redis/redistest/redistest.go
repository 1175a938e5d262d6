// Package redistest starts throwaway redis-server processes on free loopback
// ports for tests: one server, or a three-master Redis Cluster.
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// EnvURL names a Redis the tests use instead of starting their own.
const EnvURL = "VIGIE_TEST_REDIS_URL"

// EnvSkip set to 1 lets the tests skip when no redis-server can be found;
// otherwise a missing server fails them, so CI cannot pass without Redis.
const EnvSkip = "VIGIE_SKIP_REDIS"

// Find returns the path of a Redis program (redis-server, redis-cli,
// redis-sentinel), or "" when it is not installed.
func Find(name string) string {
	for _, p := range []string{"/usr/bin/" + name, "/usr/local/bin/" + name} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return ""
}

// Binary finds redis-server, or fails (or skips, with VIGIE_SKIP_REDIS=1) the test.
func Binary(t testing.TB, name string) string {
	t.Helper()
	if p := Find(name); p != "" {
		return p
	}
	if os.Getenv(EnvSkip) == "1" {
		t.Skipf("%s not found and %s=1", name, EnvSkip)
	}
	t.Fatalf("%s not found: install it (apt-get install redis-server), point %s at a Redis, "+
		"or set %s=1 to skip the Redis tests", name, EnvURL, EnvSkip)
	return ""
}

// Server is one redis-server process on a loopback port.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	Port int
	args []string

	mu  sync.Mutex
	cmd *exec.Cmd
}

// URL is the server's redis:// address.
func (s *Server) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d", s.Port) }

// Addr is host:port.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// URL returns the Redis to test against: VIGIE_TEST_REDIS_URL when set, else a
// fresh redis-server started for this test and stopped after it.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return Start(t).URL()
}

// Prefix is a key prefix that no other test shares, for tests that share a
// Redis (VIGIE_TEST_REDIS_URL, or several stores on one server): name, the
// process and a random part, so that a run does not meet the keys of another
// or of an earlier one.
func Prefix(name string) string {
	return fmt.Sprintf("%s-%d-%016x", name, os.Getpid(), rand.Uint64())
}

// Eventually polls cond every 10ms until it holds, and fails t, naming what,
// when it still does not after patience: for what a store does on its own
// schedule (a switch-over to memory and back, a failover). Patience is
// generous: a loaded machine must not fail what only takes long, and only a
// failing test waits it out. A wait, not a date.
func Eventually(t testing.TB, patience time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(patience); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %s", what, patience)
		}
	}
}

// Start runs a redis-server without persistence on a free loopback port and
// stops it when the test ends.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	s := &Server{t: t, bin: Binary(t, "redis-server"), dir: t.TempDir(), Port: freePort(t, false)}
	s.args = append([]string{"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir}, extra...)
	t.Cleanup(s.Stop)
	// The port was free when picked; another server may take it before
	// this one binds it (tests that run in parallel start theirs too): this
	// one then exits, and PING would be answered by the other.
	for tries := 1; ; tries++ {
		err := s.start()
		if err == nil {
			return s
		}
		if !errors.Is(err, errPortTaken) || tries == 5 {
			t.Fatal(err)
		}
		s.Port = freePort(t, false)
		s.args[1] = strconv.Itoa(s.Port)
	}
}

// errPortTaken is a server's port answered by another server.
var errPortTaken = errors.New("its port is another redis-server's")

// Restart starts the server again on the same port (after Stop), empty.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
}

// start starts the server on its port, unless it runs, and waits until it
// answers there.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	cmd := exec.Command(s.bin, s.args...)
	logf, err := os.Create(filepath.Join(s.dir, fmt.Sprintf("redis-%d.log", s.Port)))
	if err != nil {
		s.t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %v", err)
	}
	s.cmd = cmd
	err = waitPing(s.Addr())
	if err == nil {
		err = ownServer(s.Addr(), cmd.Process.Pid)
	}
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		s.cmd = nil
		log, _ := os.ReadFile(logf.Name())
		return fmt.Errorf("redis-server on port %d: %w\n%s", s.Port, err, log)
	}
	return nil
}

// ownServer checks that the server answering at addr is the process pid.
func ownServer(addr string, pid int) error {
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := c.Info(ctx, "server").Result()
	if err != nil && strings.HasPrefix(err.Error(), "ERR unknown command") {
		return nil // a test's server with INFO renamed away: not to be told
	}
	if err != nil {
		return fmt.Errorf("INFO server: %w", err)
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			if v != strconv.Itoa(pid) {
				return fmt.Errorf("%w (process %s answers, not %d)", errPortTaken, v, pid)
			}
			return nil
		}
	}
	return fmt.Errorf("INFO server gives no process_id:\n%s", info)
}

// Stop kills the server and waits for it; Restart brings it back.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

func waitPing(addr string) error {
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	var err error
	// A server loading its append-only file answers LOADING at once: it is
	// up, and may take longer than 200 tries on a busy machine (a minute at
	// most is waited for it).
	// On the wall clock: a wait for a server starting, not a date.
	loading := time.Now().Add(time.Minute)
	for tries := 0; tries < 200 || err != nil && strings.HasPrefix(err.Error(), "LOADING") && time.Now().Before(loading); tries++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("no answer to PING: %w", err)
}

// freePort finds a loopback port nobody listens on; for a cluster node, its bus
// port (port+10000) must be free too.
func freePort(t testing.TB, bus bool) int {
	t.Helper()
	for range 200 {
		var port int
		if bus {
			port = 20000 + rand.IntN(25000)
		} else {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			port = l.Addr().(*net.TCPAddr).Port
			l.Close()
			if port == 6379 {
				continue
			}
			return port
		}
		if free(port) && free(port+10000) {
			return port
		}
	}
	t.Fatal("no free port pair for a cluster node")
	return 0
}

func free(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// Cluster is a Redis Cluster of three masters without replicas.
type Cluster struct {
	Nodes []*Server
}

// Addrs are the nodes' host:port.
func (c *Cluster) Addrs() []string {
	var out []string
	for _, n := range c.Nodes {
		out = append(out, n.Addr())
	}
	return out
}

// URL is a redis+cluster:// address naming every node.
func (c *Cluster) URL() string {
	u := "redis+cluster://" + c.Nodes[0].Addr()
	for i, n := range c.Nodes[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + n.Addr()
	}
	return u
}

// StartCluster starts three cluster-enabled redis-servers, joins them with
// redis-cli --cluster create and waits for cluster_state:ok on every node.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	cli := Binary(t, "redis-cli")
	c := &Cluster{}
	for range 3 {
		dir := t.TempDir()
		n := &Server{t: t, bin: Binary(t, "redis-server"), dir: dir, Port: freePort(t, true)}
		n.args = []string{"--port", strconv.Itoa(n.Port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir,
			"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", "5000"}
		t.Cleanup(n.Stop)
		n.Restart()
		c.Nodes = append(c.Nodes, n)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command(cli, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, n := range c.Nodes {
		waitClusterOK(t, n.Addr())
	}
	return c
}

func waitClusterOK(t testing.TB, addr string) {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	var info string
	for range 400 {
		var err error
		info, err = c.ClusterInfo(context.Background()).Result()
		if err == nil && clusterOK(info) {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("cluster node %s never reached cluster_state:ok:\n%s", addr, info)
}

func clusterOK(info string) bool {
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "cluster_state:ok" {
			return true
		}
	}
	return false
}

// Sentinel is a master, its replica and three sentinels watching them, on
// loopback ports, for failover tests.
type Sentinel struct {
	// MasterName is the name the sentinels know the master by.
	MasterName string
	Master     *Server
	Replica    *Server
	Sentinels  []*Server
}

// URL is a redis+sentinel:// address naming every sentinel.
func (s *Sentinel) URL() string {
	u := fmt.Sprintf("redis+sentinel://%s/0?master_name=%s", s.Sentinels[0].Addr(), s.MasterName)
	for _, n := range s.Sentinels[1:] {
		u += "&addr=" + n.Addr()
	}
	return u
}

// StartSentinel starts a master, a replica of it and three sentinels (quorum
// two) that declare the master down after a second without an answer, and
// waits until each sentinel knows the replica and the two others, so that a
// failover can happen. The sentinels are redis-sentinel where it is
// installed, else redis-server --sentinel: the same program (Debian ships
// redis-sentinel in a package of its own).
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	bin := Binary(t, "redis-server")
	// Redis 7 waits 5 s before a replica's first sync, for more replicas to
	// share it: a master killed meanwhile would leave an empty replica.
	s := &Sentinel{MasterName: "vigie-test", Master: Start(t, "--repl-diskless-sync-delay", "0")}
	s.Replica = Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(s.Master.Port))
	waitReplicaUp(t, s.Replica.Addr())
	for range 3 {
		dir := t.TempDir()
		n := &Server{t: t, bin: bin, dir: dir, Port: freePort(t, false)}
		conf := filepath.Join(dir, "sentinel.conf")
		text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\n"+
			"sentinel monitor %s 127.0.0.1 %d 2\n"+
			"sentinel down-after-milliseconds %[3]s 1000\n"+
			"sentinel failover-timeout %[3]s 10000\n"+
			"sentinel parallel-syncs %[3]s 1\n",
			n.Port, dir, s.MasterName, s.Master.Port)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		n.args = []string{conf, "--sentinel"}
		if p := Find("redis-sentinel"); p != "" {
			n.bin, n.args = p, []string{conf}
		}
		t.Cleanup(n.Stop)
		n.Restart()
		s.Sentinels = append(s.Sentinels, n)
	}
	for _, n := range s.Sentinels {
		c := goredis.NewSentinelClient(&goredis.Options{Addr: n.Addr()})
		var got map[string]string
		ok := false
		for range 800 {
			m, err := c.Master(context.Background(), s.MasterName).Result()
			got = m
			if err == nil && m["num-slaves"] == "1" && m["num-other-sentinels"] == "2" {
				ok = true
				break
			}
			time.Sleep(25 * time.Millisecond)
		}
		c.Close()
		if !ok {
			t.Fatalf("sentinel %s never saw the replica and the two other sentinels: %v", n.Addr(), got)
		}
	}
	return s
}

// waitReplicaUp waits for the replica at addr to have finished its first
// sync with its master.
func waitReplicaUp(t testing.TB, addr string) {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	var info string
	for range 800 {
		info, _ = c.Info(context.Background(), "replication").Result()
		if strings.Contains(info, "master_link_status:up") {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("replica %s never synced with its master:\n%s", addr, info)
}

// MasterAddr is the master's address as the first sentinel that answers
// says it: after a failover, the replica's.
func (s *Sentinel) MasterAddr(ctx context.Context) (string, error) {
	var err error
	for _, n := range s.Sentinels {
		c := goredis.NewSentinelClient(&goredis.Options{Addr: n.Addr()})
		var addr []string
		addr, err = c.GetMasterAddrByName(ctx, s.MasterName).Result()
		c.Close()
		if err == nil && len(addr) == 2 {
			return addr[0] + ":" + addr[1], nil
		}
	}
	return "", fmt.Errorf("no sentinel names the master: %w", err)
}
