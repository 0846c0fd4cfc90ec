package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"jindianzi/portal/auth"
	"jindianzi/portal/store"
)

func cmdMigrate(args []string, stdout, stderr io.Writer) error {
	var cfg config
	fs := newFlags("migrate", &cfg, stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	_, st, err := openLogged(cfg, stderr, false)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	before, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if err := st.Migrate(ctx, func(v int, name string) {
		fmt.Fprintf(stdout, "已应用迁移 %d: %s\n", v, name)
	}); err != nil {
		return fmt.Errorf("数据库升级失败: %w", err)
	}
	after, _ := st.SchemaVersion(ctx)
	if before == after {
		fmt.Fprintf(stdout, "数据库已是最新（版本 %d）\n", after)
	} else {
		fmt.Fprintf(stdout, "数据库已从版本 %d 升级到 %d\n", before, after)
	}
	return nil
}

func cmdUserAdd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var cfg config
	var name, role, dept, display string
	fs := newFlags("user add", &cfg, stderr)
	fs.StringVar(&name, "name", "", "login name (required)")
	fs.StringVar(&role, "role", "resident", "role: resident, moderator, official, admin")
	fs.StringVar(&dept, "department", "", "department name (required for officials; created if missing)")
	fs.StringVar(&display, "display-name", "", "name shown on pages (default: the login name)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	r := store.Role(role)
	switch {
	case name == "":
		return fmt.Errorf("%w: --name is required", errUsage)
	case len(name) > 64:
		return fmt.Errorf("%w: --name is longer than 64 bytes", errUsage)
	case !r.Valid():
		return fmt.Errorf("%w: --role must be resident, moderator, official or admin", errUsage)
	case r == store.RoleOfficial && strings.TrimSpace(dept) == "":
		return fmt.Errorf("%w: an official needs --department", errUsage)
	}
	password, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	_, st, err := openLogged(cfg, stderr, true)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	// Ask first: a failed INSERT would also be logged by the store, and the
	// operator should see one line. The conflict check below still covers a race.
	if _, err := st.UserByName(ctx, name); err == nil {
		return fmt.Errorf("用户 %q 已存在", name)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	u, err := st.CreateUser(ctx, store.NewUser{
		Name: name, DisplayName: display, PasswordHash: hash, Role: r, Department: strings.TrimSpace(dept),
	})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("用户 %q 已存在", name)
	}
	if err != nil {
		return err
	}
	if err := st.AppendAudit(ctx, &store.AuditEntry{
		ActorName: "cli", Action: "user.create", TargetType: "user", TargetID: &u.ID,
		AfterJSON: fmt.Sprintf(`{"name":%q,"role":%q,"department":%q}`, u.Name, u.Role, dept),
	}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "已创建用户 %s（%s，编号 %d）\n", u.Name, u.Role.Label(), u.ID)
	return nil
}

// readPassword reads the password: a prompt without echo on a terminal,
// otherwise the first line of stdin.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "密码: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("读取密码失败: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("读取密码失败: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("请通过标准输入提供密码，例如: echo 'PASSWORD' | jindianzi user add ...")
	}
	return line, nil
}

func cmdTokenAdd(args []string, stdout, stderr io.Writer) error {
	var cfg config
	var user, label string
	var days int
	fs := newFlags("token add", &cfg, stderr)
	fs.StringVar(&user, "user", "", "the user the token acts as (required)")
	fs.StringVar(&label, "label", "", "what the token is for")
	fs.IntVar(&days, "days", 0, "days until the token expires (0: never)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if user == "" {
		return fmt.Errorf("%w: --user is required", errUsage)
	}
	_, st, err := openLogged(cfg, stderr, true)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	u, err := st.UserByName(ctx, user)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("用户 %q 不存在", user)
	}
	if err != nil {
		return err
	}
	secret, hash, err := auth.NewSecret("jdz_")
	if err != nil {
		return err
	}
	t := &store.APIToken{UserID: u.ID, Name: label, TokenHash: hash, Prefix: secret[:8]}
	if days > 0 {
		exp := time.Now().UTC().AddDate(0, 0, days)
		t.ExpiresAt = &exp
	}
	if err := st.CreateAPIToken(ctx, t); err != nil {
		return err
	}
	if err := st.AppendAudit(ctx, &store.AuditEntry{
		ActorName: "cli", Action: "token.create", TargetType: "user", TargetID: &u.ID,
		AfterJSON: fmt.Sprintf(`{"token_id":%d,"prefix":%q}`, t.ID, t.Prefix),
	}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "已为用户 %s 生成访问令牌（只显示这一次，请妥善保存）:\n", u.Name)
	fmt.Fprintln(stdout, secret)
	return nil
}
