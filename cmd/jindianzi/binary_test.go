package main

// These tests build the real binary once and run it as an operator would:
// copied alone into an empty directory, with no Go toolchain, module cache
// or source tree to lean on.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
)

var (
	buildOnce sync.Once
	buildDir  string // removed by TestMain
	buildBin  string
	buildErr  error
	buildTook time.Duration
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// builtBinary compiles this package once per test binary and returns the
// executable's path. It skips under -short: the first cgo build is slow.
func builtBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary with")
	}
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "jindianzi-build-"); buildErr != nil {
			return
		}
		pkgDir, err := os.Getwd()
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(buildDir, "jindianzi")
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		start := time.Now()
		cmd := exec.CommandContext(ctx, gobin, "build", "-o", buildBin, ".")
		cmd.Dir = pkgDir
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
		buildTook = time.Since(start)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	t.Logf("binary built in %v", buildTook.Round(time.Millisecond))
	return buildBin
}

// installAlone copies only the binary into a fresh, empty directory.
func installAlone(t *testing.T, bin string) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "jindianzi"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// bareEnv is an environment without the developer's Go setup: HOME, GOPATH
// and GOMODCACHE are new empty directories, and no JDZ_* variable leaks in.
// It returns the three directories so a test can check they stay empty.
func bareEnv(t *testing.T) (env []string, emptyDirs []string) {
	home, gopath, modcache := t.TempDir(), t.TempDir(), t.TempDir()
	return []string{
		"HOME=" + home, "GOPATH=" + gopath, "GOMODCACHE=" + modcache, "GOFLAGS=",
		"PATH=" + os.Getenv("PATH"),
	}, []string{home, gopath, modcache}
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// process is a running jindianzi started by a test.
type process struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	started        time.Time
	exited         chan struct{} // closed when the process has been reaped
}

// startBinary runs ./jindianzi args in dir. The process is killed at cleanup
// if the test did not stop it.
func startBinary(t *testing.T, dir string, env []string, args ...string) *process {
	t.Helper()
	p := &process{stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command("./jindianzi", args...)
	p.cmd.Dir, p.cmd.Env = dir, env
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start jindianzi: %v", err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
			t.Logf("jindianzi killed at cleanup; stderr:\n%s", p.stderr.String())
		}
	})
	return p
}

// healthz is the part of GET /healthz the tests check, decoded from the wire.
type healthz struct {
	Status   string `json:"status"`
	Version  string `json:"version"`
	Database struct {
		Status        string `json:"status"`
		Dialect       string `json:"dialect"`
		SchemaVersion int    `json:"schema_version"`
	} `json:"database"`
	Index struct {
		Status string `json:"status"`
	} `json:"index"`
}

var client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// waitHealthy polls /healthz until it answers 200 and returns the body and
// the time from process start to that answer.
func (p *process) waitHealthy(t *testing.T, base string, limit time.Duration) (healthz, time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			t.Fatalf("jindianzi exited before it was healthy (%v); stderr:\n%s", p.cmd.ProcessState, p.stderr.String())
		default:
		}
		resp, err := client.Get(base + "/healthz")
		if err != nil {
			last = err.Error()
			time.Sleep(5 * time.Millisecond)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			last = fmt.Sprintf("%d %s", resp.StatusCode, body)
			time.Sleep(5 * time.Millisecond)
			continue
		}
		took := time.Since(p.started)
		var h healthz
		if err := json.Unmarshal(body, &h); err != nil {
			t.Fatalf("/healthz body %q: %v", body, err)
		}
		if h.Status != "ok" {
			t.Fatalf("/healthz answered 200 with status %q: %s", h.Status, body)
		}
		return h, took
	}
	t.Fatalf("no healthy /healthz within %v (last: %s); stderr:\n%s", limit, last, p.stderr.String())
	return healthz{}, 0
}

// stop sends SIGTERM and expects a clean exit within ten seconds.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	p.waitExit(t, 10*time.Second)
}

func (p *process) waitExit(t *testing.T, limit time.Duration) {
	t.Helper()
	start := time.Now()
	select {
	case <-p.exited:
	case <-time.After(limit):
		t.Fatalf("jindianzi still running %v after SIGTERM; stderr:\n%s", limit, p.stderr.String())
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0; stderr:\n%s", code, p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "msg=stopped") {
		t.Errorf("the log does not say it stopped; stderr:\n%s", p.stderr.String())
	}
	t.Logf("exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
}

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	return fmt.Sprintf("127.0.0.1:%d", closedPort(t))
}

