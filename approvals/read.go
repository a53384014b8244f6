package approvals

import (
	"context"
	"time"

	"github.com/roundshq/rounds/core"
)

// canRead lets the submitter, anyone who had a task (or on whose behalf
// one was done), CC'd people, heads of a department above the request's
// department and org admins read a request. Others get ENotFound, so the
// existence of a request is not revealed.
func (s *Service) canRead(ctx context.Context, a core.Actor, r *Request, tasks []*Task) error {
	if a.UserID != "" {
		if r.SubmitterID == a.UserID {
			return nil
		}
		for _, t := range tasks {
			if t.AssigneeID == a.UserID || t.OnBehalfOf == a.UserID {
				return nil
			}
		}
		ccs, err := s.store.CCs(ctx, r.ID)
		if err != nil {
			return err
		}
		for _, c := range ccs {
			if c == a.UserID {
				return nil
			}
		}
	}
	if s.authz.Authorize(ctx, a, r.OrgID, ObjRequest, ActionAdmin) == nil {
		return nil
	}
	if s.authz.Authorize(ctx, a, r.OrgID, ObjRequest, ActionReadSubtree) == nil {
		ok, err := s.headsOver(ctx, a, r.OrgID, r.DeptID)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	return core.Errorf(core.ENotFound, "no such request")
}

// headedDepartments returns the departments the actor is a head of.
func (s *Service) headedDepartments(ctx context.Context, a core.Actor, orgID string) ([]string, error) {
	_, all, err := s.dir.DepartmentsOf(ctx, orgID, a.UserID)
	if gone(err) {
		return nil, nil
	}
	if err != nil {
		return nil, dirErr(err)
	}
	var out []string
	for _, d := range all {
		heads, err := s.dir.HeadsOf(ctx, orgID, d)
		if gone(err) {
			continue
		}
		if err != nil {
			return nil, dirErr(err)
		}
		for _, h := range heads {
			if h == a.UserID {
				out = append(out, d)
				break
			}
		}
	}
	return out, nil
}

func (s *Service) headsOver(ctx context.Context, a core.Actor, orgID, deptID string) (bool, error) {
	if deptID == "" {
		return false, nil
	}
	roots, err := s.headedDepartments(ctx, a, orgID)
	if err != nil {
		return false, err
	}
	for _, root := range roots {
		ok, err := s.dir.IsInSubtree(ctx, orgID, root, deptID)
		if gone(err) {
			continue
		}
		if err != nil {
			return false, dirErr(err)
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// View is a request with its tasks, timeline and CC list, as its readers see
// it. CanAct says whether the reader has a pending task now.
type View struct {
	Request  Request  `json:"request"`
	Tasks    []Task   `json:"tasks"`
	Timeline []Entry  `json:"timeline"`
	CC       []string `json:"cc"`
	MyTaskID string   `json:"my_task_id,omitempty"`
}

// Get returns a request the actor may read.
func (s *Service) Get(ctx context.Context, id string) (*View, error) {
	a, err := s.actor(ctx)
	if err != nil {
		return nil, err
	}
	if !core.ValidID(id) {
		return nil, core.Invalid("id", "not a request id")
	}
	r, err := s.store.Request(ctx, a.OrgID, id)
	if err != nil {
		return nil, err
	}
	tasks, err := s.store.Tasks(ctx, id)
	if err != nil {
		return nil, err
	}
	ptrs := make([]*Task, len(tasks))
	for i := range tasks {
		ptrs[i] = &tasks[i]
	}
	if err := s.canRead(ctx, a, r, ptrs); err != nil {
		return nil, err
	}
	tl, err := s.store.Timeline(ctx, id)
	if err != nil {
		return nil, err
	}
	cc, err := s.store.CCs(ctx, id)
	if err != nil {
		return nil, err
	}
	v := &View{Request: *r, Tasks: tasks, Timeline: tl, CC: cc}
	for _, t := range tasks {
		if t.State == TaskPending && t.AssigneeID == a.UserID && t.Activation == r.Activation {
			v.MyTaskID = t.ID
		}
	}
	return v, nil
}

// maxSubtreeScan bounds how many org requests a department head's list
// looks through to fill one page.
const maxSubtreeScan = 5000

// List returns one page of the actor's pending, done, submitted or CC list,
// or of the org's requests (ListOrg): all of them for admins, those from the
// departments under the actor for department heads.
func (s *Service) List(ctx context.Context, kind ListKind, f Filter, p core.PageRequest) ([]ListItem, string, error) {
	a, err := s.actor(ctx)
	if err != nil {
		return nil, "", err
	}
	if len(f.Query) > 100 {
		return nil, "", core.Invalid("q", "a search is at most 100 characters")
	}
	switch f.Status {
	case "", StatusPending, StatusApproved, StatusRejected, StatusWithdrawn:
	default:
		return nil, "", core.Invalid("status", "status is pending, approved, rejected or withdrawn")
	}
	p = p.Normalize(20)
	switch kind {
	case ListPending, ListDone, ListSubmitted, ListCC:
		if err := s.authz.Authorize(ctx, a, a.OrgID, ObjRequest, ActionUse); err != nil {
			return nil, "", err
		}
		return s.store.List(ctx, a.OrgID, a.UserID, kind, f, p)
	case ListOrg:
	default:
		return nil, "", core.Invalid("list", "list is pending, done, submitted, cc or org")
	}
	if s.authz.Authorize(ctx, a, a.OrgID, ObjRequest, ActionAdmin) == nil {
		return s.store.List(ctx, a.OrgID, "", ListOrg, f, p)
	}
	if err := s.authz.Authorize(ctx, a, a.OrgID, ObjRequest, ActionReadSubtree); err != nil {
		return nil, "", err
	}
	roots, err := s.headedDepartments(ctx, a, a.OrgID)
	if err != nil {
		return nil, "", err
	}
	if len(roots) == 0 {
		return nil, "", nil
	}
	// The directory answers "is D under R" but cannot list a subtree, so the
	// page is filled by scanning the org's requests newest first.
	inTree := map[string]bool{}
	var out []ListItem
	cursor := p.Cursor
	scanned := 0
	for len(out) < p.Limit && scanned < maxSubtreeScan {
		items, next, err := s.store.List(ctx, a.OrgID, "", ListOrg, f, core.PageRequest{Cursor: cursor, Limit: core.MaxPageLimit})
		if err != nil {
			return nil, "", err
		}
		for i, it := range items {
			scanned++
			ok, seen := inTree[it.DeptID]
			if !seen {
				for _, root := range roots {
					ok, err = s.dir.IsInSubtree(ctx, a.OrgID, root, it.DeptID)
					if gone(err) {
						ok, err = false, nil
					}
					if err != nil {
						return nil, "", dirErr(err)
					}
					if ok {
						break
					}
				}
				inTree[it.DeptID] = ok
			}
			if ok {
				out = append(out, it)
				if len(out) == p.Limit {
					if i == len(items)-1 {
						return out, next, nil
					}
					return out, core.EncodeCursor(listCursor{At: sqlMillis(it.CreatedAt), ID: it.ID}), nil
				}
			}
		}
		if next == "" {
			return out, "", nil
		}
		cursor = next
	}
	if len(out) == 0 {
		return out, "", nil
	}
	last := out[len(out)-1]
	return out, core.EncodeCursor(listCursor{At: sqlMillis(last.CreatedAt), ID: last.ID}), nil
}

// listCursor is the position in every list: created_at (ms) and id of the
// last item, newest first. Stores must use the same shape.
type listCursor struct {
	At int64  `json:"t"`
	ID string `json:"i"`
}

// ListCursor encodes a list position for stores.
func ListCursor(createdAt time.Time, id string) string {
	return core.EncodeCursor(listCursor{At: sqlMillis(createdAt), ID: id})
}

// DecodeListCursor reads a list position made by ListCursor.
func DecodeListCursor(s string) (at int64, id string, err error) {
	var c listCursor
	if err := core.DecodeCursor(s, &c); err != nil {
		return 0, "", err
	}
	return c.At, c.ID, nil
}

func sqlMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
