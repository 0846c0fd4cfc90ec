package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jindianzi/portal/auth"
	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
)

// cliResult is what one in-process run of the command line produced.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI calls run as main does, with stdin as the standard input. A panic
// fails the test instead of crashing the test binary: run must never panic.
func runCLI(t *testing.T, stdin string, args ...string) (res cliResult) {
	t.Helper()
	var stdout, stderr strings.Builder
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("jindianzi %s panicked: %v", strings.Join(args, " "), p)
		}
	}()
	res.code = run(args, strings.NewReader(stdin), &stdout, &stderr)
	res.stdout, res.stderr = stdout.String(), stderr.String()
	return res
}

// closedPort returns a local TCP port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// regularFile creates an ordinary file, so that paths below it can be
// neither created nor written, even by root.
func regularFile(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(f, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// assertOneErrorLine checks that stderr is exactly one "jindianzi: …" line,
// with no panic or stack trace.
func assertOneErrorLine(t *testing.T, stderr string) {
	t.Helper()
	if !strings.HasSuffix(stderr, "\n") {
		t.Errorf("stderr does not end with a newline: %q", stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if len(lines) != 1 {
		t.Errorf("stderr has %d lines, want 1:\n%s", len(lines), stderr)
	}
	if !strings.HasPrefix(lines[0], "jindianzi: ") {
		t.Errorf("stderr %q does not start with %q", lines[0], "jindianzi: ")
	}
	for _, bad := range []string{"panic", "goroutine ", ".go:"} {
		if strings.Contains(stderr, bad) {
			t.Errorf("stderr contains %q (a panic or stack trace?):\n%s", bad, stderr)
		}
	}
}

// TestRunFailures covers the operational errors: each exits 1 with exactly
// one line on stderr that says what went wrong, and never leaks a password.
func TestRunFailures(t *testing.T) {
	file := regularFile(t)
	dir := t.TempDir()
	okDB := "sqlite:" + filepath.Join(dir, "ok.db")
	closed := fmt.Sprintf("127.0.0.1:%d", closedPort(t))
	const pw = "secret-pass\n"

	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string // a piece of the error line
		leak  string // must not appear on stderr
	}{
		{name: "migrate/postgres DSN", args: []string{"migrate", "--db", "postgres://x"}, want: "unsupported database"},
		{name: "migrate/postgres DSN with password", args: []string{"migrate", "--db", "postgres://u:hunter2@db/x"}, want: "unsupported database", leak: "hunter2"},
		{name: "migrate/mysql without host", args: []string{"migrate", "--db", "mysql://"}, want: "no host"},
		{name: "migrate/mysql without database", args: []string{"migrate", "--db", "mysql://root@127.0.0.1:3306"}, want: "one database"},
		{name: "migrate/mysql bad escape in password", args: []string{"migrate", "--db", "mysql://root:p%zzq@127.0.0.1/x"}, want: "MySQL URL", leak: "p%zzq"},
		{name: "migrate/empty sqlite path", args: []string{"migrate", "--db", "sqlite:"}, want: "names no SQLite file"},
		{name: "migrate/unreachable mysql", args: []string{"migrate", "--db", "mysql://root@" + closed + "/x"}, want: "cannot reach"},
		{name: "migrate/unreachable mysql with password", args: []string{"migrate", "--db", "mysql://root:hunter2@" + closed + "/x"}, want: "cannot reach", leak: "hunter2"},
		{name: "migrate/db under a file", args: []string{"migrate", "--db", "sqlite:" + filepath.Join(file, "sub", "x.db")}, want: "无法创建"},
		{name: "user add/bad DSN", stdin: pw, args: []string{"user", "add", "--name", "alice", "--db", "postgres://x"}, want: "unsupported database"},
		{name: "user add/unreachable mysql", stdin: pw, args: []string{"user", "add", "--name", "alice", "--db", "mysql://root@" + closed + "/x"}, want: "cannot reach"},
		{name: "user add/db under a file", stdin: pw, args: []string{"user", "add", "--name", "alice", "--db", "sqlite:" + filepath.Join(file, "x.db")}, want: "无法创建"},
		{name: "user add/db under /proc", stdin: pw, args: []string{"user", "add", "--name", "alice", "--db", "sqlite:/proc/nope/x.db"}, want: "/proc/nope"},
		{name: "user add/no password", stdin: "", args: []string{"user", "add", "--name", "alice", "--db", okDB}, want: "标准输入"},
		{name: "token add/bad DSN", args: []string{"token", "add", "--user", "alice", "--db", "mysql://"}, want: "no host"},
		{name: "token add/db under a file", args: []string{"token", "add", "--user", "alice", "--db", "sqlite:" + filepath.Join(file, "sub", "x.db")}, want: "无法创建"},
		// serve fails before it listens, so these return.
		{name: "serve/data dir under a file", args: []string{"serve", "--addr", "127.0.0.1:0", "--db", okDB, "--data", filepath.Join(file, "sub")}, want: "数据目录"},
		{name: "serve/data dir under /proc", args: []string{"serve", "--addr", "127.0.0.1:0", "--db", okDB, "--data", "/proc/nope"}, want: "/proc/nope"},
		{name: "serve/bad DSN", args: []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--db", "postgres://x"}, want: "unsupported database"},
		{name: "serve/mysql without host", args: []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--db", "mysql://"}, want: "no host"},
		{name: "serve/unreachable mysql", args: []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--db", "mysql://root:hunter2@" + closed + "/x"}, want: "cannot reach", leak: "hunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res := runCLI(t, tt.stdin, tt.args...)
			if res.code != 1 {
				t.Errorf("exit code %d, want 1; stderr:\n%s", res.code, res.stderr)
			}
			assertOneErrorLine(t, res.stderr)
			if !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr %q does not mention %q", res.stderr, tt.want)
			}
			if tt.leak != "" && strings.Contains(res.stderr, tt.leak) {
				t.Errorf("stderr leaks %q: %s", tt.leak, res.stderr)
			}
			if res.stdout != "" {
				t.Errorf("stdout = %q, want nothing", res.stdout)
			}
			// Unreachable servers must fail fast, not wait out a timeout.
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestServeAddressInUse: serve gets as far as listening and fails there
// with one line, after loading the dictionaries and index.
func TestServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := t.TempDir()
	res := runCLI(t, "", "serve", "--log-level", "warn", "--addr", ln.Addr().String(),
		"--data", data, "--db", "sqlite:"+filepath.Join(data, "x.db"))
	if res.code != 1 {
		t.Fatalf("exit code %d, want 1; stderr:\n%s", res.code, res.stderr)
	}
	assertOneErrorLine(t, res.stderr)
	if !strings.Contains(res.stderr, "无法监听 "+ln.Addr().String()) {
		t.Errorf("stderr %q does not name the address", res.stderr)
	}
	if res.stdout != "" {
		t.Errorf("stdout = %q; the start message must not be printed", res.stdout)
	}
}

// TestRunUsageErrors: command-line mistakes exit 2 with the reason first and
// the usage text after it.
func TestRunUsageErrors(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"user without subcommand", []string{"user"}, "missing subcommand"},
		{"unknown user subcommand", []string{"user", "remove"}, `unknown subcommand "remove"`},
		{"token without subcommand", []string{"token"}, "missing subcommand"},
		{"user add without --name", []string{"user", "add", "--db", db}, "--name is required"},
		{"user add blank --name", []string{"user", "add", "--name", "  ", "--db", db}, "--name is required"},
		{"user add long --name", []string{"user", "add", "--name", strings.Repeat("n", 65), "--db", db}, "longer than 64"},
		{"user add bad role", []string{"user", "add", "--name", "x", "--role", "king", "--db", db}, "--role must be"},
		{"official without department", []string{"user", "add", "--name", "x", "--role", "official", "--db", db}, "needs --department"},
		{"token add without --user", []string{"token", "add", "--db", db}, "--user is required"},
		{"unknown flag", []string{"migrate", "--nope", "--db", db}, "nope"},
		{"extra argument", []string{"migrate", "--db", db, "extra"}, `unexpected argument "extra"`},
		{"bad log level", []string{"migrate", "--log-level", "loud", "--db", db}, "--log-level"},
		{"serve bad log level", []string{"serve", "--log-level", "loud", "--db", db, "--data", t.TempDir()}, "--log-level"},
		// Flags without a command go to serve, the default command.
		{"default command is serve", []string{"--log-level", "loud", "--db", db, "--data", t.TempDir()}, "--log-level"},
		{"serve unknown flag", []string{"--cookie-secur", "--db", db}, "cookie-secur"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, "secret-pass\n", tt.args...)
			if res.code != 2 {
				t.Errorf("exit code %d, want 2; stderr:\n%s", res.code, res.stderr)
			}
			// The flag package prints its own complaint first for a bad flag;
			// our line follows it. Either way one line names the problem.
			var ours string
			for _, l := range strings.Split(res.stderr, "\n") {
				if strings.HasPrefix(l, "jindianzi: ") {
					ours = l
					break
				}
			}
			if ours == "" || !strings.Contains(ours, tt.want) {
				t.Errorf("no \"jindianzi: …%s…\" line on stderr:\n%s", tt.want, res.stderr)
			}
			if !strings.Contains(res.stderr, "用法:") {
				t.Errorf("stderr lacks the usage text:\n%s", res.stderr)
			}
			if strings.Contains(res.stderr, "goroutine ") {
				t.Errorf("stack trace on stderr:\n%s", res.stderr)
			}
		})
	}
	// No usage mistake may have touched the database.
	if _, err := os.Stat(strings.TrimPrefix(db, "sqlite:")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a usage error created the database (stat: %v)", err)
	}
}

func TestVersionAndHelp(t *testing.T) {
	res := runCLI(t, "", "version")
	if res.code != 0 || !strings.HasPrefix(res.stdout, "jindianzi ") || strings.Count(res.stdout, "\n") != 1 {
		t.Errorf("version: code %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	for _, arg := range []string{"help", "-h", "--help"} {
		res := runCLI(t, "", arg)
		if res.code != 0 || !strings.Contains(res.stdout, "用法:") || res.stderr != "" {
			t.Errorf("%s: code %d, stdout %q, stderr %q", arg, res.code, res.stdout, res.stderr)
		}
	}
	// -h on a command prints its flags and is not an error.
	res = runCLI(t, "", "migrate", "-h")
	if res.code != 0 || !strings.Contains(res.stderr, "-db") {
		t.Errorf("migrate -h: code %d, stderr %q", res.code, res.stderr)
	}
}

// TestMigrate runs migrate twice on a brand-new database of each backend.
func TestMigrate(t *testing.T) {
	latest := store.LatestVersion()
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db := b.Target(t)
			res := runCLI(t, "", "migrate", "--db", db)
			if res.code != 0 {
				t.Fatalf("first migrate: exit %d, stderr:\n%s", res.code, res.stderr)
			}
			for _, want := range []string{
				"已应用迁移 1: initial schema\n",
				fmt.Sprintf("数据库已从版本 0 升级到 %d\n", latest),
			} {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("first migrate stdout lacks %q:\n%s", want, res.stdout)
				}
			}
			if n := strings.Count(res.stdout, "已应用迁移 "); n != latest {
				t.Errorf("first migrate reported %d steps, want %d:\n%s", n, latest, res.stdout)
			}

			res = runCLI(t, "", "migrate", "--db", db)
			if res.code != 0 {
				t.Fatalf("second migrate: exit %d, stderr:\n%s", res.code, res.stderr)
			}
			if want := fmt.Sprintf("数据库已是最新（版本 %d）\n", latest); res.stdout != want {
				t.Errorf("second migrate stdout = %q, want %q", res.stdout, want)
			}
		})
	}
}

