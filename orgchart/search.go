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
	orgIDs := s.orgsToSearch(a)
	if only != "" {
		if _, _, err := s.readable(ctx, a, only); err != nil {
			return nil, err
		}
		orgIDs = []string{only}
	}
	var cands []candidate
	for _, orgID := range orgIDs {
		sn, v, err := s.readable(ctx, a, orgID)
		if err != nil {
			if core.IsCode(err, core.ENotFound) || (orgID != a.OrgID && core.IsCode(err, core.EForbidden)) {
				continue
			}
			return nil, err
		}
		cands = sn.search(q, v, orgID == a.OrgID, limit, cands)
	}
	// Candidates come in pinyin order per organisation, so a stable sort
	// keeps equal scores alphabetical.
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].score != cands[j].score {
			return cands[i].score > cands[j].score
		}
		return cands[i].own && !cands[j].own // own hospital first
	})
	if len(cands) > limit {
		cands = cands[:limit]
	}
	hits := make([]SearchHit, 0, len(cands))
	for _, c := range cands {
		p := c.sn.staff[c.sn.entries[c.idx].id]
		h := SearchHit{ID: p.ID, OrgID: c.sn.org.ID, OrgName: c.sn.org.Name, Name: p.Name, EmployeeNo: p.EmployeeNo,
			Position: p.Position, Title: p.Title, Phone: p.Phone, Score: c.score, MatchedBy: c.by}
		if p.PrimaryDepartmentID != "" {
			h.PrimaryDepartment = c.sn.pathString(p.PrimaryDepartmentID)
		}
		hits = append(hits, h)
	}
	return hits, nil
}

// candidate is a match before ranking; hits are built for the best only.
type candidate struct {
	score int
	own   bool
	by    string
	sn    *snapshot
	idx   int
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

// searchIndex orders a snapshot's entries for prefix lookups. It is built
// on the first search of a snapshot, not on every write.
type searchIndex struct {
	byName     []int32 // entry indexes sorted by name
	byInitials []int32 // … by pinyin initials
	byEmpNo    []int32 // … by employee number
	byPhone    map[string][]int32
	// Entries themselves are sorted by full pinyin (their sort key starts
	// with it), so full-pinyin prefixes need no extra index.
}

func (sn *snapshot) index() *searchIndex {
	sn.indexOnce.Do(func() {
		ix := &searchIndex{byPhone: map[string][]int32{}}
		n := len(sn.entries)
		ix.byName, ix.byInitials, ix.byEmpNo = make([]int32, n), make([]int32, n), make([]int32, n)
		for i := range sn.entries {
			ix.byName[i], ix.byInitials[i], ix.byEmpNo[i] = int32(i), int32(i), int32(i)
			if ph := sn.entries[i].phone; ph != "" {
				ix.byPhone[ph] = append(ix.byPhone[ph], int32(i))
			}
		}
		e := sn.entries
		sort.Slice(ix.byName, func(a, b int) bool { return e[ix.byName[a]].name < e[ix.byName[b]].name })
		sort.Slice(ix.byInitials, func(a, b int) bool { return e[ix.byInitials[a]].initials < e[ix.byInitials[b]].initials })
		sort.Slice(ix.byEmpNo, func(a, b int) bool { return e[ix.byEmpNo[a]].empNo < e[ix.byEmpNo[b]].empNo })
		sn.searchIx = ix
	})
	return sn.searchIx
}

// prefixRange calls fn for every index in order whose key has prefix q.
func prefixRange(order []int32, key func(int32) string, q string, fn func(i int32, exact bool)) {
	lo := sort.Search(len(order), func(k int) bool { return key(order[k]) >= q })
	for k := lo; k < len(order); k++ {
		s := key(order[k])
		if !strings.HasPrefix(s, q) {
			return
		}
		fn(order[k], s == q)
	}
}

// search ranks this organisation's current staff against q and returns at
// most limit candidates, best first (then pinyin order). Exact and prefix
// matches come from the sorted indexes; the slower substring and department
// scans run only when those did not fill the page.
func (sn *snapshot) search(q string, v view, own bool, limit int, out []candidate) []candidate {
	ix := sn.index()
	latin := asciiOnly(q)
	digits := strings.IndexFunc(q, func(r rune) bool { return r < '0' || r > '9' }) < 0
	found := map[int32]candidate{}
	add := func(i int32, score int, by string) {
		if c, ok := found[i]; ok && c.score >= score {
			return
		}
		if !v.seesStaff(sn.staff[sn.entries[i].id]) {
			return
		}
		found[i] = candidate{score: score, own: own, by: by, sn: sn, idx: int(i)}
	}
	e := sn.entries
	prefixRange(ix.byEmpNo, func(i int32) string { return e[i].empNo }, q, func(i int32, exact bool) {
		if exact {
			add(i, scoreExact, "employee_no")
		} else if len(q) >= 3 {
			add(i, scorePartial, "employee_no")
		}
	})
	for _, i := range ix.byPhone[q] {
		add(i, scoreExact, "phone")
	}
	prefixRange(ix.byName, func(i int32) string { return e[i].name }, q, func(i int32, exact bool) {
		if exact {
			add(i, scoreExact, "name")
		} else {
			add(i, scoreNamePrefix, "name")
		}
	})
	if latin && !digits {
		lo := sort.Search(len(e), func(k int) bool { return e[k].full >= q })
		for k := lo; k < len(e) && strings.HasPrefix(e[k].full, q); k++ {
			if e[k].full == q {
				add(int32(k), scoreNamePrefix, "pinyin")
			} else {
				add(int32(k), scorePinyinPrefix, "pinyin")
			}
		}
		prefixRange(ix.byInitials, func(i int32) string { return e[i].initials }, q, func(i int32, exact bool) {
			if exact {
				add(i, scoreInitials, "initials")
			} else {
				add(i, scoreInitialsPre, "initials")
			}
		})
	}
	if len(found) < limit {
		var deptHit map[string]bool
		if !digits {
			for id, name := range sn.deptLower {
				if strings.Contains(name, q) {
					if deptHit == nil {
						deptHit = map[string]bool{}
					}
					deptHit[id] = true
				}
			}
		}
		for i := range e {
			switch {
			case !digits && strings.Contains(e[i].name, q):
				add(int32(i), scorePartial, "name")
			case digits && len(q) >= 4 && strings.Contains(e[i].phone, q):
				add(int32(i), scorePartial, "phone")
			case deptHit != nil:
				for _, d := range e[i].depts {
					if deptHit[d] {
						add(int32(i), scoreDepartment, "department")
						break
					}
				}
			}
		}
	}
	cands := make([]candidate, 0, len(found))
	for _, c := range found {
		cands = append(cands, c)
	}
	sort.Slice(cands, func(a, b int) bool {
		if cands[a].score != cands[b].score {
			return cands[a].score > cands[b].score
		}
		return cands[a].idx < cands[b].idx
	})
	if len(cands) > limit {
		cands = cands[:limit]
	}
	return append(out, cands...)
}

// orgsToSearch lists the organisations a cross-directory read looks in: the
// actor's own and every partner of a hospital group it belongs to (what each
// shares is decided by readable), or every loaded one for an actor of no
// organisation (a system admin).
func (s *Service) orgsToSearch(a core.Actor) []string {
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
		return orgIDs
	}
	s.mu.Lock()
	for id := range s.snaps {
		orgIDs = append(orgIDs, id)
	}
	s.mu.Unlock()
	return orgIDs
}

