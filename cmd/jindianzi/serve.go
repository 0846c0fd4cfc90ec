package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/signal"
	"path/filepath"
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

	app, err := portal.New(portal.Config{
		Attachments: p.files, Moderation: p.pipeline, Words: p.words, Indexer: indexer, Themes: p.suggester,
		Store: st, Index: idx, Log: log, Version: buildVersion(),
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
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go sweep(ctx, st, log)
	// The indexer and the generation watcher stop before the index closes.
	var background sync.WaitGroup
	background.Go(func() { indexer.Run(ctx) })
	background.Go(func() { idx.Follow(ctx, 5*time.Second, log) })
	background.Go(func() { maintainThemes(ctx, st, seg, p.suggester, log, themesEvery) })
	if idx.NeedsRebuild() {
		// The mapping changed: rebuild into a new generation while the old
		// one keeps answering; Follow swaps it in when done.
		background.Go(func() {
			log.Info("search: rebuilding the index for a new mapping")
			if err := search.Rebuild(ctx, indexDir, seg, docs, nil); err != nil && ctx.Err() == nil {
				log.Error("search: rebuild failed", "err", err)
			}
		})
	}
	go p.words.Watch(ctx, time.Minute, log)
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "db", st.String(), "data", cfg.Data,
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
	if err := idx.Close(); err != nil {
		log.Warn("close index", "err", err)
	}
	if err := st.Close(); err != nil {
		log.Warn("close database", "err", err)
	}
	log.Info("stopped")
	return nil
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
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if err := st.Sweep(ctx, now.UTC()); err != nil && ctx.Err() == nil {
				log.Warn("sweep expired rows", "err", err)
			}
		}
	}
}
