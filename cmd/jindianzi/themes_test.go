package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"jindianzi/portal/demo"
	"jindianzi/portal/store/storetest"
	"jindianzi/search"
	"jindianzi/search/classify"
)

// TestThemesTrainAndClustersBuild seeds the demo, imports two letters about
// one matter, then trains the demo campaign's theme model and clusters its
// ideas from the command line.
func TestThemesTrainAndClustersBuild(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { testThemesTrainAndClustersBuild(t, b.Target(t)) })
	}
}

func testThemesTrainAndClustersBuild(t *testing.T, target string) {
	dir := t.TempDir()
	common := []string{"--db", target, "--data", filepath.Join(dir, "data"), "--log-level", "warn"}
	if res := runCLI(t, "", append([]string{"demo", "--password", "demo-password-1"}, common...)...); res.code != 0 {
		t.Fatalf("demo: exit %d: %s", res.code, res.stderr)
	}
	csv := filepath.Join(dir, "letters.csv")
	content := "id,title,time,body,label,likes\n" +
		"1,丽发新城附近搅拌站噪音扰民,2024-03-01 08:00:00,丽发新城小区旁边的搅拌站每天深夜还在生产，搅拌站噪音和粉尘严重影响丽发新城居民休息，请查处搅拌站夜间违规作业。,城市管理,3\n" +
		"2,丽发新城搅拌站夜间噪音粉尘严重,2024-03-02 09:00:00,丽发新城附近的搅拌站夜间生产噪音很大，搅拌站粉尘污染严重，丽发新城居民无法休息，请尽快查处搅拌站。,城市管理,4\n"
	if err := os.WriteFile(csv, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := runCLI(t, "", append([]string{"import", "--campaign", demo.CampaignSlug, "--file", csv, "--publish", "--quiet"}, common...)...); res.code != 0 {
		t.Fatalf("import: exit %d: %s", res.code, res.stderr)
	}

	// The serve loop clusters the campaign on its own.
	testMaintainThemes(t, target, filepath.Join(dir, "data"))

	res := runCLI(t, "", append([]string{"themes", "train", "--campaign", demo.CampaignSlug}, common...)...)
	if res.code != 0 {
		t.Fatalf("themes train: exit %d: %s", res.code, res.stderr)
	}
	// The two imported letters carry a theme: two labels, too few to train
	// on, so the campaign keeps its keyword model.
	last := regexp.MustCompile(`^model saved: campaign=` + demo.CampaignSlug + ` labels=(\d+) bytes=(\d+)$`)
	m := last.FindStringSubmatch(lastLine(res.stdout))
	if m == nil || m[1] == "0" || m[2] == "0" {
		t.Fatalf("themes train: last line %q\n%s", lastLine(res.stdout), res.stdout)
	}
	for _, want := range []string{"城市管理", "主题关键词"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("themes train output lacks %q:\n%s", want, res.stdout)
		}
	}
	st := storetest.OpenTarget(t, target)
	camp, err := st.CampaignBySlug(context.Background(), demo.CampaignSlug)
	if err != nil {
		t.Fatal(err)
	}
	if row, err := st.LatestThemeModel(context.Background(), camp.ID); err != nil || row.Labels < 2 {
		t.Fatalf("stored model: %+v, %v", row, err)
	}

	res = runCLI(t, "", append([]string{"clusters", "build", "--campaign", demo.CampaignSlug}, common...)...)
	if res.code != 0 {
		t.Fatalf("clusters build: exit %d: %s", res.code, res.stderr)
	}
	if !regexp.MustCompile(`(?m)^clusters saved: campaign=` + demo.CampaignSlug + ` clusters=[1-9]\d* seconds=`).MatchString(lastLine(res.stdout)) {
		t.Fatalf("clusters build: last line %q", lastLine(res.stdout))
	}
	for _, want := range []string{"size=2", "supports=7", "搅拌站"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("clusters build output lacks %q:\n%s", want, res.stdout)
		}
	}

	for _, bad := range [][]string{{"themes", "train"}, {"clusters", "build"}, {"themes", "train", "--campaign", "x", "extra"}} {
		if r := runCLI(t, "", append(bad, common...)...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, r.code)
		}
	}
	for _, cmd := range [][]string{{"themes", "train"}, {"clusters", "build"}} {
		r := runCLI(t, "", append(append(cmd, "--campaign", "no-such-campaign"), common...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "找不到征集活动") {
			t.Errorf("%v unknown campaign: exit %d, %s", cmd, r.code, r.stderr)
		}
		assertOneErrorLine(t, r.stderr)
	}
}

// testMaintainThemes runs serve's maintenance loop, fast, until it has
// clustered the demo campaign, and checks that it stops with its context.
func testMaintainThemes(t *testing.T, target, dataDir string) {
	t.Helper()
	st := storetest.OpenTarget(t, target)
	camp, err := st.CampaignBySlug(context.Background(), demo.CampaignSlug)
	if err != nil {
		t.Fatal(err)
	}
	seg, err := search.OpenSegmenter(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		maintainThemes(ctx, st, seg, classify.NewSuggester(seg), slog.New(slog.NewTextHandler(io.Discard, nil)), 20*time.Millisecond)
		close(stopped)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		cs, err := st.Clusters(context.Background(), camp.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("maintainThemes did not cluster the campaign")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("maintainThemes did not stop with its context")
	}
}
