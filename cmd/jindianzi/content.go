package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"

	"jindianzi/portal/demo"
	"jindianzi/portal/ideas"
	"jindianzi/portal/store"
)

func cmdImport(args []string, stdout, stderr io.Writer) error {
	var cfg config
	var slug, file, mapping string
	var publish, quiet bool
	fs := newFlags("import", &cfg, stderr)
	fs.StringVar(&slug, "campaign", "", "campaign slug to import into (required)")
	fs.StringVar(&file, "file", "", "CSV file (UTF-8, header row) (required)")
	fs.StringVar(&mapping, "map", "", "columns for fields, e.g. title=标题,body=内容,time=时间,theme=label,supports=likes")
	fs.BoolVar(&publish, "publish", false, "publish imported ideas at once (default: they wait for moderation)")
	fs.BoolVar(&quiet, "quiet", false, "no progress bar")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if slug == "" || file == "" {
		return fmt.Errorf("%w: --campaign and --file are required", errUsage)
	}
	m, err := ideas.ParseMap(mapping)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("无法打开文件: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	_, st, err := openLogged(cfg, stderr, true)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := wire(context.Background(), st, cfg.Data)
	if err != nil {
		return err
	}
	svc := p.ideas
	var r io.Reader = f
	var bar *progressbar.ProgressBar
	if !quiet {
		bar = progressbar.NewOptions64(info.Size(), progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("导入中"), progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		r = io.TeeReader(f, bar)
	}
	start := time.Now()
	rep, err := svc.Import(context.Background(), r, ideas.ImportOptions{Campaign: slug, Map: m, Publish: publish})
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return fmt.Errorf("导入失败: %w", err)
	}
	for _, fe := range rep.Failed {
		fmt.Fprintf(stdout, "第 %d 行未导入: %s\n", fe.Line, fe.Reason)
	}
	if len(rep.ThemesCreated) > 0 {
		fmt.Fprintf(stdout, "新建主题: %v\n", rep.ThemesCreated)
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(stdout, "共 %d 行：导入 %d 条，已存在 %d 条，失败 %d 条（%.1f 秒，%.0f 行/秒）\n",
		rep.Rows, rep.Imported, rep.AlreadyThere, len(rep.Failed), secs, float64(rep.Rows)/secs)
	return nil
}

func cmdDemo(args []string, stdout, stderr io.Writer) error {
	var cfg config
	var password string
	fs := newFlags("demo", &cfg, stderr)
	fs.StringVar(&password, "password", "", "password for the demo accounts (default: a random one, printed)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if password == "" {
		b := make([]byte, 9)
		_, _ = rand.Read(b)
		password = base64.RawURLEncoding.EncodeToString(b)
	}
	_, st, err := openLogged(cfg, stderr, true)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := wire(context.Background(), st, cfg.Data)
	if err != nil {
		return err
	}
	svc := p.ideas
	rep, err := demo.Seed(context.Background(), st, svc, password, time.Now().UTC())
	if err != nil {
		return err
	}
	for _, c := range rep.Created {
		fmt.Fprintln(stdout, "已创建", c)
	}
	for _, s := range rep.Skipped {
		fmt.Fprintln(stdout, "已存在，跳过", s)
	}
	fmt.Fprintln(stdout, "演示账号:")
	for _, a := range demo.Accounts {
		fmt.Fprintf(stdout, "  %-16s %s\n", a.Name, store.Role(a.Role).Label())
	}
	fmt.Fprintf(stdout, "演示账号密码（新建的账号）: %s\n", password)
	fmt.Fprintf(stdout, "活动页面: /campaigns/%s\n", demo.CampaignSlug)
	return nil
}
