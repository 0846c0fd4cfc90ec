// Package demo seeds a portal with content of our own writing, so a newcomer
// sees a realistic campaign: a year-long city civility golden-idea campaign
// with nine themes, sample ideas and one account per role.
package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"jindianzi/moderation"
	"jindianzi/portal/auth"
	"jindianzi/portal/campaign"
	"jindianzi/portal/debate"
	"jindianzi/portal/ideas"
	"jindianzi/portal/store"
)

// CampaignSlug is the demo campaign's address.
const CampaignSlug = "wenming-jindianzi"

// Account is a demo sign-in.
type Account struct {
	Name, Role, Department string
}

// Accounts are created with the password given to Seed.
var Accounts = []Account{
	{"demo-admin", "admin", ""},
	{"demo-moderator", "moderator", ""},
	{"demo-official", "official", "市公安局交通警察支队"},
	{"demo-resident", "resident", ""},
}

// Themes of the demo campaign with seed keywords for theme suggestion.
var Themes = []campaign.ThemeInput{
	{Name: "公共文化服务", Description: "图书馆、文化馆、博物馆、全民阅读和群众文化活动", Keywords: []string{"图书馆", "文化馆", "博物馆", "阅读", "书屋", "演出", "文化活动", "非遗"}},
	{Name: "城市管理", Description: "市容环境、垃圾分类、占道经营、违章搭建、停车秩序", Keywords: []string{"垃圾分类", "占道经营", "乱停车", "违章搭建", "市容", "环境卫生", "公厕", "噪音"}},
	{Name: "市政基础设施", Description: "道路、桥梁、路灯、排水、公交站台和无障碍设施", Keywords: []string{"道路", "路灯", "井盖", "排水", "积水", "人行道", "公交站", "无障碍", "斑马线"}},
	{Name: "智慧高效政务服务", Description: "一网通办、办事流程、窗口服务和政务App", Keywords: []string{"办事", "一网通办", "窗口", "审批", "政务", "预约", "材料", "小程序"}},
	{Name: "全民健身与文明旅游", Description: "健身场地、绿道、景区秩序和游客文明", Keywords: []string{"健身", "绿道", "球场", "景区", "游客", "旅游", "步道", "体育"}},
	{Name: "社区治理", Description: "老旧小区改造、物业服务、邻里关系和志愿服务", Keywords: []string{"小区", "物业", "老旧小区", "加装电梯", "社区", "业主", "楼道", "志愿者"}},
	{Name: "社会公德", Description: "礼让斑马线、文明用餐、公共场所秩序", Keywords: []string{"礼让", "排队", "文明用餐", "光盘", "公共场所", "随地吐痰", "不文明"}},
	{Name: "好人好事", Description: "身边的好人好事和值得推广的做法", Keywords: []string{"好人", "见义勇为", "助人", "表扬", "感谢", "拾金不昧"}},
	{Name: "诚信体系建设", Description: "商户诚信、信用承诺、失信治理", Keywords: []string{"诚信", "信用", "失信", "欺诈", "虚假宣传", "明码标价"}},
}

