package main

import (
	"io"
	"log/slog"

	"jindianzi/portal/store"
)

// openLogged makes the command's logger and opens (and, with migrate,
// migrates) its database: the first steps every database command takes.
func openLogged(cfg config, stderr io.Writer, migrate bool) (*slog.Logger, *store.Store, error) {
	log, err := newLogger(cfg.LogLevel, stderr)
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(cfg, log, migrate)
	if err != nil {
		return nil, nil, err
	}
	return log, st, nil
}
