package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"jindianzi/portal"
	"jindianzi/portal/searchdocs"
	"jindianzi/portal/store"
	"jindianzi/search"
)

// shutdownGrace bounds how long in-flight requests may take after a signal.
const shutdownGrace = 8 * time.Second

func cmdServe(args []string, stdout, stderr io.Writer) error {
	var cfg config
	fs := newFlags("serve", &cfg, stderr)
	fs.StringVar(&cfg.Addr, "addr", env("JDZ_ADDR", "127.0.0.1:8080"), "address to listen on (JDZ_ADDR)")
	fs.BoolVar(&cfg.CookieSecure, "cookie-secure", env("JDZ_COOKIE_SECURE", "") == "true", "mark cookies Secure; set when served over HTTPS (JDZ_COOKIE_SECURE)")
	fs.StringVar(&cfg.ProxyHeader, "proxy-header", env("JDZ_PROXY_HEADER", ""), "header with the client address behind a reverse proxy, e.g. X-Forwarded-For (JDZ_PROXY_HEADER)")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", env("JDZ_TRUSTED_PROXIES", "127.0.0.1,::1"), "comma-separated proxy addresses whose --proxy-header is believed (JDZ_TRUSTED_PROXIES)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := newLogger(cfg.LogLevel, stderr)
	if err != nil {
		return err
	}
	spareProcessor()
	start := time.Now()
	if err := prepareDataDir(cfg.Data); err != nil {
		return err
	}
	st, err := openStore(cfg, log, true)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := wire(context.Background(), st, cfg.Data)
	if err != nil {
		return err
	}
	seg := p.seg
	indexDir := filepath.Join(cfg.Data, "index")
	idx, err := search.OpenCurrent(indexDir, seg)
	if err != nil {
		return fmt.Errorf("无法打开搜索索引: %w", err)
	}
	defer idx.Close()
	docs := &searchdocs.Loader{Store: st}
	indexer := &search.Indexer{Index: idx, Source: docs, Log: log}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// Rebuilds (a new mapping, words added to the search dictionary) run one
	// at a time into a new generation while the current one keeps answering.
	rebuild := newRebuilds(ctx, log, func(ctx context.Context) error {
		return rebuildServed(ctx, idx, indexDir, seg, docs)
	})

	app, err := portal.New(portal.Config{
		Attachments: p.files, Moderation: p.pipeline, Words: p.words, Indexer: indexer, Themes: p.suggester,
		Store: st, Index: idx, Log: log, Version: buildVersion(), Reindexer: rebuild,
		CookieSecure: cfg.CookieSecure, ProxyHeader: cfg.ProxyHeader,
		TrustedProxies: splitList(cfg.TrustedProxies),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("无法监听 %s: %w", cfg.Addr, err)
	}
	go sweep(ctx, st, log)
	// The indexer and the generation watcher stop before the index closes.
	var background sync.WaitGroup
	background.Go(func() { indexer.Run(ctx) })
	background.Go(func() { idx.Follow(ctx, 5*time.Second, log) })
	background.Go(func() { maintainThemes(ctx, st, seg, p.suggester, log, themesEvery) })
	if idx.NeedsRebuild() {
		log.Info("search: the index mapping changed")
		rebuild.Reindex()
	}
	go p.words.Watch(ctx, time.Minute, log)
	go watchDictionary(ctx, st, seg, time.Minute, rebuild, log)
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "db", st.String(), "data", cfg.Data,
		"search_slots", search.SearchSlots(), "gomaxprocs", runtime.GOMAXPROCS(0),
		"startup_ms", time.Since(start).Milliseconds())
	fmt.Fprintf(stdout, "金点子已启动: http://%s/\n", ln.Addr().String())

	select {
	case err := <-served:
		if err != nil && !errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("服务异常退出: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	stop()
	log.Info("shutting down: finishing in-flight requests")
	if err := app.ShutdownWithTimeout(shutdownGrace); err != nil {
		log.Warn("shutdown", "err", err)
	}
	<-served
	background.Wait()
	rebuild.wait()
	if err := idx.Close(); err != nil {
		log.Warn("close index", "err", err)
	}
	if err := st.Close(); err != nil {
		log.Warn("close database", "err", err)
	}
	log.Info("stopped")
	return nil
}

// spareProcessor lets the Go runtime run code on one processor more than
// the searches may hold at once (search.SearchSlots), so that requests are
// read and answered while every search slot is busy; see SearchSlots for
// the measurement. A GOMAXPROCS set in the environment wins.
func spareProcessor() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(search.SearchSlots() + 1)
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// sweep removes expired sessions and rate-limit rows every ten minutes until ctx ends.
func sweep(ctx context.Context, st *store.Store, log *slog.Logger) {
	every(ctx, 10*time.Minute, func(now time.Time) {
		if err := st.Sweep(ctx, now.UTC()); err != nil && ctx.Err() == nil {
			log.Warn("sweep expired rows", "err", err)
		}
	})
}

// every calls f with the time every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, f func(now time.Time)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			f(now)
		}
	}
}