// vmRSS reads the resident set size of a process from /proc.
func vmRSS(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

var (
	startupMS = regexp.MustCompile(`msg=serving .*startup_ms=(\d+)`)
	// processors is serve's search slots and GOMAXPROCS, from its log.
	processors = regexp.MustCompile(`msg=serving .*search_slots=(\d+) gomaxprocs=(\d+)`)
)

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp, string(body)
}

// TestBinarySelfContained runs the binary alone in an empty directory on its
// default SQLite database, measures the cold start, and stops it with SIGTERM.
func TestBinarySelfContained(t *testing.T) {
	bin := builtBinary(t)
	dir := installAlone(t, bin)
	env, mustStayEmpty := bareEnv(t)
	addr := freeAddr(t)
	base := "http://" + addr

	p := startBinary(t, dir, env, "serve", "--addr", addr)
	h, coldStart := p.waitHealthy(t, base, 30*time.Second)
	rss := vmRSS(p.cmd.Process.Pid)
	var logged string
	if m := startupMS.FindStringSubmatch(p.stderr.String()); m != nil {
		logged = m[1] + " ms"
	}
	t.Logf("cold start (process start → first /healthz 200): %v; serve's own startup_ms: %s; VmRSS after first /healthz: %s",
		coldStart.Round(time.Millisecond), logged, rss)
	// No GOMAXPROCS in the environment: serve keeps a processor beside
	// its search slots (spareProcessor).
	if m := processors.FindStringSubmatch(p.stderr.String()); m == nil {
		t.Errorf("the serving line gives no search_slots and gomaxprocs:\n%s", p.stderr.String())
	} else if slots, _ := strconv.Atoi(m[1]); slots < 1 || m[2] != strconv.Itoa(slots+1) {
		t.Errorf("search_slots=%s gomaxprocs=%s, want GOMAXPROCS one above at least one slot", m[1], m[2])
	}

	if h.Database.Dialect != "sqlite" || h.Database.SchemaVersion != store.LatestVersion() || h.Index.Status != "ok" {
		t.Errorf("/healthz = %+v, want sqlite at schema %d with index ok", h, store.LatestVersion())
	}

	resp, body := get(t, base+"/")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(body, "金点子") || !strings.Contains(body, `lang="zh-CN"`) {
		t.Errorf("GET / is not the Chinese home page:\n%.500s", body)
	}
	// The stylesheet comes from the files embedded in the binary.
	if m := regexp.MustCompile(`href="(/static/[^"]+\.css)"`).FindStringSubmatch(body); m == nil {
		t.Error("the home page links no stylesheet")
	} else if resp, css := get(t, base+m[1]); resp.StatusCode != http.StatusOK || len(css) == 0 {
		t.Errorf("GET %s = %d (%d bytes)", m[1], resp.StatusCode, len(css))
	}

	for _, f := range []string{"dict/jieba.dict.utf8", "dict/hmm_model.utf8", "dict/idf.utf8", "jindianzi.db"} {
		fi, err := os.Stat(filepath.Join(dir, "data", f))
		if err != nil || fi.Size() == 0 {
			t.Errorf("data/%s was not written: %v", f, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "data", "index")); err != nil || !fi.IsDir() {
		t.Errorf("data/index is missing: %v", err)
	}

	p.stop(t)
	if want := "金点子已启动: " + base + "/\n"; p.stdout.String() != want {
		t.Errorf("stdout = %q, want %q", p.stdout.String(), want)
	}
	// Nothing was looked up in, or written to, a Go installation or home.
	for _, d := range mustStayEmpty {
		if entries, _ := os.ReadDir(d); len(entries) != 0 {
			t.Errorf("%s is no longer empty: %v", d, entries)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the install directory holds %v, want only jindianzi and data", entries)
	}

	// A second start reuses the data directory and its dictionaries.
	p = startBinary(t, dir, env, "serve", "--addr", addr)
	h, warmStart := p.waitHealthy(t, base, 30*time.Second)
	t.Logf("warm start on the same data directory: %v; VmRSS: %s", warmStart.Round(time.Millisecond), vmRSS(p.cmd.Process.Pid))
	if h.Database.SchemaVersion != store.LatestVersion() {
		t.Errorf("after restart /healthz = %+v", h)
	}
	p.stop(t)
	if strings.Contains(p.stderr.String(), "msg=migrated") {
		t.Error("the second start migrated again")
	}
}

// TestBinaryMySQL serves from an empty MySQL database.
func TestBinaryMySQL(t *testing.T) {
	if os.Getenv(storetest.EnvMySQL) == "" {
		t.Skip(storetest.EnvMySQL + " not set")
	}
	bin := builtBinary(t)
	target := storetest.MySQLTarget(t)
	dir := installAlone(t, bin)
	env, _ := bareEnv(t)
	addr := freeAddr(t)

	p := startBinary(t, dir, env, "serve", "--addr", addr, "--db", target, "--data", filepath.Join(dir, "var"))
	h, took := p.waitHealthy(t, "http://"+addr, 30*time.Second)
	t.Logf("cold start on MySQL: %v; VmRSS: %s", took.Round(time.Millisecond), vmRSS(p.cmd.Process.Pid))
	if h.Database.Dialect != "mysql" || h.Database.SchemaVersion < 1 || h.Database.Status != "ok" {
		t.Errorf("/healthz = %+v, want mysql with schema_version ≥ 1", h)
	}
	if _, err := os.Stat(filepath.Join(dir, "var", "dict", "jieba.dict.utf8")); err != nil {
		t.Errorf("dictionaries not installed under --data: %v", err)
	}
	p.stop(t)
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Error("a ./data directory was created although --data and --db point elsewhere")
	}
}

// TestBinaryShutdownFinishesInFlightRequest: a request whose headers are
// still arriving when SIGTERM lands is answered, new connections are
// refused, and the process then exits 0.
func TestBinaryShutdownFinishesInFlightRequest(t *testing.T) {
	bin := builtBinary(t)
	dir := installAlone(t, bin)
	env, _ := bareEnv(t)
	addr := freeAddr(t)
	p := startBinary(t, dir, env, "serve", "--addr", addr)
	p.waitHealthy(t, "http://"+addr, 30*time.Second)

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: "+addr+"\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // let the server start reading the request
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	select {
	case <-p.exited:
		t.Fatalf("exited with a request in flight; stderr:\n%s", p.stderr.String())
	default:
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("a new connection was accepted while shutting down")
	}

	// Finish the request.
	if _, err := io.WriteString(conn, "\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the in-flight request got no answer: %v; stderr:\n%s", err, p.stderr.String())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"status":"ok"`) {
		t.Errorf("in-flight request = %d %s", resp.StatusCode, body)
	}
	p.waitExit(t, 10*time.Second)
}

// TestBinaryExitCodes checks main's exit codes and stderr through the real
// process, not just run's return value.
func TestBinaryExitCodes(t *testing.T) {
	bin := builtBinary(t)
	dir := installAlone(t, bin)
	env, _ := bareEnv(t)
	file := regularFile(t)
	tests := []struct {
		args    []string
		code    int
		oneLine bool
	}{
		{[]string{"version"}, 0, false},
		{[]string{"migrate", "--db", "postgres://x"}, 1, true},
		{[]string{"migrate", "--db", "mysql://root@" + freeAddr(t) + "/x"}, 1, true},
		{[]string{"serve", "--addr", freeAddr(t), "--data", filepath.Join(file, "sub")}, 1, true},
		{[]string{"frobnicate"}, 2, false},
		{[]string{"user", "add"}, 2, false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			cmd := exec.Command("./jindianzi", tt.args...)
			cmd.Dir, cmd.Env = dir, env
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			_ = cmd.Run()
			if got := cmd.ProcessState.ExitCode(); got != tt.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", got, tt.code, stderr.String())
			}
			if tt.oneLine {
				assertOneErrorLine(t, stderr.String())
			}
			if tt.code == 0 && !strings.HasPrefix(stdout.String(), "jindianzi ") {
				t.Errorf("version printed %q", stdout.String())
			}
			if tt.code == 2 && !strings.HasPrefix(stderr.String(), "jindianzi: ") {
				t.Errorf("usage error stderr = %q", stderr.String())
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Error("a failing command created ./data")
	}
}
