package store

import "time"

// Role is what a user may do on the portal.
type Role string

// The four roles.
const (
	RoleResident  Role = "resident"
	RoleModerator Role = "moderator"
	RoleOfficial  Role = "official"
	RoleAdmin     Role = "admin"
)

// Roles lists every role, in increasing order of power.
var Roles = []Role{RoleResident, RoleOfficial, RoleModerator, RoleAdmin}

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// Label is the role's name in Chinese, for pages.
func (r Role) Label() string {
	switch r {
	case RoleResident:
		return "居民"
	case RoleModerator:
		return "审核员"
	case RoleOfficial:
		return "部门工作人员"
	case RoleAdmin:
		return "管理员"
	}
	return string(r)
}

// IdeaStatus is where an idea is in its life (see DESIGN.md).
type IdeaStatus string

// The statuses of an idea.
const (
	IdeaPending       IdeaStatus = "pending"
	IdeaPublished     IdeaStatus = "published"
	IdeaRejected      IdeaStatus = "rejected"
	IdeaMerged        IdeaStatus = "merged"
	IdeaWithdrawn     IdeaStatus = "withdrawn"
	IdeaChanges       IdeaStatus = "changes_requested"
	IdeaAccepted      IdeaStatus = "accepted"
	IdeaInProgress    IdeaStatus = "in_progress"
	IdeaAdopted       IdeaStatus = "adopted"
	IdeaPartlyAdopted IdeaStatus = "partly_adopted"
	IdeaDeclined      IdeaStatus = "declined"
	IdeaImplemented   IdeaStatus = "implemented"
)

// Label is the status in Chinese, as residents see it.
func (s IdeaStatus) Label() string {
	switch s {
	case IdeaPending:
		return "待审核"
	case IdeaPublished:
		return "已公开"
	case IdeaRejected:
		return "未通过"
	case IdeaMerged:
		return "已合并"
	case IdeaWithdrawn:
		return "已撤回"
	case IdeaChanges:
		return "待修改"
	case IdeaAccepted:
		return "已受理"
	case IdeaInProgress:
		return "办理中"
	case IdeaAdopted:
		return "已采纳"
	case IdeaPartlyAdopted:
		return "部分采纳"
	case IdeaDeclined:
		return "暂不采纳"
	case IdeaImplemented:
		return "已落实"
	}
	return string(s)
}

// Public reports whether ideas in this status are shown to everyone.
func (s IdeaStatus) Public() bool {
	switch s {
	case IdeaPublished, IdeaAccepted, IdeaInProgress, IdeaAdopted, IdeaPartlyAdopted, IdeaDeclined, IdeaImplemented:
		return true
	}
	return false
}

// Department is a government body whose officials answer ideas routed to it.
type Department struct {
	ID        int64
	Name      string
	Code      string
	CreatedAt time.Time
}

// TableName pins the table name.
func (Department) TableName() string { return "departments" }

