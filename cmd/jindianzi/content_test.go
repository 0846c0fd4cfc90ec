package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"jindianzi/portal/demo"
	"jindianzi/portal/store"
	"jindianzi/portal/store/storetest"
)

// TestDemoAndImport seeds the demo, then imports a CSV into the demo
// campaign twice: the second run adds nothing.
func TestDemoAndImport(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			dir := t.TempDir()
			target := b.Target(t)
			common := []string{"--db", target, "--data", filepath.Join(dir, "data"), "--log-level", "warn"}

			res := runCLI(t, "", append([]string{"demo", "--password", "demo-password-1"}, common...)...)
			if res.code != 0 {
				t.Fatalf("demo: exit %d: %s", res.code, res.stderr)
			}
			for _, want := range []string{"征集活动 " + demo.CampaignSlug, "示例建议 9 条", "demo-admin", "demo-password-1"} {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("demo output lacks %q:\n%s", want, res.stdout)
				}
			}
			again := runCLI(t, "", append([]string{"demo"}, common...)...)
			if again.code != 0 || !strings.Contains(again.stdout, "已存在，跳过 征集活动") {
				t.Fatalf("second demo: exit %d\n%s%s", again.code, again.stdout, again.stderr)
			}

			csv := filepath.Join(dir, "letters.csv")
			content := "id,title,time,body,label,likes\n" +
				"1,路灯不亮,2024-03-01 08:00:00,\"某路段路灯连续一周不亮，晚上行人很不安全，请尽快维修。\",市政基础设施,3\n" +
				"2,增加公交班次,2024-03-02,\"早高峰公交车太挤，建议增加班次，\n并延长末班车时间。\",交通出行,0\n" +
				"3,,2024-03-03,\"没有标题的一行\",城市管理,1\n" +
				"4,垃圾分类,someday,\"小区垃圾分类桶不够用，建议增加。\",城市管理,2\n"
			if err := os.WriteFile(csv, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			imp := append([]string{"import", "--campaign", demo.CampaignSlug, "--file", csv, "--publish", "--quiet"}, common...)
			res = runCLI(t, "", imp...)
			if res.code != 0 {
				t.Fatalf("import: exit %d: %s", res.code, res.stderr)
			}
			for _, want := range []string{"第 5 行未导入: 标题为空", "第 6 行未导入: 时间", "共 4 行：导入 2 条，已存在 0 条，失败 2 条", "交通出行"} {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("import output lacks %q:\n%s", want, res.stdout)
				}
			}
			res = runCLI(t, "", imp...)
			if res.code != 0 || !strings.Contains(res.stdout, "导入 0 条，已存在 2 条") {
				t.Fatalf("re-import: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}

			st := storetest.OpenTarget(t, target)
			camp, err := st.CampaignBySlug(context.Background(), demo.CampaignSlug)
			if err != nil {
				t.Fatal(err)
			}
			_, total, err := st.Ideas(context.Background(), store.IdeaFilter{CampaignID: camp.ID, PublicOnly: true})
			if err != nil || total != int64(len(demo.Ideas))+2 {
				t.Errorf("public ideas = %d, %v; want %d", total, err, len(demo.Ideas)+2)
			}

			for _, bad := range [][]string{
				{"import", "--campaign", demo.CampaignSlug},
				{"import", "--campaign", demo.CampaignSlug, "--file", csv, "--map", "colour=red"},
			} {
				if r := runCLI(t, "", append(bad, common...)...); r.code != 2 {
					t.Errorf("%v: exit %d, want 2", bad, r.code)
				}
			}
			if r := runCLI(t, "", append([]string{"import", "--campaign", "nope", "--file", csv}, common...)...); r.code != 1 {
				t.Errorf("unknown campaign: exit %d, want 1: %s", r.code, r.stderr)
			}
		})
	}
}
