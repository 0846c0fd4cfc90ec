package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"jindianzi/portal/demo"
	"jindianzi/search"
	"jindianzi/search/latency"
)

// scaleCopies is how many times TestServeScale imports each message:
// 34 × 2,947 is about 100,000 ideas.
const scaleCopies = 34

// TestServeScale measures the portal as residents meet it at about 100,000
// ideas: the messages of ../shared/data/messages.csv imported 34 times (each
// copy under its own id, its body changed a little: the copy's number added,
// one sentence of three dropped in turn), reindexed, and served by the real
// binary on SQLite. Eight clients then load the search API (filters,
// facets, highlighted snippets) with titles, with short queries and with
// two keywords (as search.TestScale searches in process), and the
// similar-ideas API with drafts; the test logs the latency percentiles and
// the server's resident memory.
//
// JDZ_SCALE_SERVE=dir keeps the database and index in dir between runs
// (delete it to import again). Building them takes a few minutes.
func TestServeScale(t *testing.T) {
	dir := os.Getenv("JDZ_SCALE_SERVE")
	if dir == "" {
		t.Skip("set JDZ_SCALE_SERVE to a directory for a 100,000-idea portal")
	}
	rows := readMessages(t, filepath.Join("..", "..", "..", "shared", "data", "messages.csv"))
	bin := builtBinary(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "jindianzi"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	db := "sqlite:" + filepath.Join(dir, "jdz.db")
	data := filepath.Join(dir, "data")
	common := []string{"--db", db, "--data", data, "--log-level", "warn"}
	if _, err := os.Stat(filepath.Join(dir, "jdz.db")); err != nil {
		start := time.Now()
		if res := runCLI(t, "", append([]string{"demo", "--password", "demo-password-1"}, common...)...); res.code != 0 {
			t.Fatalf("demo: exit %d: %s", res.code, res.stderr)
		}
		file := filepath.Join(dir, "ideas.csv")
		writeScaleCSV(t, file, rows)
		res := runCLI(t, "", append([]string{"import", "--campaign", demo.CampaignSlug, "--file", file, "--publish", "--quiet"}, common...)...)
		if res.code != 0 {
			t.Fatalf("import: exit %d: %s", res.code, res.stderr)
		}
		t.Logf("import: %s (%v with the demo and the file)", lastLine(res.stdout), time.Since(start).Round(time.Second))
	}
	reindexScale(t, dir, common)

	addr := freeAddr(t)
	// The access log is on (log level info), as in production.
	p := startBinary(t, dir, os.Environ(), "serve", "--addr", addr, "--db", db, "--data", data)
	base := "http://" + addr
	p.waitHealthy(t, base, time.Minute)
	t.Logf("serving; resident memory %s", vmRSS(p.cmd.Process.Pid))

	// Keywords as search.TestScale makes them, to compare in process
	// and over HTTP: each title's two most telling words.
	seg, err := search.OpenSegmenter(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var titles, short, keywords, drafts []string
	for i := 0; i < len(rows); i += 7 {
		titles = append(titles, rows[i].title)
		keywords = append(keywords, seg.KeywordQuery(rows[i].title, 2))
		// What a resident types: the first four characters of a title.
		short = append(short, string([]rune(rows[i].title)[:min(4, utf8.RuneCountInString(rows[i].title))]))
		body := rows[(i+3)%len(rows)].body
		drafts = append(drafts, string([]rune(body)[:min(200, utf8.RuneCountInString(body))]))
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	logged := len(p.stderr.String()) // where the next load's access log lines start
	load := func(name string, clients int, urls []string) {
		cpu := serverCPU(t, p.cmd.Process.Pid)
		r := latency.Run(clients, urls, func(u string) error {
			resp, err := hc.Get(u)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s: %d", u, resp.StatusCode)
			}
			return nil
		})
		for _, err := range r.Errs {
			t.Error(err)
		}
		// r.CPU is this test's (the clients'); the server's is read
		// from /proc.
		cpuEach := ((serverCPU(t, p.cmd.Process.Pid) - cpu) / time.Duration(max(1, len(r.Each)))).Round(10 * time.Microsecond)
		// The server's own time for each request (the access log's ms,
		// from reading the request to the answer, compressed): what is
		// left of the clients' times is the load generator and the
		// network on the same two cores. serve's stderr reaches this
		// process through a pipe and a copying goroutine, so the load's
		// last lines may still be on their way: wait for them.
		var in latency.Report
		for wait := time.Now(); ; time.Sleep(10 * time.Millisecond) {
			log := p.stderr.String()
			if in.Each = handlerTimes(log[logged:]); len(in.Each) >= len(r.Each) || time.Since(wait) > 5*time.Second {
				logged = len(log)
				break
			}
		}
		t.Logf("%s, %v; server CPU %v a request; in the server p50 %v p95 %v", name, r, cpuEach,
			in.Percentile(50).Round(10*time.Microsecond), in.Percentile(95).Round(10*time.Microsecond))
		if len(in.Each) != len(r.Each) {
			t.Errorf("%s: %d requests in the access log, %d made", name, len(in.Each), len(r.Each))
		}
	}
	// Each pass's queries end in a different number of "。", which the
	// analysis drops: the search is the same, but no pass finds another's
	// answers kept in serve's answer cache, so each measures searching.
	pass := 0
	searchPath := func(q string) string { return "/api/v1/search?q=" + url.QueryEscape(q) }
	searchURLs := func(qs []string) []string {
		pass++
		var out []string
		for _, q := range qs {
			out = append(out, base+searchPath(q+strings.Repeat("。", pass)))
		}
		return out
	}
	var similarPaths, similar []string
	for _, d := range drafts {
		path := "/api/v1/ideas/similar?text=" + url.QueryEscape(d)
		similarPaths = append(similarPaths, path)
		similar = append(similar, base+path)
	}
	// A first pass warms the index's pages and the facet columns.
	load("warm-up, search titles", 2, searchURLs(titles))
	for _, clients := range []int{1, 8} {
		load("GET /api/v1/search (facets, snippets), titles", clients, searchURLs(titles))
		load("GET /api/v1/search (facets, snippets), 4-character queries", clients, searchURLs(short))
		load("GET /api/v1/search (facets, snippets), two keywords", clients, searchURLs(keywords))
		load("GET /api/v1/ideas/similar, 200-character drafts", clients, similar)
	}
	// Popular queries: a set that fits the answer cache, searched twice.
	popular := searchURLs(short[:min(len(short), 128)])
	load("GET /api/v1/search, 128 4-character queries", 8, popular)
	load("GET /api/v1/search, the same 128 again (answers kept)", 8, popular)
	// The same two loads from wrk, a load generator of its own in C, in
	// another process: what eight clients measure when the load costs the
	// server's cores little.
	if wrk, err := exec.LookPath("wrk"); err != nil {
		t.Log("no wrk on PATH: the loads from another process are skipped (apt install wrk)")
	} else {
		var kw []string
		for _, q := range keywords {
			kw = append(kw, searchPath(q))
		}
		wrkLoad(t, wrk, base, "GET /api/v1/search (facets, snippets), two keywords", kw, true)
		wrkLoad(t, wrk, base, "GET /api/v1/ideas/similar, 200-character drafts", similarPaths, false)
	}
	t.Logf("resident memory after the load: %s", vmRSS(p.cmd.Process.Pid))
	p.stop(t)
}

// wrkScript is wrk's Lua script for wrkLoad: it requests the paths of the
// file $PATHS in turn, round after round; with $FRESH set, each round's
// queries end in one "。" more than the last (see TestServeScale), so no
// round finds the previous one's answers kept. It prints the latency
// percentiles, the requests and the failed ones.
const wrkScript = `
local paths = {}
for line in io.lines(os.getenv("PATHS")) do paths[#paths+1] = line end
local fresh = os.getenv("FRESH") == "1"
local i = 0
request = function()
  i = i + 1
  local p = paths[(i - 1) % #paths + 1]
  if fresh then p = p .. string.rep("%E3%80%82", math.floor((i - 1) / #paths) + 1) end
  return wrk.format("GET", p)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("p50=%.2fms p95=%.2fms p99=%.2fms requests=%d per_s=%.0f failed=%d\n",
    latency:percentile(50)/1000, latency:percentile(95)/1000, latency:percentile(99)/1000,
    summary.requests, summary.requests/(summary.duration/1e6),
    e.connect + e.read + e.write + e.timeout + e.status))
end
`

// wrkLoad runs wrk with 8 connections for 15 s against base over paths,
// after 3 s from 2 connections to warm up, and logs what it measured.
func wrkLoad(t *testing.T, wrk, base, name string, paths []string, fresh bool) {
	t.Helper()
	dir := t.TempDir()
	script, list := filepath.Join(dir, "load.lua"), filepath.Join(dir, "paths")
	if err := os.WriteFile(script, []byte(wrkScript), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(list, []byte(strings.Join(paths, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATHS="+list)
	if fresh {
		env = append(env, "FRESH=1")
	}
	run := func(conns int, dur string) string {
		cmd := exec.Command(wrk, "-t1", "-c"+strconv.Itoa(conns), "-d"+dur, "--timeout", "10s", "-s", script, base)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("wrk: %v\n%s", err, out)
		}
		return lastLine(string(out))
	}
	run(2, "3s")
	res := run(8, "15s")
	t.Logf("wrk, %s, 8 connections for 15 s: %s", name, res)
	if !strings.Contains(res, " failed=0") {
		t.Errorf("wrk, %s: requests failed: %s", name, res)
	}
}

// message is one row of the messages file.
type message struct{ id, title, body string }

// readMessages reads the id, title and body columns of a messages CSV,
// skipping the test when the file is absent.
func readMessages(t *testing.T, path string) []message {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("no %s: %v", path, err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range recs[0] {
		col[name] = i
	}
	var out []message
	for _, r := range recs[1:] {
		out = append(out, message{id: r[col["id"]], title: r[col["title"]], body: r[col["body"]]})
	}
	return out
}

// writeScaleCSV writes scaleCopies perturbed copies of rows as an import
// file: each copy has its own id and number, and drops one sentence in
// three, a different one in each copy.
func writeScaleCSV(t *testing.T, path string, rows []message) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"id", "title", "time", "body"})
	day := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	for c := range scaleCopies {
		for i, r := range rows {
			var body []rune
			sentence := 0
			for _, ch := range r.body {
				if sentence%3 != c%3 || sentence == 0 {
					body = append(body, ch)
				}
				if ch == '。' || ch == '！' || ch == '？' {
					sentence++
				}
			}
			when := day.Add(time.Duration(c*len(rows)+i) * time.Minute)
			_ = w.Write([]string{fmt.Sprintf("%d-%s", c, r.id), r.title, when.Format("2006-01-02 15:04:05"),
				string(body) + "（第" + strconv.Itoa(c+1) + "份）"})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// handlerTimes returns, shortest first, the time each API request in log
// (serve's access log lines, "msg=http … ms=…") took in the server.
func handlerTimes(log string) []time.Duration {
	var out []time.Duration
	for line := range strings.Lines(log) {
		if !strings.Contains(line, " msg=http ") || !strings.Contains(line, " path=/api/v1/") {
			continue
		}
		_, ms, ok := strings.Cut(line, " ms=")
		if !ok {
			continue
		}
		ms, _, _ = strings.Cut(ms, " ")
		if v, err := strconv.ParseFloat(ms, 64); err == nil {
			out = append(out, time.Duration(v*float64(time.Millisecond)))
		}
	}
	slices.Sort(out)
	return out
}

// serverCPU returns the CPU time (user and system) process pid has used,
// from /proc/pid/stat, whose times are in clock ticks of 1/100 s on Linux.
func serverCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after it. utime and stime are fields 14 and 15 of the line.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("/proc/%d/stat: %q", pid, b)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// reindexScale runs the binary's reindex on the scale portal in dir, as an
// operator would, and logs what it says (documents, seconds, docs/s), the
// CPU time and peak memory the process used, and the size of the index
// generation it left over the ideas' title and body text.
func reindexScale(t *testing.T, dir string, common []string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(dir, "jindianzi"), append([]string{"reindex", "--quiet"}, common...)...)
	cmd.Env = os.Environ() // GOGC or GOMEMLIMIT set here override reindex's own
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("reindex: %v: %s", err, out)
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var cpu time.Duration
	var peak int64
	if ru != nil {
		cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		peak = ru.Maxrss << 10 // Linux reports kilobytes
	}
	index := filepath.Join(dir, "data", "index")
	gen, err := os.ReadFile(filepath.Join(index, "CURRENT"))
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	err = filepath.WalkDir(filepath.Join(index, strings.TrimSpace(string(gen))), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			size += info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var text int64
	f, err := os.Open(filepath.Join(dir, "ideas.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[1:] {
		text += int64(len(r[1]) + len(r[3])) // title, body
	}
	t.Logf("reindex: %s; CPU %v, peak memory %d MB; index %d MB = %.2f× the %d MB of title and body text",
		strings.TrimSpace(lastLine(string(out))), cpu.Round(100*time.Millisecond), peak>>20, size>>20,
		float64(size)/float64(text), text>>20)
}

func TestHandlerTimes(t *testing.T) {
	log := `time=2026-11-26T06:33:06.982Z level=INFO msg=http method=GET path=/healthz status=200 ms=0.967 bytes=193 ip=127.0.0.1
time=2026-11-26T06:33:07.114Z level=INFO msg=http method=GET path=/api/v1/search status=200 ms=114.057 bytes=1116 ip=127.0.0.1
time=2026-11-26T06:33:07.120Z level=INFO msg=http method=GET path=/api/v1/ideas/similar status=200 ms=2.5 bytes=99 ip=127.0.0.1
time=2026-11-26T06:33:07.130Z level=WARN msg="search: slow" path=/api/v1/search ms=9
`
	got := handlerTimes(log)
	want := []time.Duration{2500 * time.Microsecond, 114057 * time.Microsecond}
	if !slices.Equal(got, want) {
		t.Errorf("handlerTimes = %v, want %v", got, want)
	}
}