// Ideas are the sample ideas, all of our own writing.
var Ideas = []ideas.Submission{
	{Title: "建议在老旧小区试点加装电梯", Body: "我家住在一个九十年代建成的老旧小区，六层没有电梯，楼里很多老人上下楼非常困难。建议政府牵头、居民协商、按楼栋试点加装电梯，并公开补贴标准和办理流程。", ProvinceCode: "330000", CityCode: "330100", DisplayName: "王阿姨"},
	{Title: "学校门口增设护学岗和礼让斑马线提示", Body: "每天上学放学时段，学校门口车流和人流交织，孩子过马路很危险。建议在校门口设置护学岗，增加礼让斑马线的地面标识和提示牌，交警在高峰时段加强引导。", ProvinceCode: "320000", CityCode: "320100", DisplayName: "李老师"},
	{Title: "社区图书室延长周末开放时间", Body: "社区图书室平时只在工作日白天开放，上班族和学生基本用不上。建议周末和晚上也开放，可以招募志愿者值班，让全民阅读真正走进家门口。", ProvinceCode: "440000", CityCode: "440300", Anonymous: true},
	{Title: "公交站台加装座椅和遮阳棚", Body: "很多公交站台只有一根站牌，夏天暴晒、雨天没有遮挡，老人和孕妇等车很辛苦。建议对客流较大的站台逐步加装座椅和遮阳棚，并标注无障碍候车位置。", ProvinceCode: "510000", CityCode: "510100", DisplayName: "小陈"},
	{Title: "政务服务大厅推行一次告知清单", Body: "去办事经常因为少带一份材料来回跑好几趟。建议每个事项都在网上和窗口公布一次告知清单，材料齐全的承诺一次办结，能网上办的尽量不用跑腿。", ProvinceCode: "420000", CityCode: "420100", DisplayName: "张先生"},
	{Title: "沿江绿道增加夜间照明和饮水点", Body: "晚上到沿江绿道散步和跑步的市民很多，但有几段路灯太暗，也没有饮水点。建议补齐夜间照明，每隔两三公里设置饮水点和休息座椅，方便大家健身。", ProvinceCode: "430000", CityCode: "430100", DisplayName: "跑步爱好者"},
	{Title: "餐馆推广小份菜倡导光盘行动", Body: "外出吃饭时菜量往往偏大，一两个人点菜容易浪费。建议鼓励餐馆提供小份菜、半份菜，在餐桌上放置文明用餐提示，对做得好的餐馆给予表扬。", ProvinceCode: "370000", CityCode: "370100", DisplayName: "赵女士"},
	{Title: "设立身边好人线上推荐通道", Body: "我们社区有位大爷十几年如一日义务清扫楼道、照顾独居老人，大家都很感动。建议开设身边好人的线上推荐通道，定期宣传，让好人好事被更多人看见。", ProvinceCode: "410000", CityCode: "410100", DisplayName: "社区居民"},
	{Title: "农贸市场推行明码标价和诚信商户评选", Body: "有的农贸市场摊位不标价，还有缺斤少两的现象。建议推行统一的明码标价牌，设置公平秤，定期评选诚信商户并公开失信商户名单，让大家买得放心。", ProvinceCode: "350000", CityCode: "350100", DisplayName: "刘大姐"},
}

// DebateSlug is the demo debate's address.
const DebateSlug = "wenming-chuxing"

// debatePosts are the demo debate's opening posts, of our own writing.
var debatePosts = []struct {
	account, stance, body string
}{
	{"demo-resident", store.StanceFor, "支持开展这次讨论。我每天送孩子上学都要经过两个没有信号灯的路口，车让人的情况越来越多，但电动自行车闯红灯的还是不少，希望借这次讨论把大家的意见收集起来。"},
	{"demo-resident", store.StanceProposal, "建议在中小学周边道路设置护学岗，上下学高峰时段由交警、老师和家长志愿者一起维护秩序，同时增加礼让斑马线的地面提示。"},
	{"demo-official", store.StanceProposal, "感谢市民朋友的建议。我们将在讨论期间收集各路口的具体问题，对群众反映集中的学校周边路段优先开展交通秩序整治，并及时公布进展。"},
}

// Report says what Seed did.
type Report struct {
	Created  []string
	Skipped  []string
	Password string
}

