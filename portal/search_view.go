package portal

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"

	"jindianzi/portal/region"
	"jindianzi/portal/searchdocs"
	"jindianzi/portal/store"
	"jindianzi/search"
)

// searchPage is the search page's data.
type searchPage struct {
	// Query holds the parameters the search was made with (not the page).
	Query  url.Values
	Answer searchAnswer
	Pager  pager
	// Campaigns are the campaign filter's choices, the active one (a
	// debate's, say, from a facet link) included.
	Campaigns []selectOption
	Provinces []region.Province
	// Statuses are the status filter's choices, for moderators only.
	Statuses []selectOption
	// Facets are the result counts by theme, campaign, province, status
	// and kind, each a link narrowing the search.
	Facets   []facetView
	SeeAll   bool
	Searched bool
	// Typed is the query as the resident typed it, when its phrases found
	// nothing and Query holds it without quotes (searchAnswer.WithoutQuotes).
	Typed string
}

// selectOption is one choice of a filter's <select>.
type selectOption struct {
	Value, Label string
	Selected     bool
}

// facetView is one facet on the search page: its values as links narrowing
// the search, or, when the filter is set, the value chosen with a link
// removing it.
type facetView struct {
	Param   string // the query parameter it sets
	Heading string
	Values  []facetValue
	// ClearURL searches again without this filter; set when it is active.
	ClearURL string
}

// facetValue is one value of a facet.
type facetValue struct {
	Label  string
	Count  int
	URL    string // the search narrowed to this value
	Active bool
}

// searchStatuses are the statuses a moderator may filter on, in the order
// of an idea's life; "hidden" is the index's name for public items hidden
// by reports.
var searchStatuses = []store.IdeaStatus{store.IdeaPending, store.IdeaChanges, store.IdeaPublished, store.IdeaAccepted,
	store.IdeaInProgress, store.IdeaAdopted, store.IdeaPartlyAdopted, store.IdeaImplemented, store.IdeaDeclined,
	store.IdeaRejected, store.IdeaMerged, store.IdeaWithdrawn, searchdocs.HiddenStatus}

// statusLabel is a status of the index in Chinese.
func statusLabel(s string) string {
	if s == searchdocs.HiddenStatus {
		return "已隐藏"
	}
	return store.IdeaStatus(s).Label()
}

// kindParam maps the index's kinds to the kind parameter's values.
var kindParam = map[string]string{searchdocs.EntityIdea: "idea", searchdocs.EntityPost: "post"}

// kindLabel is a kind of the index in Chinese.
func kindLabel(kind string) string {
	switch kind {
	case searchdocs.EntityIdea:
		return "金点子"
	case searchdocs.EntityPost:
		return "讨论发言"
	}
	return kind
}

// campaignNames names the campaign facet's values: campaign slugs, and
// "debate:<slug>" for debate posts. Names are looked up once per page.
type campaignNames struct {
	st *store.Store
	// public hides draft campaigns' titles.
	public bool
	names  map[string]string
}

func newCampaignNames(st *store.Store, public bool, listed []store.Campaign) *campaignNames {
	n := &campaignNames{st: st, public: public, names: map[string]string{}}
	for _, c := range listed {
		n.names[c.Slug] = c.Title
	}
	return n
}

// name returns the campaign's title, "主题大讨论：" and the debate's title
// for a debate's posts, or the value itself when there is no such campaign.
func (n *campaignNames) name(ctx context.Context, value string) (string, error) {
	if name, ok := n.names[value]; ok {
		return name, nil
	}
	name := value
	// Values from the address bar may be anything: only a plausible slug
	// is looked up.
	if value != "" && utf8.ValidString(value) && len(value) <= 200 {
		if slug, ok := strings.CutPrefix(value, searchdocs.DebateCampaignPrefix); ok {
			d, err := n.st.DebateBySlug(ctx, slug)
			switch {
			case err == nil:
				name = "主题大讨论：" + d.Title
			case !errors.Is(err, store.ErrNotFound):
				return "", err
			}
		} else {
			c, err := n.st.CampaignBySlug(ctx, value)
			switch {
			case err == nil && !(n.public && c.Status == store.CampaignDraft):
				name = c.Title
			case err != nil && !errors.Is(err, store.ErrNotFound):
				return "", err
			}
		}
	}
	n.names[value] = name
	return name, nil
}