// MaxPeopleBatch is how many ids one People call may name.
const MaxPeopleBatch = 200

// PersonName is how someone is named where their id appears outside the
// directory (a chat message, an approval): name, hospital, department, title.
type PersonName struct {
	ID                  string `json:"id"`
	OrgID               string `json:"org_id"`
	OrgName             string `json:"org_name"`
	Name                string `json:"name"`
	Position            string `json:"position,omitempty"`
	Title               string `json:"title,omitempty"`
	PrimaryDepartmentID string `json:"primary_department_id,omitempty"`
	PrimaryDepartment   string `json:"primary_department,omitempty"` // path
	Status              Status `json:"status"`
}

// People names up to MaxPeopleBatch people by id, in one call, as the actor
// may see them: people of the actor's hospital and of hospital-group partners
// as far as each shares its directory (the same rule as every directory
// read). An id the actor may not see, or that is nobody's, is left out of
// the answer, so the answer never tells which of the two it was. The order is
// that of ids; duplicates are answered once.
func (s *Service) People(ctx context.Context, a core.Actor, ids []string) ([]PersonName, error) {
	if len(ids) == 0 {
		return nil, core.Invalid("ids", "name at least one person")
	}
	if len(ids) > MaxPeopleBatch {
		return nil, core.Invalid("ids", "at most %d people at a time", MaxPeopleBatch)
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !core.ValidID(id) {
			return nil, core.Invalid("ids", "%q is not a valid id", id)
		}
		want[id] = true
	}
	found := make(map[string]PersonName, len(want))
	for _, orgID := range s.orgsToSearch(a) {
		if len(found) == len(want) {
			break
		}
		sn, v, err := s.readable(ctx, a, orgID)
		if err != nil {
			if core.IsCode(err, core.ENotFound) || (orgID != a.OrgID && core.IsCode(err, core.EForbidden)) {
				continue
			}
			return nil, err
		}
		for id := range want {
			p, ok := sn.staff[id]
			if _, done := found[id]; done || !ok || !v.seesStaff(p) {
				continue
			}
			n := PersonName{ID: p.ID, OrgID: sn.org.ID, OrgName: sn.org.Name, Name: p.Name, Position: p.Position,
				Title: p.Title, Status: p.Status}
			if p.PrimaryDepartmentID != "" {
				n.PrimaryDepartmentID = p.PrimaryDepartmentID
				n.PrimaryDepartment = sn.pathString(p.PrimaryDepartmentID)
			}
			found[id] = n
		}
	}
	out := make([]PersonName, 0, len(found))
	seen := make(map[string]bool, len(found))
	for _, id := range ids {
		if n, ok := found[id]; ok && !seen[id] {
			seen[id] = true
			out = append(out, n)
		}
	}
	return out, nil
}