// Seed creates the demo accounts, campaign and ideas. Anything that already
// exists is left alone, so running it twice is harmless.
func Seed(ctx context.Context, st *store.Store, svc *ideas.Service, password string, now time.Time) (*Report, error) {
	rep := &Report{Password: password}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, err
	}
	var resident *store.User
	for _, a := range Accounts {
		u, err := st.CreateUser(ctx, store.NewUser{Name: a.Name, PasswordHash: hash, Role: store.Role(a.Role), Department: a.Department})
		switch {
		case errors.Is(err, store.ErrConflict):
			rep.Skipped = append(rep.Skipped, "用户 "+a.Name)
			if u, err = st.UserByName(ctx, a.Name); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		default:
			rep.Created = append(rep.Created, fmt.Sprintf("用户 %s（%s）", a.Name, store.Role(a.Role).Label()))
		}
		if a.Role == "resident" {
			resident = u
		}
	}
	if _, err := st.CampaignBySlug(ctx, CampaignSlug); err == nil {
		rep.Skipped = append(rep.Skipped, "征集活动 "+CampaignSlug)
		return rep, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	opens := now.AddDate(0, -1, 0)
	closes := now.AddDate(1, 0, 0)
	daily := 10
	in := campaign.Input{
		Slug:  CampaignSlug,
		Title: "建设城市文明金点子征集（演示）",
		Description: "为共同建设文明城市，现面向社会公开征集金点子。欢迎围绕以下九个方面，" +
			"结合身边的所见所闻提出具体、可行的意见建议。优秀建议将转交相关部门研究采纳，并按奖项设置给予表彰。" +
			"（本活动为演示内容。）",
		OpensAt: &opens, ClosesAt: &closes, Status: store.CampaignOpen, Policy: store.PolicyPost,
		DailyLimit: &daily, AwardTiers: []string{"一等奖", "二等奖", "三等奖", "优秀奖"}, Themes: Themes,
	}
	if _, err := campaign.Create(ctx, st, in, store.Actor{Name: "demo"}); err != nil {
		return nil, fmt.Errorf("demo campaign: %w", err)
	}
	rep.Created = append(rep.Created, "征集活动 "+CampaignSlug+"（9 个主题）")
	for i, sub := range Ideas {
		sub.Campaign, sub.Consent = CampaignSlug, true
		sub.Email = fmt.Sprintf("demo%d@example.com", i+1)
		meta := ideas.Meta{IP: "127.0.0.1", Source: "web"}
		if i == 0 {
			meta.User = resident
		}
		if _, err := svc.Submit(ctx, sub, nil, meta); err != nil {
			return nil, fmt.Errorf("demo idea %q: %w", sub.Title, err)
		}
	}
	rep.Created = append(rep.Created, fmt.Sprintf("示例建议 %d 条", len(Ideas)))
	if err := seedDebate(ctx, st, now, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// seedDebate creates the demo debate on civilised traffic with two invited
// departments and a few posts.
func seedDebate(ctx context.Context, st *store.Store, now time.Time, rep *Report) error {
	if _, err := st.DebateBySlug(ctx, DebateSlug); err == nil {
		rep.Skipped = append(rep.Skipped, "主题大讨论 "+DebateSlug)
		return nil
	}
	opens, closes := now.AddDate(0, 0, -3), now.AddDate(0, 1, 0)
	d, err := debate.Create(ctx, st, debate.Input{
		Slug: DebateSlug, Title: "遵守交通信号，安全文明出行（演示）",
		Question: "怎样让我们的城市出行更安全、更文明？",
		Background: "本月的主题大讨论围绕交通文明展开：行人过街、电动自行车通行、学校周边交通秩序、公共交通服务等。" +
			"欢迎市民朋友表明立场、提出建议；受邀部门将在讨论中回应，讨论结束后公布结论和采纳的措施。（本讨论为演示内容。）",
		Theme: "社会公德", Campaign: CampaignSlug, OpensAt: &opens, ClosesAt: &closes, Policy: store.PolicyPost,
		Departments: []string{"市公安局交通警察支队", "市交通运输局"},
	}, store.Actor{Name: "demo"})
	if err != nil {
		return fmt.Errorf("demo debate: %w", err)
	}
	svc := &debate.Service{Store: st, Moderation: moderation.PolicyOnly{}, Now: func() time.Time { return now }}
	for _, p := range debatePosts {
		u, err := st.UserByName(ctx, p.account)
		if err != nil {
			return err
		}
		if _, err := svc.Post(ctx, u, d.ID, debate.PostInput{Stance: p.stance, Body: p.body}, "127.0.0.1"); err != nil {
			return fmt.Errorf("demo debate post: %w", err)
		}
	}
	rep.Created = append(rep.Created, "主题大讨论 "+DebateSlug+"（2 个受邀部门）")
	return nil
}
