package portal

import (
	"testing"

	"jindianzi/moderation"
	"jindianzi/portal/wordlist"
)

// The queue marks listed words in the (masked) text, even when written
// with separators to dodge the filter.
func TestHighlight(t *testing.T) {
	reg, err := moderation.NewRegistry(moderation.WordList{{Word: "代开发票", Category: "advertising", Action: moderation.Hold}})
	if err != nil {
		t.Fatal(err)
	}
	h := &handler{cfg: Config{Words: &wordlist.List{Registry: reg}}}
	tests := []struct {
		text, marked string
	}{
		{"本店代开发票，量大从优", "代开发票"},
		{"本店代 开*发 票，量大从优", "代 开*发 票"},
		{"没有问题的正文", ""},
	}
	for _, tt := range tests {
		segs := h.highlight(tt.text)
		var whole, marked string
		for _, s := range segs {
			whole += s.Text
			if s.Mark {
				marked += s.Text
			}
		}
		if whole != tt.text {
			t.Errorf("%q: segments rebuild %q", tt.text, whole)
		}
		if marked != tt.marked {
			t.Errorf("%q: marked %q, want %q", tt.text, marked, tt.marked)
		}
	}
	if segs := (&handler{}).highlight("x"); len(segs) != 1 || segs[0].Mark {
		t.Errorf("without a word list: %+v", segs)
	}
}
