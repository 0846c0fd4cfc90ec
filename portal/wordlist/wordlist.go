// Package wordlist keeps the moderation word list in the database and the
// running matcher in step with it: the starter list seeds an empty table,
// admins' edits rebuild and swap the matcher at once on their node, and
// other nodes pick the change up within a minute.
package wordlist

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"jindianzi/moderation"
	"jindianzi/portal/store"
)

// versionKey counts edits in the shared key/value table, so every node
// notices a change made on another.
const versionKey = "version"

// List connects the stored word list to a matcher registry.
type List struct {
	Store    *store.Store
	Registry *moderation.Registry
	mu       sync.Mutex
	seen     string // the version this node last loaded
}

func (l *List) kv() *store.KV { return l.Store.KV("words:") }

// Sync seeds the table from the starter list when it is empty, then loads
// the stored list into the registry.
func (l *List) Sync(ctx context.Context) error {
	rows, err := l.Store.SensitiveWords(ctx)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		var seed []store.SensitiveWord
		for _, w := range moderation.StarterWords() {
			seed = append(seed, store.SensitiveWord{Word: w.Word, Category: w.Category, Action: string(w.Action)})
		}
		if err := l.Store.AddSensitiveWords(ctx, seed, store.Actor{Name: "starter-list"}); err != nil {
			return err
		}
		if rows, err = l.Store.SensitiveWords(ctx); err != nil {
			return err
		}
	}
	if err := l.Registry.Replace(convert(rows)); err != nil {
		return fmt.Errorf("wordlist: rebuild matcher: %w", err)
	}
	v, _ := l.kv().Get(versionKey)
	l.setSeen(string(v))
	return nil
}

func (l *List) setSeen(v string) {
	l.mu.Lock()
	l.seen = v
	l.mu.Unlock()
}

func (l *List) seenVersion() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seen
}

func convert(rows []store.SensitiveWord) moderation.WordList {
	out := make(moderation.WordList, 0, len(rows))
	for _, r := range rows {
		out = append(out, moderation.Word{Word: r.Word, Category: r.Category, Action: moderation.Action(r.Action)})
	}
	return out
}

// bump records an edit for the other nodes.
func (l *List) bump() error {
	v, _ := l.kv().Get(versionKey)
	n, _ := strconv.ParseInt(string(v), 10, 64)
	next := strconv.FormatInt(n+1, 10)
	if err := l.kv().Set(versionKey, []byte(next), 0); err != nil {
		return err
	}
	l.setSeen(next)
	return nil
}

// Add stores words and swaps in the rebuilt matcher.
func (l *List) Add(ctx context.Context, ws moderation.WordList, by store.Actor) error {
	rows := make([]store.SensitiveWord, 0, len(ws))
	for _, w := range ws {
		rows = append(rows, store.SensitiveWord{Word: w.Word, Category: w.Category, Action: string(w.Action)})
	}
	if err := l.Store.AddSensitiveWords(ctx, rows, by); err != nil {
		return err
	}
	return l.reload(ctx)
}

// Delete removes a word and swaps in the rebuilt matcher.
func (l *List) Delete(ctx context.Context, id int64, by store.Actor) error {
	if err := l.Store.DeleteSensitiveWord(ctx, id, by); err != nil {
		return err
	}
	return l.reload(ctx)
}

func (l *List) reload(ctx context.Context) error {
	rows, err := l.Store.SensitiveWords(ctx)
	if err != nil {
		return err
	}
	if err := l.Registry.Replace(convert(rows)); err != nil {
		return fmt.Errorf("wordlist: rebuild matcher: %w", err)
	}
	return l.bump()
}

// Watch reloads the list whenever another node changed it, checking every
// interval until ctx ends.
func (l *List) Watch(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			v, err := l.kv().Get(versionKey)
			if err != nil || string(v) == l.seenVersion() {
				continue
			}
			rows, err := l.Store.SensitiveWords(ctx)
			if err == nil {
				err = l.Registry.Replace(convert(rows))
			}
			if err != nil {
				log.Warn("reload word list", "err", err)
				continue
			}
			l.setSeen(string(v))
		}
	}
}
