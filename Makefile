# Convenience targets; the README's commands work without make.
.PHONY: run test test-mysql lint build

run:
	go run ./cmd/jindianzi

test:
	go test ./...

# The MySQL-backed tests against a local MariaDB/MySQL (root, no password).
test-mysql:
	JDZ_TEST_MYSQL_DSN=mysql://root@127.0.0.1:3306/jdz_test go test -count=1 ./...

lint:
	gofmt -l . && go vet ./...

build:
	go build -o jindianzi ./cmd/jindianzi