// TestUserAndTokenAdd creates accounts and a token through the command line
// and checks what landed in the database.
func TestUserAndTokenAdd(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db := b.Target(t)
			ctx := context.Background()

			res := runCLI(t, "secret-pass\n", "user", "add", "--name", "alice", "--role", "admin", "--db", db)
			if res.code != 0 {
				t.Fatalf("user add alice: exit %d, stderr:\n%s", res.code, res.stderr)
			}
			if !strings.HasPrefix(res.stdout, "已创建用户 alice（管理员，编号 ") {
				t.Errorf("user add alice stdout = %q", res.stdout)
			}

			res = runCLI(t, "other-pass\n", "user", "add", "--name", "alice", "--role", "resident", "--db", db)
			if res.code != 1 {
				t.Errorf("duplicate alice: exit %d, want 1; stderr:\n%s", res.code, res.stderr)
			}
			assertOneErrorLine(t, res.stderr)
			if !strings.Contains(res.stderr, `用户 "alice" 已存在`) {
				t.Errorf("duplicate alice stderr = %q", res.stderr)
			}

			res = runCLI(t, "secret-pass\n", "user", "add", "--name", "bo", "--role", "official", "--db", db)
			if res.code != 2 {
				t.Errorf("official without department: exit %d, want 2; stderr:\n%s", res.code, res.stderr)
			}

			res = runCLI(t, "secret-pass\n", "user", "add", "--name", "bo", "--role", "official",
				"--department", " 城市管理局 ", "--display-name", "王博", "--db", db)
			if res.code != 0 {
				t.Fatalf("official with department: exit %d, stderr:\n%s", res.code, res.stderr)
			}

			res = runCLI(t, "short\n", "user", "add", "--name", "carol", "--db", db)
			if res.code != 1 {
				t.Errorf("short password: exit %d, want 1; stderr:\n%s", res.code, res.stderr)
			}
			assertOneErrorLine(t, res.stderr)
			if !strings.Contains(res.stderr, auth.ErrWeakPassword.Error()) {
				t.Errorf("short password stderr = %q", res.stderr)
			}

			// The password is the first line only; a CRLF line end is not part of it.
			res = runCLI(t, "dora-pass-123\r\nignored\n", "user", "add", "--name", "dora", "--db", db)
			if res.code != 0 {
				t.Fatalf("user add dora: exit %d, stderr:\n%s", res.code, res.stderr)
			}

			res = runCLI(t, "", "token", "add", "--user", "alice", "--label", "ci", "--db", db)
			if res.code != 0 {
				t.Fatalf("token add: exit %d, stderr:\n%s", res.code, res.stderr)
			}
			token := lastLine(res.stdout)
			if !strings.HasPrefix(token, "jdz_") || len(token) < 40 {
				t.Fatalf("token add: last line %q is not a token; stdout:\n%s", token, res.stdout)
			}

			res = runCLI(t, "", "token", "add", "--user", "alice", "--days", "1", "--db", db)
			if res.code != 0 {
				t.Fatalf("token add --days 1: exit %d, stderr:\n%s", res.code, res.stderr)
			}
			shortLived := lastLine(res.stdout)
			if shortLived == token {
				t.Error("two token add runs printed the same token")
			}

			res = runCLI(t, "", "token", "add", "--user", "nobody", "--db", db)
			if res.code != 1 {
				t.Errorf("token for unknown user: exit %d, want 1", res.code)
			}
			assertOneErrorLine(t, res.stderr)
			if !strings.Contains(res.stderr, `用户 "nobody" 不存在`) {
				t.Errorf("token for unknown user stderr = %q", res.stderr)
			}

			// Now look at the database itself.
			st := storetest.OpenTarget(t, db)
			alice, err := st.UserByName(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			if alice.Role != store.RoleAdmin || alice.DisplayName != "alice" || alice.DepartmentID != nil {
				t.Errorf("alice = role %q, display %q, department %v", alice.Role, alice.DisplayName, alice.DepartmentID)
			}
			if ok, err := auth.VerifyPassword(alice.PasswordHash, "secret-pass"); err != nil || !ok {
				t.Errorf("alice's stored hash does not verify secret-pass (ok=%v, err=%v)", ok, err)
			}
			if ok, _ := auth.VerifyPassword(alice.PasswordHash, "other-pass"); ok {
				t.Error("the duplicate run replaced alice's password")
			}

			bo, err := st.UserByName(ctx, "bo")
			if err != nil {
				t.Fatal(err)
			}
			if bo.Role != store.RoleOfficial || bo.DisplayName != "王博" || bo.DepartmentID == nil {
				t.Fatalf("bo = role %q, display %q, department %v", bo.Role, bo.DisplayName, bo.DepartmentID)
			}
			dept, err := st.Department(ctx, *bo.DepartmentID)
			if err != nil {
				t.Fatal(err)
			}
			if dept.Name != "城市管理局" {
				t.Errorf("bo's department = %q, want 城市管理局 (trimmed)", dept.Name)
			}

			if _, err := st.UserByName(ctx, "carol"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("carol (short password) exists or lookup failed: %v", err)
			}
			dora, err := st.UserByName(ctx, "dora")
			if err != nil {
				t.Fatal(err)
			}
			if ok, _ := auth.VerifyPassword(dora.PasswordHash, "dora-pass-123"); !ok || dora.Role != store.RoleResident {
				t.Errorf("dora: password verifies %v, role %q (want resident by default)", ok, dora.Role)
			}

			now := time.Now()
			tok, u, err := st.TokenUser(ctx, auth.HashSecret(token), now)
			if err != nil {
				t.Fatalf("the printed token's SHA-256 is not in the database: %v", err)
			}
			if u.ID != alice.ID || u.Name != "alice" || tok.Name != "ci" || tok.ExpiresAt != nil || !strings.HasPrefix(token, tok.Prefix) {
				t.Errorf("token maps to user %q (id %d), label %q, expires %v, prefix %q", u.Name, u.ID, tok.Name, tok.ExpiresAt, tok.Prefix)
			}
			if _, _, err := st.TokenUser(ctx, token, now); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the plain token is usable as its own hash (err %v): the secret was stored?", err)
			}
			if _, _, err := st.TokenUser(ctx, auth.HashSecret(shortLived), now); err != nil {
				t.Errorf("1-day token not usable now: %v", err)
			}
			if _, _, err := st.TokenUser(ctx, auth.HashSecret(shortLived), now.Add(49*time.Hour)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("1-day token still usable in two days: %v", err)
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
