package main

import (
	"context"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"jindianzi/portal/demo"
	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
	"jindianzi/search"
)

var (
	reindexLine = regexp.MustCompile(`^索引已重建：(\d+) 个文档，[0-9.]+ 秒（[0-9]+ 文档/秒）；`)
	resultsLine = regexp.MustCompile(`^共 (\d+) 条结果$`)
	// progressCount is the count a progress bar shows: (done/total, …).
	progressCount = regexp.MustCompile(`\((\d+)/(\d+),`)
)

// searchDocs counts what a rebuild indexes: every idea and debate post.
func searchDocs(t *testing.T, target string) int {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, target, storetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ideas, err := st.CountIdeas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	posts, err := st.DebatePostsAfter(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return int(ideas) + len(posts)
}

// TestReindexAndSearch seeds the demo, rebuilds the index and searches it
// from the command line.
func TestReindexAndSearch(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			target := b.Target(t)
			common := []string{"--db", target, "--data", data, "--log-level", "warn"}
			if res := runCLI(t, "", append([]string{"demo", "--password", "demo-password-1"}, common...)...); res.code != 0 {
				t.Fatalf("demo: exit %d: %s", res.code, res.stderr)
			}

			// Before any index exists, search says so.
			res := runCLI(t, "", append([]string{"search", "老旧小区"}, common...)...)
			if res.code != 1 || !strings.Contains(res.stderr, "reindex") {
				t.Errorf("search without an index: exit %d\n%s", res.code, res.stderr)
			}
			assertOneErrorLine(t, res.stderr)

			want := searchDocs(t, target)
			res = runCLI(t, "", append([]string{"reindex", "--quiet"}, common...)...)
			if res.code != 0 {
				t.Fatalf("reindex: exit %d: %s", res.code, res.stderr)
			}
			m := reindexLine.FindStringSubmatch(res.stdout)
			if m == nil || strings.Count(res.stdout, "\n") != 1 {
				t.Fatalf("reindex output %q", res.stdout)
			}
			if n, _ := strconv.Atoi(m[1]); n != want || n < len(demo.Ideas) {
				t.Errorf("reindex counted %d documents, want %d", n, want)
			}
			if res.stderr != "" {
				t.Errorf("reindex --quiet wrote to stderr: %q", res.stderr)
			}

			res = runCLI(t, "", "search", "老旧小区", "--data", data, "--db", target)
			if res.code != 0 {
				t.Fatalf("search: exit %d: %s", res.code, res.stderr)
			}
			lines := strings.Split(strings.TrimRight(res.stdout, "\n"), "\n")
			m = resultsLine.FindStringSubmatch(lines[0])
			if m == nil {
				t.Fatalf("search output %q", res.stdout)
			}
			if total, _ := strconv.Atoi(m[1]); total < 1 || len(lines) != 1+min(total, 10) {
				t.Errorf("%d results but %d lines:\n%s", total, len(lines)-1, res.stdout)
			}
			if !strings.Contains(lines[1], "老旧小区") || !strings.Contains(lines[1], "加装电梯") || !strings.HasPrefix(lines[1], " 1. ") {
				t.Errorf("first hit %q, want the idea about 老旧小区加装电梯", lines[1])
			}

			// The query may follow the flags; -n limits the hits; --campaign filters.
			res = runCLI(t, "", append(append([]string{"search"}, common...), "-n", "1", "老旧小区", "电梯")...)
			if res.code != 0 || strings.Count(res.stdout, "\n") != 2 || !strings.Contains(res.stdout, "加装电梯") {
				t.Errorf("search after flags with -n 1: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			res = runCLI(t, "", append([]string{"search", "老旧小区", "--campaign", "no-such-campaign"}, common...)...)
			if res.code != 0 || strings.TrimSpace(res.stdout) != "共 0 条结果" {
				t.Errorf("search in an unknown campaign: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			res = runCLI(t, "", append([]string{"search", "老旧小区", "--campaign", demo.CampaignSlug}, common...)...)
			if res.code != 0 || !strings.Contains(res.stdout, "加装电梯") {
				t.Errorf("search in the demo campaign: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			// A phrase no text holds is searched again as words, and the
			// output says so; one found as typed is not.
			res = runCLI(t, "", append([]string{"search", "“老旧小区电梯”"}, common...)...)
			lines = strings.Split(strings.TrimRight(res.stdout, "\n"), "\n")
			if res.code != 0 || len(lines) < 3 || lines[0] != "没有与引号内短语完全一致的结果，以下是不加引号搜索 老旧小区电梯 的结果" ||
				!resultsLine.MatchString(lines[1]) || !strings.Contains(lines[2], "加装电梯") {
				t.Errorf("search for a phrase no text holds: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			// 上学, 学校 and 校门 are all in one idea's body, never in one
			// run: the index matches it, the check of the text does not.
			res = runCLI(t, "", append([]string{"search", "“上学校门”"}, common...)...)
			if res.code != 0 || !strings.HasPrefix(res.stdout, "没有与引号内短语完全一致的结果，以下是不加引号搜索 上学校门 的结果\n") {
				t.Errorf("search for a phrase whose pairs one idea holds apart: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			res = runCLI(t, "", append([]string{"search", "“老旧小区”"}, common...)...)
			if res.code != 0 || !resultsLine.MatchString(strings.SplitN(res.stdout, "\n", 2)[0]) || !strings.Contains(res.stdout, "加装电梯") {
				t.Errorf("search for a phrase found as typed: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			// Debate posts are found and shown as such.
			res = runCLI(t, "", append([]string{"search", "交通信号"}, common...)...)
			if res.code != 0 || !strings.Contains(res.stdout, "post-") || !strings.Contains(res.stdout, "[讨论]") {
				t.Errorf("search for the debate: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			// Hostile queries answer normally.
			for _, q := range []string{"！？。", `"老旧小区`, "status:pending", strings.Repeat("老旧小区", 2500), "\xff\xfe"} {
				res = runCLI(t, "", append([]string{"search", q}, common...)...)
				if res.code != 0 || !resultsLine.MatchString(strings.SplitN(res.stdout, "\n", 2)[0]) {
					t.Errorf("search %.20q: exit %d\n%.300s%s", q, res.code, res.stdout, res.stderr)
				}
			}

			// A second rebuild takes a new generation; search follows CURRENT.
			// Its progress bar counts every document, posts too.
			res = runCLI(t, "", append([]string{"reindex"}, common...)...)
			if res.code != 0 || !reindexLine.MatchString(res.stdout) {
				t.Fatalf("second reindex: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			bars := progressCount.FindAllStringSubmatch(res.stderr, -1)
			if len(bars) == 0 {
				t.Errorf("reindex drew no progress bar: %q", res.stderr)
			}
			for _, m := range bars {
				if total, _ := strconv.Atoi(m[2]); total != want {
					t.Errorf("progress bar %s/%s: total %d, want the %d documents", m[1], m[2], total, want)
				}
			}
			res = runCLI(t, "", append([]string{"search", "老旧小区"}, common...)...)
			if res.code != 0 || !strings.Contains(res.stdout, "加装电梯") {
				t.Errorf("search after the second reindex: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
		})
	}
}

// TestSearchBesideAWriter: a server holding the index makes search give up
// with a pointer to the API, within seconds.
func TestSearchBesideAWriter(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	common := []string{"--db", "sqlite:" + filepath.Join(data, "j.db"), "--data", data, "--log-level", "warn"}
	if res := runCLI(t, "", append([]string{"migrate"}, common...)...); res.code != 0 {
		t.Fatalf("migrate: exit %d: %s", res.code, res.stderr)
	}
	if res := runCLI(t, "", append([]string{"reindex", "--quiet"}, common...)...); res.code != 0 || !strings.Contains(res.stdout, "索引已重建：0 个文档") {
		t.Fatalf("reindex of an empty database: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	seg, err := search.OpenSegmenter(data)
	if err != nil {
		t.Fatal(err)
	}
	writer, err := search.OpenCurrent(filepath.Join(data, "index"), seg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := runCLI(t, "", append([]string{"search", "电梯"}, common...)...)
	took := time.Since(start)
	writer.Close()
	if res.code != 1 || !strings.Contains(res.stderr, "/api/v1/search") {
		t.Errorf("search beside a writer: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	assertOneErrorLine(t, res.stderr)
	if took > 10*time.Second {
		t.Errorf("search beside a writer took %v", took)
	}
	// Once the writer is gone, search works.
	if res := runCLI(t, "", append([]string{"search", "电梯"}, common...)...); res.code != 0 || strings.TrimSpace(res.stdout) != "共 0 条结果" {
		t.Errorf("search after the writer closed: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

func TestSearchUsage(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	for _, args := range [][]string{
		{"search"},
		{"search", "--db", db},
		{"search", "   ", "--db", db},
		{"search", "--campaign", "x", "--db", db},
		{"search", "电梯", "--no-such-flag"},
		{"search", "电梯", "-n", "many"},
		{"reindex", "extra"},
		{"reindex", "--quiet=maybe"},
	} {
		t.Run(strings.ReplaceAll(strings.Join(args, " "), db, "DB"), func(t *testing.T) {
			res := runCLI(t, "", args...)
			if res.code != 2 {
				t.Errorf("exit %d, want 2\n%s%s", res.code, res.stdout, res.stderr)
			}
			if res.stdout != "" {
				t.Errorf("stdout %q", res.stdout)
			}
			if !strings.Contains(res.stderr, "jindianzi: ") && !strings.Contains(res.stderr, "Usage") {
				t.Errorf("stderr %q", res.stderr)
			}
		})
	}
	if res := runCLI(t, "", "search", "-h"); res.code != 0 || !strings.Contains(res.stderr+res.stdout, "-campaign") {
		t.Errorf("search -h: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// TestBulkGC checks that a rebuild's garbage-collector settings apply and
// are put back, and that an operator's GOGC wins.
func TestBulkGC(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetGCPercent(-1)
	debug.SetGCPercent(before)
	limit := debug.SetMemoryLimit(-1)
	restore := bulkGC()
	if got := debug.SetGCPercent(-1); got != 400 {
		t.Errorf("GOGC during the rebuild = %d, want 400", got)
	}
	debug.SetGCPercent(400)
	if got := debug.SetMemoryLimit(-1); got != bulkMemoryLimit {
		t.Errorf("memory limit during the rebuild = %d, want %d", got, bulkMemoryLimit)
	}
	restore()
	if got := debug.SetGCPercent(-1); got != before {
		t.Errorf("GOGC after = %d, want %d", got, before)
	}
	debug.SetGCPercent(before)
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Errorf("memory limit after = %d, want %d", got, limit)
	}

	t.Setenv("GOGC", "150")
	bulkGC()()
	if got := debug.SetGCPercent(-1); got != before {
		t.Errorf("with GOGC set, GOGC became %d", got)
	}
	debug.SetGCPercent(before)
}

// TestSearchEvalCommand runs "search eval" on the search package's small
// file, as search and as the similar-ideas measurement, and checks that
// contradictory or missing flags are usage errors.
func TestSearchEvalCommand(t *testing.T) {
	file := filepath.Join("..", "..", "search", "testdata", "eval.csv")
	data := filepath.Join(t.TempDir(), "data")
	for _, tc := range []struct {
		args []string
		line *regexp.Regexp
	}{
		{[]string{"--file", file}, regexp.MustCompile(`^analyzer=(cjk|jindianzi) queries=29 mrr@10=[01]\.\d{4} recall@10=[01]\.\d{4}$`)},
		{[]string{"--file", file, "--drafts", "200"}, regexp.MustCompile(`^analyzer=(cjk|jindianzi) drafts=2 mrr@5=[01]\.\d{4} recall@5=[01]\.\d{4}$`)},
	} {
		res := runCLI(t, "", append([]string{"search", "eval", "--data", data}, tc.args...)...)
		if res.code != 0 {
			t.Fatalf("search eval %v: exit %d: %s", tc.args, res.code, res.stderr)
		}
		lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[1], "analyzer=jindianzi ") {
			t.Fatalf("search eval %v printed %q, want two lines, ours last", tc.args, res.stdout)
		}
		for _, l := range lines {
			if !tc.line.MatchString(l) {
				t.Errorf("search eval %v: line %q is not of the form %s", tc.args, l, tc.line)
			}
		}
	}
	for _, args := range [][]string{
		{"--file", file, "--drafts", "200", "--keywords", "2"},
		{"--file", file, "--drafts", "-1"},
		{"--drafts", "200"},
	} {
		if res := runCLI(t, "", append([]string{"search", "eval", "--data", data}, args...)...); res.code != 2 {
			t.Errorf("search eval %v: exit %d, want 2 (usage): %s", args, res.code, res.stderr)
		}
	}
}