// searchLink is the search page for query with param set to value (or
// removed, when value is empty), back on page 1.
func searchLink(query url.Values, param, value string) string {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Del("page")
	if value == "" {
		q.Del(param)
	} else {
		q.Set(param, value)
	}
	if len(q) == 0 {
		return "/search"
	}
	return "/search?" + q.Encode()
}

// facetSpec says how to show one facet of the index.
type facetSpec struct {
	field, param, heading string
	// value is the query parameter's value for a term of the index.
	value func(term string) string
	label func(term string) (string, error)
}

// buildFacets turns the answer's facet counts into links. base is the
// query the links start from (the search's parameters and page size).
// Residents see public statuses only, whatever the index returned.
func buildFacets(ctx context.Context, base url.Values, facets map[string][]search.FacetCount, seeAll bool, camps *campaignNames) ([]facetView, error) {
	same := func(t string) string { return t }
	named := func(t string) (string, error) { return t, nil }
	specs := []facetSpec{
		{search.FieldTheme, "theme", "主题", same, named},
		{search.FieldCampaign, "campaign", "征集活动", same, func(t string) (string, error) { return camps.name(ctx, t) }},
		{search.FieldRegion, "region", "省份", same, func(t string) (string, error) {
			if p, ok := region.LookupProvince(t); ok {
				return p.Name, nil
			}
			return t, nil
		}},
		{search.FieldStatus, "status", "状态", same, func(t string) (string, error) { return statusLabel(t), nil }},
		{search.FieldKind, "kind", "类型", func(t string) string { return kindParam[t] }, func(t string) (string, error) { return kindLabel(t), nil }},
	}
	var out []facetView
	for _, s := range specs {
		active := base.Get(s.param)
		if s.param == "kind" && active == "all" {
			active = ""
		}
		f := facetView{Param: s.param, Heading: s.heading}
		for _, fc := range facets[s.field] {
			v := s.value(fc.Term)
			if v == "" || (s.param == "status" && !seeAll && !store.IdeaStatus(fc.Term).Public()) {
				continue
			}
			if active != "" && v != active {
				continue // under a filter only its value counts
			}
			label, err := s.label(fc.Term)
			if err != nil {
				return nil, err
			}
			f.Values = append(f.Values, facetValue{Label: label, Count: fc.Count, URL: searchLink(base, s.param, v), Active: v == active})
		}
		if active != "" {
			f.ClearURL = searchLink(base, s.param, "")
		}
		if len(f.Values) > 0 {
			out = append(out, f)
		}
	}
	return out, nil
}

// campaignOptions are the campaign filter's choices: the campaigns listed,
// and the active value if it is not one of them (a debate's posts).
func campaignOptions(ctx context.Context, listed []store.Campaign, active string, camps *campaignNames) ([]selectOption, error) {
	var out []selectOption
	found := false
	for _, c := range listed {
		out = append(out, selectOption{Value: c.Slug, Label: c.Title, Selected: c.Slug == active})
		found = found || c.Slug == active
	}
	if active != "" && !found {
		name, err := camps.name(ctx, active)
		if err != nil {
			return nil, err
		}
		out = append(out, selectOption{Value: active, Label: name, Selected: true})
	}
	return out, nil
}

// statusOptions are the moderators' status filter's choices.
func statusOptions(active string) []selectOption {
	var out []selectOption
	found := false
	for _, s := range searchStatuses {
		out = append(out, selectOption{Value: string(s), Label: statusLabel(string(s)), Selected: string(s) == active})
		found = found || string(s) == active
	}
	if active != "" && !found {
		out = append(out, selectOption{Value: active, Label: active, Selected: true})
	}
	return out
}
