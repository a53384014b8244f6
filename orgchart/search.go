package orgchart

import (
	"context"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/roundshq/rounds/core"
)

// SearchHit is one person found by directory search.
type SearchHit struct {
	ID                string `json:"id"`
	OrgID             string `json:"org_id"`
	OrgName           string `json:"org_name"`
	Name              string `json:"name"`
	EmployeeNo        string `json:"employee_no"`
	Position          string `json:"position,omitempty"`
	Title             string `json:"title,omitempty"`
	Phone             string `json:"phone,omitempty"`
	PrimaryDepartment string `json:"primary_department,omitempty"` // path
	Score             int    `json:"score"`
	MatchedBy         string `json:"matched_by"` // employee_no, phone, name, pinyin, initials, department
}

// Search ranks.
const (
	scoreExact        = 100 // employee number, phone or name exactly
	scoreNamePrefix   = 90  // 张三 for 张三丰; zhangsan exactly
	scorePinyinPrefix = 80  // zhangs
	scoreInitials     = 70  // zs exactly
	scoreInitialsPre  = 60  // zs for zsf
	scorePartial      = 50  // part of the name, employee number or phone
	scoreDepartment   = 30  // the person's department is named like the query
)

// MaxSearchResults caps one search.
const MaxSearchResults = 100

// Search finds current staff by name, full pinyin, pinyin initials,
// employee number, phone or department name, across every organisation the
// actor can see (their own and what group partners share with them), best
// match first. An empty query is EInvalid.
func (s *Service) Search(ctx context.Context, a core.Actor, query string, limit int) ([]SearchHit, error) {
	return s.search(ctx, a, "", query, limit)
}

// SearchIn is Search limited to one organisation (as far as the actor can
// see it).
func (s *Service) SearchIn(ctx context.Context, a core.Actor, orgID, query string, limit int) ([]SearchHit, error) {
	if orgID == "" {
		return nil, core.Invalid("org_id", "an organisation is required")
	}
	return s.search(ctx, a, orgID, query, limit)
}

func (s *Service) search(ctx context.Context, a core.Actor, only, query string, limit int) ([]SearchHit, error) {
	q := normalizeQuery(query)
	if q == "" {
		return nil, core.Invalid("q", "type something to search for")
	}
	if utf8.RuneCountInString(q) > 64 {
		return nil, core.Invalid("q", "the search text is longer than 64 characters")
	}
	if limit <= 0 || limit > MaxSearchResults {
		limit = 20
	}
	var orgIDs []string
	if a.OrgID != "" {
		orgIDs = append(orgIDs, a.OrgID)
		for _, g := range s.allGroups() {
			in := false
			for _, m := range g.Members {
				in = in || m.OrgID == a.OrgID
			}
			if !in {
				continue
			}
			for _, m := range g.Members {
				if m.OrgID != a.OrgID && !contains(orgIDs, m.OrgID) {
					orgIDs = append(orgIDs, m.OrgID)
				}
			}
		}
	} else {
		s.mu.Lock()
		for id := range s.snaps {
			orgIDs = append(orgIDs, id)
		}
		s.mu.Unlock()
	}
	if only != "" {
		if _, _, err := s.readable(ctx, a, only); err != nil {
			return nil, err
		}
		orgIDs = []string{only}
	}
	hits := []SearchHit{}
	for _, orgID := range orgIDs {
		sn, v, err := s.readable(ctx, a, orgID)
		if err != nil {
			if core.IsCode(err, core.ENotFound) || (orgID != a.OrgID && core.IsCode(err, core.EForbidden)) {
				continue
			}
			return nil, err
		}
		hits = sn.search(q, v, hits)
	}
	// Entries are already in pinyin order, so a stable sort keeps equal
	// scores alphabetical.
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].OrgID == a.OrgID && hits[j].OrgID != a.OrgID // own hospital first
	})
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits, nil
}

func normalizeQuery(q string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(q) {
		if unicode.IsSpace(r) || r == '\'' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// asciiOnly: a Latin query may be pinyin; a Chinese one is matched on names.
func asciiOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func (sn *snapshot) search(q string, v view, hits []SearchHit) []SearchHit {
	latin := asciiOnly(q)
	digits := strings.IndexFunc(q, func(r rune) bool { return r < '0' || r > '9' }) < 0
	for i := range sn.entries {
		e := &sn.entries[i]
		score, by := 0, ""
		better := func(sc int, b string) {
			if sc > score {
				score, by = sc, b
			}
		}
		switch {
		case e.empNo == q:
			better(scoreExact, "employee_no")
		case e.phone != "" && e.phone == q:
			better(scoreExact, "phone")
		case e.name == q:
			better(scoreExact, "name")
		}
		if score < scoreExact {
			if strings.HasPrefix(e.name, q) {
				better(scoreNamePrefix, "name")
			}
			if latin && !digits {
				switch {
				case e.full == q:
					better(scoreNamePrefix, "pinyin")
				case strings.HasPrefix(e.full, q):
					better(scorePinyinPrefix, "pinyin")
				case e.initials == q:
					better(scoreInitials, "initials")
				case strings.HasPrefix(e.initials, q):
					better(scoreInitialsPre, "initials")
				}
			}
			if score < scorePartial {
				switch {
				case strings.Contains(e.name, q):
					better(scorePartial, "name")
				case len(q) >= 3 && strings.HasPrefix(e.empNo, q):
					better(scorePartial, "employee_no")
				case digits && len(q) >= 4 && strings.Contains(e.phone, q):
					better(scorePartial, "phone")
				}
			}
			if score == 0 && !digits {
				for _, d := range e.deptNames {
					if strings.Contains(d, q) {
						better(scoreDepartment, "department")
						break
					}
				}
			}
		}
		if score == 0 {
			continue
		}
		p := sn.staff[e.id]
		if !v.seesStaff(p) {
			continue
		}
		h := SearchHit{ID: p.ID, OrgID: sn.org.ID, OrgName: sn.org.Name, Name: p.Name, EmployeeNo: p.EmployeeNo,
			Position: p.Position, Title: p.Title, Phone: p.Phone, Score: score, MatchedBy: by}
		if p.PrimaryDepartmentID != "" {
			h.PrimaryDepartment = sn.pathString(p.PrimaryDepartmentID)
		}
		hits = append(hits, h)
	}
	return hits
}
