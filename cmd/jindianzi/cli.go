package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"jindianzi/portal/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// errUsage marks a command-line mistake: exit code 2 instead of 1.
var errUsage = errors.New("usage")

const usage = `jindianzi — 金点子城市文明建言平台

用法:
  jindianzi [serve] [flags]                 运行门户网站（默认命令）
  jindianzi migrate [flags]                 升级数据库结构
  jindianzi user add --name NAME --role ROLE [--department NAME]
                                            添加用户（密码从标准输入读取）
  jindianzi token add --user NAME           生成 API 访问令牌（最后一行输出）
  jindianzi import --campaign SLUG --file F.csv [--map title=…,body=…,time=…,theme=…,supports=…] [--publish]
                                            导入线下来信、热线记录等（CSV）
  jindianzi demo                            创建演示活动、示例建议和各角色演示账号
  jindianzi search QUERY [--campaign SLUG]  在命令行中搜索
  jindianzi reindex                         从数据库重建搜索索引（带进度条，运行中的服务自动切换）
  jindianzi search eval --file F.csv        评测中文检索（与 Bleve cjk 二元组基线对比）
  jindianzi moderation eval --file F.csv    评测审核流水线（重复检测、误拦率、速度）
  jindianzi themes eval --file F.csv --folds 5 | --train A.csv --test B.csv
                                            评测主题分类
  jindianzi themes train --campaign SLUG    用已确认的主题训练该活动的主题分类模型并保存
  jindianzi clusters eval --file F.csv      评测热点聚类
  jindianzi clusters build --campaign SLUG  重新计算该活动的热点聚类并保存
  jindianzi version                         显示版本

通用参数（也可用环境变量设置）:
  --addr  JDZ_ADDR   监听地址（默认 127.0.0.1:8080）
  --db    JDZ_DB     数据库：sqlite:PATH 或 mysql://user:pass@host:port/dbname（默认 sqlite:./data/jindianzi.db）
  --data  JDZ_DATA   数据目录：索引、附件、词典（默认 ./data）
  运行 "jindianzi COMMAND -h" 查看某个命令的全部参数。
`

// run executes one command and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && (!strings.HasPrefix(args[0], "-") || isHelpFlag(args[0])) {
		// -h alone asks for the overview below, not for serve's flags.
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(args, stdout, stderr)
	case "migrate":
		err = cmdMigrate(args, stdout, stderr)
	case "user":
		err = sub(args, map[string]func([]string) error{
			"add": func(a []string) error { return cmdUserAdd(a, stdin, stdout, stderr) },
		})
	case "token":
		err = sub(args, map[string]func([]string) error{
			"add": func(a []string) error { return cmdTokenAdd(a, stdout, stderr) },
		})
	case "search":
		if len(args) > 0 && args[0] == "eval" {
			err = cmdSearchEval(args[1:], stdout, stderr)
		} else {
			err = cmdSearch(args, stdout, stderr)
		}
	case "reindex":
		err = cmdReindex(args, stdout, stderr)
	case "moderation":
		err = sub(args, map[string]func([]string) error{
			"eval": func(a []string) error { return cmdModerationEval(a, stdout, stderr) },
		})
	case "themes":
		err = sub(args, map[string]func([]string) error{
			"eval":  func(a []string) error { return cmdThemesEval(a, stdout, stderr) },
			"train": func(a []string) error { return cmdThemesTrain(a, stdout, stderr) },
		})
	case "clusters":
		err = sub(args, map[string]func([]string) error{
			"eval":  func(a []string) error { return cmdClustersEval(a, stdout, stderr) },
			"build": func(a []string) error { return cmdClustersBuild(a, stdout, stderr) },
		})
	case "import":
		err = cmdImport(args, stdout, stderr)
	case "demo":
		err = cmdDemo(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "jindianzi", buildVersion())
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
	default:
		err = fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "jindianzi: %v\n", err)
		fmt.Fprint(stderr, usage)
		return 2
	default:
		// One line, never a stack trace.
		fmt.Fprintf(stderr, "jindianzi: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return 1
	}
}

func isHelpFlag(s string) bool {
	return s == "-h" || s == "--help" || s == "-help"
}

// sub dispatches a second-level command such as "user add".
func sub(args []string, cmds map[string]func([]string) error) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: missing subcommand", errUsage)
	}
	f, ok := cmds[args[0]]
	if !ok {
		return fmt.Errorf("%w: unknown subcommand %q", errUsage, args[0])
	}
	return f(args[1:])
}

func buildVersion() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		v += " " + bi.GoVersion
	}
	return v
}

// config is the shared configuration of every command. Each flag has a JDZ_*
// environment variable; a flag on the command line wins over the variable.
type config struct {
	Addr           string
	DB             string
	Data           string
	LogLevel       string
	CookieSecure   bool
	ProxyHeader    string
	TrustedProxies string
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// newFlags makes a flag set with the common flags bound to cfg.
func newFlags(name string, cfg *config, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DB, "db", env("JDZ_DB", "sqlite:./data/jindianzi.db"), "database: sqlite:PATH, mysql://user:pass@host:port/dbname or mysql:GO-SQL-DRIVER-DSN (JDZ_DB)")
	fs.StringVar(&cfg.Data, "data", env("JDZ_DATA", "./data"), "data directory for the index, attachments and dictionaries (JDZ_DATA)")
	fs.StringVar(&cfg.LogLevel, "log-level", env("JDZ_LOG_LEVEL", "info"), "log level: debug, info, warn, error (JDZ_LOG_LEVEL)")
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("%w: invalid --log-level %q", errUsage, level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// prepareDataDir creates the data directory and proves it is writable.
func prepareDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("数据目录 %s 无法创建: %w", dir, err)
	}
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("数据目录 %s 不可写: %w", dir, err)
	}
	name := probe.Name()
	probe.Close()
	return os.Remove(name)
}

// openStore connects and migrates, with a bounded wait.
func openStore(cfg config, log *slog.Logger, migrate bool) (*store.Store, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if t, err := store.ParseTarget(cfg.DB); err == nil && t.Dialect == store.SQLite {
		if err := prepareDataDir(filepath.Dir(t.DSN)); err != nil {
			return nil, err
		}
	}
	st, err := store.Open(ctx, cfg.DB, log)
	if err != nil {
		return nil, fmt.Errorf("无法打开数据库: %w", err)
	}
	if migrate {
		err := st.Migrate(ctx, func(v int, name string) {
			log.Info("migrated", "version", v, "name", name)
		})
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("数据库升级失败: %w", err)
		}
	}
	return st, nil
}
