package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
)

// TestDictionaryTerms: adding reports only the new words (a word repeated
// in one call or added before is kept once), audits each call that added
// something, and the admin listing shows the newest first with who added it.
func TestDictionaryTerms(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		admin, err := st.CreateUser(ctx, store.NewUser{Name: "dict-admin", DisplayName: "管理员", PasswordHash: "x", Role: store.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		by := store.ActorFor(admin, "127.0.0.1")
		before := time.Now().UTC().Add(-time.Minute)

		added, err := st.AddDictionaryTerms(ctx, []string{"口袋公园", "𠮷野家", "口袋公园"}, by)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(added, []string{"口袋公园", "𠮷野家"}) {
			t.Errorf("first add: added %q", added)
		}
		added, err = st.AddDictionaryTerms(ctx, []string{"𠮷野家", "一刻钟便民生活圈"}, store.Actor{Name: "script"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(added, []string{"一刻钟便民生活圈"}) {
			t.Errorf("second add: added %q", added)
		}
		added, err = st.AddDictionaryTerms(ctx, []string{"口袋公园"}, by)
		if err != nil || len(added) != 0 {
			t.Errorf("third add: added %q, err %v", added, err)
		}

		terms, err := st.DictionaryTerms(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(terms) != 3 {
			t.Errorf("DictionaryTerms: %d terms, want 3: %+v", len(terms), terms)
		}

		entries, err := st.DictionaryEntries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Term+"/"+e.CreatedBy)
			if e.CreatedAt.Before(before) || e.CreatedAt.After(time.Now().Add(time.Minute)) {
				t.Errorf("%s: created at %v", e.Term, e.CreatedAt)
			}
		}
		want := []string{"一刻钟便民生活圈/", "𠮷野家/dict-admin", "口袋公园/dict-admin"}
		if !slices.Equal(got, want) {
			t.Errorf("DictionaryEntries = %q, want %q", got, want)
		}

		audit, err := st.AuditEntries(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range audit {
			if a.Action == "dictionary.add" {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%d dictionary.add audit entries, want 2 (the call that added nothing is not audited)", n)
		}
	})
}