// User is an account: a resident, moderator, official or admin.
type User struct {
	ID            int64
	Name          string // login name, unique
	DisplayName   string
	PasswordHash  string
	Role          Role
	DepartmentID  *int64
	Phone         string
	Email         string
	FailedLogins  int
	LockedUntil   *time.Time
	BlockedAt     *time.Time
	BlockedReason string
	LastLoginAt   *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// TableName pins the table name.
func (User) TableName() string { return "users" }

// Session is a signed-in browser. ID is the SHA-256 of the cookie's secret,
// so a leaked database does not leak live sessions.
type Session struct {
	ID         string `gorm:"primaryKey"`
	UserID     int64
	IP         string `gorm:"column:ip"`
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// TableName pins the table name.
func (Session) TableName() string { return "sessions" }

// APIToken is a bearer token for API clients, stored as a SHA-256 hash.
type APIToken struct {
	ID         int64
	UserID     int64
	Name       string
	TokenHash  string
	Prefix     string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
}

// TableName pins the table name.
func (APIToken) TableName() string { return "api_tokens" }

// Campaign is a golden-idea collection campaign (金点子征集).
type Campaign struct {
	ID              int64
	Slug            string
	Title           string
	Description     string
	Status          string // draft, open, closed, archived
	Policy          string // pre (先审后发) or post (先发后审)
	OpensAt         *time.Time
	ClosesAt        *time.Time
	DailyLimit      int
	AwardTiers      string // JSON array of tier names
	ReviewDays      int    // moderation deadline in working days
	ReportThreshold int    // reports that hide an item until reviewed
	CreatedBy       *int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// TableName pins the table name.
func (Campaign) TableName() string { return "campaigns" }

// Theme is one heading of a campaign under which ideas are filed.
type Theme struct {
	ID           int64
	CampaignID   int64
	Name         string
	Description  string
	Keywords     string // JSON array of seed keywords
	Position     int
	DepartmentID *int64 // default department for routing
	CreatedAt    time.Time
}

// TableName pins the table name.
func (Theme) TableName() string { return "themes" }

// Idea is one resident's submission to a campaign.
type Idea struct {
	ID               int64
	CampaignID       int64
	ThemeID          *int64
	ThemeSuggested   bool
	ThemeConfirmed   bool
	TrackingCode     string
	Title            string
	Body             string
	TitleMasked      string
	BodyMasked       string
	ProvinceCode     string
	CityCode         string
	AuthorID         *int64
	DisplayName      string
	Anonymous        bool
	ContactPhone     string
	ContactEmail     string
	SubmitterKey     string // hash of the normalised contact: daily limits and spam rules
	Status           IdeaStatus
	StatusReason     string
	RiskScore        float64
	Moderation       string // JSON: reasons, matches, duplicate candidates
	ReasonCodes      string // space-separated reason codes, for queue filters
	MergedIntoID     *int64
	SupportsCount    int
	ImportedSupports int
	CommentsCount    int
	ReportsCount     int
	Hidden           bool
	DepartmentID     *int64
	RoutedAt         *time.Time
	ReplyDueAt       *time.Time
	Reply            string
	RepliedAt        *time.Time
	RepliedBy        *int64
	ContentHash      string
	Simhash          int64
	Source           string
	ImportKey        *string
	IdempotencyKey   *string
	ClientIP         string `gorm:"column:client_ip"`
	CreatedAt        time.Time
	UpdatedAt        time.Time
	PublishedAt      *time.Time
}

// TableName pins the table name.
func (Idea) TableName() string { return "ideas" }

// IdeaStatusEvent records one change in an idea's life: the tracking page's
// history and, later, the adoption ledger.
type IdeaStatusEvent struct {
	ID         int64
	IdeaID     int64
	FromStatus IdeaStatus
	ToStatus   IdeaStatus
	ActorID    *int64
	ActorRole  string
	Note       string
	Public     bool
	CreatedAt  time.Time
}

// TableName pins the table name.
func (IdeaStatusEvent) TableName() string { return "idea_status_events" }

// Support is a resident's co-signature (附议) of an idea.
type Support struct {
	ID              int64
	IdeaID          int64
	UserID          int64
	MovedFromIdeaID *int64 // set when a merge moved it, so unmerge can move it back
	CreatedAt       time.Time
}

// TableName pins the table name.
func (Support) TableName() string { return "supports" }

// Comment is a remark on an idea, with one level of replies.
type Comment struct {
	ID           int64
	IdeaID       int64
	ParentID     *int64
	AuthorID     *int64
	DisplayName  string
	Body         string
	BodyMasked   string
	Status       IdeaStatus
	StatusReason string
	RiskScore    float64
	Moderation   string
	ReasonCodes  string
	ReportsCount int
	Hidden       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// TableName pins the table name.
func (Comment) TableName() string { return "comments" }

// Attachment is a file (JPEG, PNG or PDF) attached to an idea, stored under
// the data directory with a random name.
type Attachment struct {
	ID           int64
	IdeaID       int64
	OriginalName string
	StoredName   string
	ContentType  string
	SizeBytes    int64
	Sha256       string `gorm:"column:sha256"`
	CreatedAt    time.Time
}

// TableName pins the table name.
func (Attachment) TableName() string { return "attachments" }

// Debate is a month-long themed public debate (大讨论).
type Debate struct {
	ID          int64
	Slug        string
	CampaignID  *int64
	Title       string
	Question    string
	Background  string
	Theme       string
	Policy      string
	OpensAt     time.Time
	ClosesAt    time.Time
	Conclusion  string
	ConcludedAt *time.Time
	ConcludedBy *int64
	CreatedBy   *int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TableName pins the table name.
func (Debate) TableName() string { return "debates" }

// State says whether the debate is upcoming, open or closed at now.
func (d Debate) State(now time.Time) string {
	switch {
	case now.Before(d.OpensAt):
		return "upcoming"
	case now.Before(d.ClosesAt):
		return "open"
	}
	return "closed"
}

// DebatePost is a contribution to a debate with a stance.
type DebatePost struct {
	ID             int64
	DebateID       int64
	ParentID       *int64
	AuthorID       *int64
	DepartmentID   *int64
	Official       bool
	Stance         string // for, against, proposal
	Body           string
	BodyMasked     string
	Status         IdeaStatus
	StatusReason   string
	RiskScore      float64
	Moderation     string
	ReasonCodes    string
	SupportsCount  int
	ReportsCount   int
	Hidden         bool
	Pinned         bool
	PromotedIdeaID *int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TableName pins the table name.
func (DebatePost) TableName() string { return "debate_posts" }

// AuditEntry is one append-only record of a moderator's or admin's action.
type AuditEntry struct {
	ID         int64     `json:"id"`
	ActorID    *int64    `json:"actor_id"`
	ActorName  string    `json:"actor"`
	Action     string    `json:"action"`
	TargetType string    `json:"target_type"`
	TargetID   *int64    `json:"target_id"`
	BeforeJSON string    `gorm:"column:before_json" json:"before"`
	AfterJSON  string    `gorm:"column:after_json" json:"after"`
	Reason     string    `json:"reason"`
	IP         string    `gorm:"column:ip" json:"ip"`
	CreatedAt  time.Time `json:"created_at"`
}

// TableName pins the table name.
func (AuditEntry) TableName() string { return "audit_entries" }

// OutboxEvent tells the indexer that an entity changed. Written in the same
// transaction as the change; the indexer drains it in id order.
type OutboxEvent struct {
	ID        int64
	Entity    string // "idea", "debate_post"
	EntityID  int64
	Op        string // "upsert" or "delete"
	CreatedAt time.Time
}

// TableName pins the table name.
func (OutboxEvent) TableName() string { return "outbox" }

// Merge records one idea merged into another, so it can be undone.
type Merge struct {
	ID           int64
	SourceIdeaID int64
	TargetIdeaID int64
	SourceStatus IdeaStatus
	Reason       string
	MergedBy     *int64
	MergedAt     time.Time
	UndoneBy     *int64
	UndoneAt     *time.Time
}

// TableName pins the table name.
func (Merge) TableName() string { return "merges" }

// Report is a resident's report (举报) of an idea, comment or debate post.
type Report struct {
	ID          int64
	TargetType  string
	TargetID    int64
	ReporterID  *int64
	ReporterKey string // the account or, for visitors, a hash of the address
	Reason      string
	CreatedAt   time.Time
	ResolvedAt  *time.Time
	ResolvedBy  *int64
}

// TableName pins the table name.
func (Report) TableName() string { return "reports" }

// Holiday is a day off (or, with Workday, a weekend day worked in exchange,
// 调休) for working-day deadlines.
type Holiday struct {
	Day     string `gorm:"primaryKey"` // YYYY-MM-DD, China time
	Name    string
	Workday bool
}

// TableName pins the table name.
func (Holiday) TableName() string { return "holidays" }

// SensitiveWord is one entry of the moderation word list that admins edit.
type SensitiveWord struct {
	ID        int64
	Word      string
	Category  string
	Action    string // block, hold, flag
	CreatedBy *int64
	CreatedAt time.Time
}

// TableName pins the table name.
func (SensitiveWord) TableName() string { return "sensitive_words" }

// DictionaryTerm is a word admins added to the segmentation dictionary.
type DictionaryTerm struct {
	ID        int64
	Term      string
	CreatedBy *int64
	CreatedAt time.Time
}

// TableName pins the table name.
func (DictionaryTerm) TableName() string { return "dictionary_terms" }

// ThemeModel is a trained theme classifier for a campaign.
type ThemeModel struct {
	ID         int64
	CampaignID int64
	Version    int
	Model      []byte
	Metrics    string // JSON
	Labels     int    // confirmed labels it was trained on
	CreatedAt  time.Time
}

// TableName pins the table name.
func (ThemeModel) TableName() string { return "theme_models" }

// Cluster groups ideas about the same concrete matter (热点问题).
type Cluster struct {
	ID               int64
	CampaignID       int64
	ThemeID          *int64
	Label            string
	Renamed          bool   // a moderator named it; rebuilds keep the name
	Keywords         string // JSON array
	Size             int
	Supports         int
	FirstAt          *time.Time
	LastAt           *time.Time
	RepresentativeID *int64
	Score            float64
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// TableName pins the table name.
func (Cluster) TableName() string { return "clusters" }

// ClusterMember places an idea in a cluster; Pinned marks a moderator's choice.
type ClusterMember struct {
	IdeaID    int64 `gorm:"primaryKey"`
	ClusterID int64
	Pinned    bool
}

// TableName pins the table name.
func (ClusterMember) TableName() string { return "cluster_members" }
