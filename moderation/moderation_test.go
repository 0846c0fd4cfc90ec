package moderation

import (
	"context"
	"testing"
)

func TestPolicyOnly(t *testing.T) {
	tests := []struct {
		policy string
		want   Action
	}{
		{PolicyPost, Publish},
		{PolicyPre, Hold},
		{"", Hold}, // an unknown policy is treated as the stricter one
	}
	for _, tt := range tests {
		v, err := PolicyOnly{}.Check(context.Background(), Input{Policy: tt.policy, Title: "标题", Body: "正文"})
		if err != nil {
			t.Fatal(err)
		}
		if v.Action != tt.want {
			t.Errorf("policy %q: action %s, want %s", tt.policy, v.Action, tt.want)
		}
		if v.TitleMasked != "标题" || v.BodyMasked != "正文" {
			t.Errorf("policy %q: text changed: %q %q", tt.policy, v.TitleMasked, v.BodyMasked)
		}
	}
}