// rebuilds runs the rebuilds of the served index one at a time in the
// background; it is the portal's Reindexer. A rebuild asked for while one
// runs is queued, once however often it is asked: the running one may have
// read ideas before the dictionary changed.
type rebuilds struct {
	ctx context.Context
	log *slog.Logger
	run func(context.Context) error

	mu     sync.Mutex
	state  portal.ReindexState
	closed bool // wait was called: start nothing more
	done   sync.WaitGroup
}

var _ portal.Reindexer = (*rebuilds)(nil)

// newRebuilds returns rebuilds that call run, until ctx ends.
func newRebuilds(ctx context.Context, log *slog.Logger, run func(context.Context) error) *rebuilds {
	return &rebuilds{ctx: ctx, log: log, run: run}
}

// Reindex starts a rebuild, or queues one after the running one.
func (r *rebuilds) Reindex() {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed || r.ctx.Err() != nil:
	case r.state.Running:
		r.state.Queued = true
	default:
		r.state.Running = true
		r.done.Go(r.loop)
	}
}

// ReindexState reports what the rebuilds are doing.
func (r *rebuilds) ReindexState() portal.ReindexState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// wait starts no more rebuilds and waits for the running one (which stops
// early once ctx has ended).
func (r *rebuilds) wait() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.done.Wait()
}

// loop runs rebuilds until none is queued.
func (r *rebuilds) loop() {
	for {
		r.log.Info("search: rebuilding the index")
		start := time.Now()
		err := r.run(r.ctx)
		switch {
		case r.ctx.Err() != nil:
		case err != nil:
			r.log.Error("search: rebuild failed", "err", err)
		default:
			r.log.Info("search: index rebuilt", "seconds", time.Since(start).Seconds())
		}
		end := time.Now()
		r.mu.Lock()
		r.state.Finished, r.state.Failed = &end, err != nil
		again := r.state.Queued && !r.closed && r.ctx.Err() == nil
		r.state.Running, r.state.Queued = again, false
		r.mu.Unlock()
		if !again {
			return
		}
	}
}

// swapWait bounds how long rebuildServed waits for Follow (which looks every
// five seconds) to swap a rebuilt generation in.
const swapWait = time.Minute

// rebuildServed fills a new generation of the served index from the
// database (search.Rebuild, as `jindianzi reindex` does) and waits until
// Follow has swapped it in, so that a rebuild reported finished is the one
// searches use.
func rebuildServed(ctx context.Context, idx *search.Index, dir string, seg *search.Segmenter, src search.AllSource) error {
	before := idx.Path()
	if err := search.Rebuild(ctx, dir, seg, src, nil); err != nil {
		return fmt.Errorf("rebuild %s: %w", dir, err)
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	deadline := time.After(swapWait)
	for idx.Path() == before {
		select {
		case <-ctx.Done():
			return nil
		case <-deadline:
			return fmt.Errorf("rebuild %s: the new generation was not swapped in within %v", dir, swapWait)
		case <-t.C:
		}
	}
	return nil
}

// watchDictionary adds the search-dictionary words admins added on other
// nodes to this process's segmenter, checking every interval until ctx
// ends. Each node keeps its own index, so a node that found new words also
// rebuilds its own; the node where the words were added started its rebuild
// then (and finds nothing new here).
func watchDictionary(ctx context.Context, st *store.Store, seg *search.Segmenter, interval time.Duration, rx portal.Reindexer, log *slog.Logger) {
	every(ctx, interval, func(time.Time) {
		added, err := loadDictionary(ctx, st, seg)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("reload search dictionary", "err", err)
		case added > 0:
			log.Info("search: dictionary words added on another node", "words", added)
			rx.Reindex()
		}
	})
}
