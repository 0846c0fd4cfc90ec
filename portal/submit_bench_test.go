package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"jindianzi/moderation"
	"jindianzi/portal/attachment"
	"jindianzi/portal/campaign"
	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
	"jindianzi/search"
)

// BenchmarkSubmitIdea measures POST /api/v1/ideas end to end — HTTP over
// loopback, validation, moderation, the daily-limit count, the transaction
// writing the idea, its event and the outbox row — with 16 concurrent
// clients, on SQLite and (with JDZ_TEST_MYSQL_DSN) on MySQL. It reports
// submissions/s and latency percentiles:
//
//	go test ./portal -run '^$' -bench BenchmarkSubmitIdea -benchtime 20000x
func BenchmarkSubmitIdea(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) { benchSubmit(b, be.Target(b)) })
	}
}

func benchSubmit(b *testing.B, target string) {
	const clients = 16
	st := storetest.OpenTarget(b, target)
	files, err := attachment.NewDir(filepath.Join(b.TempDir(), "attachments"))
	if err != nil {
		b.Fatal(err)
	}
	// The real pipeline: normalisation, word list, masking, spam rules and
	// the simhash duplicate check over jieba tokens.
	segOnce.Do(func() { seg, segErr = search.OpenSegmenter(testDataDir) })
	if segErr != nil {
		b.Fatal(segErr)
	}
	pipe, err := moderation.NewPipeline(moderation.Config{Tokenizer: seg})
	if err != nil {
		b.Fatal(err)
	}
	app, err := New(Config{Store: st, Attachments: files, Log: storetest.Logger(b), Moderation: pipe,
		SubmitLimit: 1 << 30, TrackLimit: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	open := time.Now().Add(-time.Hour)
	closes := time.Now().Add(24 * time.Hour)
	limit := 5
	_, err = campaign.Create(context.Background(), st, campaign.Input{
		Slug: "bench", Title: "压测活动", Policy: store.PolicyPost, OpensAt: &open, ClosesAt: &closes, DailyLimit: &limit,
		Themes: []campaign.ThemeInput{{Name: "城市管理", Keywords: []string{"停车", "垃圾"}}, {Name: "交通出行", Keywords: []string{"公交", "红绿灯"}}},
	}, store.Actor{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	defer app.Shutdown()
	url := "http://" + ln.Addr().String() + "/api/v1/ideas"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}

	var next atomic.Int64
	lat := make([]time.Duration, b.N)
	var failures atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				body, _ := json.Marshal(map[string]any{
					"campaign": "bench", "title": fmt.Sprintf("关于小区停车难的建议%d", i),
					"body":     "我们小区晚上停车特别困难，车辆乱停乱放堵住消防通道，建议合理规划停车位并加强管理，第" + fmt.Sprint(i) + "号意见。",
					"province": "330000", "city": "330100", "display_name": "压测", "consent": true,
					"phone": fmt.Sprintf("139%08d", i),
				})
				t0 := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err != nil {
					failures.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != http.StatusCreated {
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failures.Load(); n > 0 {
		b.Fatalf("%d of %d submissions failed", n, b.N)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "submissions/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
