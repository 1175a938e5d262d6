package main

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// The Dockerfile and compose.yaml are not built here (no Docker engine runs on
// the machine vigie is developed on): these tests keep them honest without it.

// instruction is one line of a Dockerfile, continuations joined.
type instruction struct {
	line int
	cmd  string // upper case: FROM, COPY, RUN...
	args string
}

func readDockerfile(t *testing.T) []instruction {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if more, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(more + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{start, strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// TestDockerfile checks what a build would find out: every COPY source
// exists, the final stage runs as a numeric user other than root and exposes
// vigie's port, and the build stage's go build line builds vigie (run here,
// its output in a temporary directory).
func TestDockerfile(t *testing.T) {
	ins := readDockerfile(t)
	var stages []int // index of each FROM
	for i, in := range ins {
		if in.cmd == "FROM" {
			stages = append(stages, i)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages; want a build stage and a final one", len(stages))
	}
	final := ins[stages[len(stages)-1]:]

	args := map[string]string{}
	var build *instruction
	for i, in := range ins {
		switch in.cmd {
		case "ARG":
			name, value, _ := strings.Cut(in.args, "=")
			args[name] = value
		case "COPY":
			fields := strings.Fields(in.args)
			if strings.HasPrefix(fields[0], "--from=") {
				continue
			}
			for _, src := range fields[:len(fields)-1] {
				if _, err := os.Stat(filepath.Join(repoRoot, src)); err != nil {
					t.Errorf("Dockerfile:%d: COPY %s: %v", in.line, src, err)
				}
			}
		case "RUN":
			if strings.Contains(in.args, "go build") {
				if i > stages[len(stages)-1] {
					t.Errorf("Dockerfile:%d: go build in the final stage", in.line)
				}
				build = &ins[i]
			}
		}
	}

	var user, expose string
	for _, in := range final {
		switch in.cmd {
		case "USER":
			user = in.args
		case "EXPOSE":
			expose = in.args
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("final stage: USER %q; want a numeric user other than root (0)", user)
	}
	if expose != "8080" {
		t.Errorf("final stage: EXPOSE %q; want 8080", expose)
	}

	if build == nil {
		t.Fatal("no RUN … go build in the Dockerfile")
	}
	if !strings.Contains(build.args, "CGO_ENABLED=0") || !strings.Contains(build.args, "-X main.version=${VERSION}") {
		t.Errorf("Dockerfile:%d: %s\nwant CGO_ENABLED=0 and -X main.version=${VERSION}, as make dist builds", build.line, build.args)
	}
	if testing.Short() {
		t.Skip("builds vigie")
	}
	// The line as the shell of the build stage runs it, with the ARG's
	// default and the output moved here.
	out := filepath.Join(t.TempDir(), "vigie")
	line := regexp.MustCompile(`-o \S+`).ReplaceAllString(build.args, "-o "+out)
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = repoRoot
	// .dockerignore leaves .git out of the build context, so the image's go
	// build sees no version control: neither does this one (in a clean clone
	// Go would otherwise stamp the commit's pseudo-version as the module's).
	cmd.Env = append(os.Environ(), "VERSION="+args["VERSION"], "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -buildvcs=false"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("Dockerfile:%d: %s: %v\n%s", build.line, line, err, b)
	}
	got, err := exec.Command(out, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "vigie " + args["VERSION"]; !strings.HasPrefix(string(got), want) {
		t.Errorf("vigie version says %q, want it to start with %q", got, want)
	}
}

// TestCompose checks that compose.yaml builds this Dockerfile, sets only
// variables vigie reads (each in docs/operations.md's table of environment
// variables, and read by the code or by the starter pack), and points
// VIGIE_REDIS_URL at its Redis service.
func TestCompose(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Build       string            `yaml:"build"`
			Image       string            `yaml:"image"`
			Environment map[string]string `yaml:"environment"`
			DependsOn   []string          `yaml:"depends_on"`
			StopGrace   string            `yaml:"stop_grace_period"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &compose); err != nil {
		t.Fatal(err)
	}
	v, ok := compose.Services["vigie"]
	if !ok {
		t.Fatal("compose.yaml: no service vigie")
	}
	if v.Build != "." {
		t.Errorf("vigie: build %q, want . (the Dockerfile beside it)", v.Build)
	}
	// Docker's default (10s) would kill vigie in the middle of its stop: up
	// to 15s, the drain and the store's close (daemon.Config.ShutdownTimeout's
	// default), and a margin.
	if grace, err := time.ParseDuration(v.StopGrace); err != nil || grace < 20*time.Second {
		t.Errorf("vigie: stop_grace_period %q, want 20s or more: the drain and the store's close", v.StopGrace)
	}

	documented := envTable(t)
	sources := readSources(t)
	for name := range v.Environment {
		if !slices.Contains(documented, name) {
			t.Errorf("vigie: %s is not in docs/operations.md's environment variables", name)
		}
		if !strings.Contains(sources, `"`+name+`"`) && !strings.Contains(sources, "${"+name+"}") {
			t.Errorf("vigie: %s is read by neither the code nor the starter pack", name)
		}
	}

	redisURL, ok := v.Environment["VIGIE_REDIS_URL"]
	if !ok {
		t.Fatal("vigie: no VIGIE_REDIS_URL")
	}
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := compose.Services[u.Hostname()]; !ok || !slices.Contains(v.DependsOn, u.Hostname()) {
		t.Errorf("VIGIE_REDIS_URL %s: %q is not a service vigie depends on", redisURL, u.Hostname())
	}
}

// envTable is the first column of docs/operations.md's table of environment
// variables.
func envTable(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(data), "## Environment variables")
	section, _, _ = strings.Cut(section, "\n## ")
	var names []string
	for _, m := range regexp.MustCompile("(?m)^\\| (`[A-Z_]+`(?:, `[A-Z_]+`)*) \\|").FindAllStringSubmatch(section, -1) {
		for _, n := range strings.Split(m[1], ", ") {
			names = append(names, strings.Trim(n, "`"))
		}
	}
	if len(names) == 0 {
		t.Fatal("docs/operations.md: no table of environment variables")
	}
	return names
}

// readSources is the Go code vigie is built from (tests left out) and the
// starter pack, as one text.
func readSources(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(repoRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") || d.Name() == "rules.example.yaml" {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			b.Write(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
