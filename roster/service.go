package roster

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
)

// Store keeps shifts, rule sets, staff profiles, leave and roster versions.
// Implemented by roster/sqlstore; contract suite in roster/rostertest.
//
// Errors: core.ENotFound for missing rows, core.EConflict for a duplicate
// shift code, an overlapping roster or a stale version.
type Store interface {
	TimeZone(ctx context.Context, orgID string) (string, error) // "" when unset
	SetTimeZone(ctx context.Context, orgID, tz string) error

	PutShift(ctx context.Context, s Shift) error // insert or update by ID; code unique per org
	Shifts(ctx context.Context, orgID string) ([]Shift, error)

	PutRules(ctx context.Context, orgID, deptID string, rs RuleSet) error
	Rules(ctx context.Context, orgID, deptID string) (RuleSet, bool, error)

	PutProfile(ctx context.Context, orgID string, p Person) error // skills and qualifications
	Profiles(ctx context.Context, orgID string, userIDs []string) (map[string]Person, error)
	AddLeave(ctx context.Context, orgID, userID string, dates []Date, source string) error
	Leave(ctx context.Context, orgID string, userIDs []string, from, to Date) (map[string][]Date, error)

	// CreateRoster stores version 1; an overlapping roster of the same
	// department is a conflict.
	CreateRoster(ctx context.Context, r Roster, violations []Violation) error
	// SaveVersion stores r as version r.Version if the current version is
	// r.Version-1 (else EConflict: someone else saved first).
	SaveVersion(ctx context.Context, r Roster, violations []Violation) error
	Roster(ctx context.Context, id string, version int) (Roster, []Violation, error) // version 0: latest
	Versions(ctx context.Context, id string) ([]Roster, error)                       // without assignments
	Rosters(ctx context.Context, orgID, deptID string, from, to Date) ([]Roster, error)
	// PublishedCovering returns the latest published version of every roster
	// of the department covering any date in [from, to].
	PublishedCovering(ctx context.Context, orgID, deptID string, from, to Date) ([]Roster, error)
}

// Directory is what rostering needs from the org chart.
type Directory interface {
	DepartmentMembers(ctx context.Context, orgID, deptID string, subtree bool) ([]string, error)
	HeadsOf(ctx context.Context, orgID, deptID string) ([]string, error)
	DepartmentsOf(ctx context.Context, orgID, userID string) (primary string, all []string, err error)
	IsInSubtree(ctx context.Context, orgID, rootDeptID, deptID string) (bool, error)
}

// Authorizer decides role-based permissions (core/authz).
type Authorizer interface {
	Authorize(ctx context.Context, a core.Actor, orgID, object, action string) error
}

// Notifier tells people about their shifts (the chat bot, wired by cmd).
type Notifier interface {
	// RosterPublished tells each person their own shifts; amended says why.
	RosterPublished(ctx context.Context, r Roster, shifts map[string]Shift, people []string, reason string) error
}

// Publisher announces roster changes to other nodes and areas.
type Publisher interface {
	Publish(ctx context.Context, subject string, data []byte) error
}

// Event subjects.
const (
	SubjectPublished = "roster.published"
	SubjectAmended   = "roster.amended"
)

// Event is the payload of roster events.
type Event struct {
	OrgID        string   `json:"org_id"`
	DepartmentID string   `json:"department_id"`
	RosterID     string   `json:"roster_id"`
	Version      int      `json:"version"`
	From         Date     `json:"from"`
	To           Date     `json:"to"`
	Affected     []string `json:"affected,omitempty"`
	// At is when this version was published or amended: the same on every
	// node that hears the event.
	At time.Time `json:"at"`
}

// Service is rostering's API for every transport.
type Service struct {
	store  Store
	dir    Directory
	authz  Authorizer
	audit  audit.Recorder
	notify Notifier
	pub    Publisher
	clock  core.Clock

	mu    sync.Mutex
	duty  map[string]*dutyCache // org/dept → cache
	zones map[string]*time.Location
}

type dutyCache struct {
	date    Date
	index   *DutyIndex
	expires time.Time
}

// DefaultTimeZone is used until an organisation sets its own.
const DefaultTimeZone = "Asia/Shanghai"

// New builds the service. notify and pub may be nil.
func New(store Store, dir Directory, authz Authorizer, rec audit.Recorder, notify Notifier, pub Publisher, clock core.Clock) *Service {
	if clock == nil {
		clock = core.SystemClock{}
	}
	return &Service{store: store, dir: dir, authz: authz, audit: rec, notify: notify, pub: pub, clock: clock,
		duty: map[string]*dutyCache{}, zones: map[string]*time.Location{}}
}

// Location is the organisation's time zone.
func (s *Service) Location(ctx context.Context, orgID string) (*time.Location, error) {
	s.mu.Lock()
	loc := s.zones[orgID]
	s.mu.Unlock()
	if loc != nil {
		return loc, nil
	}
	tz, err := s.store.TimeZone(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if tz == "" {
		tz = DefaultTimeZone
	}
	loc, err = time.LoadLocation(tz)
	if err != nil {
		return nil, core.Wrap(err, "time zone %s", tz)
	}
	s.mu.Lock()
	s.zones[orgID] = loc
	s.mu.Unlock()
	return loc, nil
}

// SetTimeZone changes the organisation's time zone (org admins).
func (s *Service) SetTimeZone(ctx context.Context, a core.Actor, orgID, tz string) error {
	if err := s.authz.Authorize(ctx, a, orgID, "roster.settings", "write"); err != nil {
		return err
	}
	if _, err := time.LoadLocation(tz); err != nil || tz == "" {
		return core.Invalid("time_zone", "%q is not a time zone like Asia/Shanghai", tz)
	}
	if err := s.store.SetTimeZone(ctx, orgID, tz); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.zones, orgID)
	s.duty = map[string]*dutyCache{}
	s.mu.Unlock()
	return nil
}

// mayEdit: org admins anywhere in their org; department heads for their
// department subtree.
func (s *Service) mayEdit(ctx context.Context, a core.Actor, orgID, deptID string) error {
	if err := s.authz.Authorize(ctx, a, orgID, "roster.roster", "write"); err != nil {
		return err
	}
	if err := s.inOrg(ctx, orgID, deptID); err != nil {
		return err
	}
	if a.IsSystem() || s.authz.Authorize(ctx, a, orgID, "roster.settings", "write") == nil {
		return nil // org admin
	}
	_, heads, err := s.headedBy(ctx, orgID, a.UserID)
	if err != nil {
		return err
	}
	for _, h := range heads {
		if ok, err := s.dir.IsInSubtree(ctx, orgID, h, deptID); err == nil && ok {
			return nil
		}
	}
	return core.Errorf(core.EForbidden, "only the head of this department (or above) edits its roster")
}

// inOrg refuses a department that is not orgID's: an admin of one hospital
// passing another hospital's department id under their own organisation
// meets ENotFound, not an empty answer or rules filed under a foreign id.
func (s *Service) inOrg(ctx context.Context, orgID, deptID string) error {
	_, err := s.dir.IsInSubtree(ctx, orgID, deptID, deptID)
	return err
}

// headedBy returns the departments a person heads (among the ones they belong to).
func (s *Service) headedBy(ctx context.Context, orgID, userID string) (string, []string, error) {
	primary, all, err := s.dir.DepartmentsOf(ctx, orgID, userID)
	if err != nil {
		return "", nil, err
	}
	var heads []string
	for _, d := range all {
		hs, err := s.dir.HeadsOf(ctx, orgID, d)
		if err != nil {
			return "", nil, err
		}
		for _, h := range hs {
			if h == userID {
				heads = append(heads, d)
			}
		}
	}
	return primary, heads, nil
}

// ApplyPattern adds a ready-made shift set to the organisation; shifts whose
// code exists already are left as they are.
func (s *Service) ApplyPattern(ctx context.Context, a core.Actor, orgID, key string) ([]Shift, error) {
	if err := s.authz.Authorize(ctx, a, orgID, "roster.settings", "write"); err != nil {
		return nil, err
	}
	var pat *Pattern
	for i := range Patterns {
		if Patterns[i].Key == key {
			pat = &Patterns[i]
		}
	}
	if pat == nil {
		return nil, core.Invalid("pattern", "unknown pattern %q", key)
	}
	have, err := s.store.Shifts(ctx, orgID)
	if err != nil {
		return nil, err
	}
	codes := map[string]bool{}
	for _, sh := range have {
		codes[sh.Code] = true
	}
	for _, sh := range pat.Shifts {
		if codes[sh.Code] {
			continue
		}
		sh.ID, sh.OrgID = core.NewID(), orgID
		if err := s.store.PutShift(ctx, sh); err != nil {
			return nil, err
		}
	}
	s.record(ctx, a, orgID, "roster.pattern.apply", "pattern", key)
	return s.store.Shifts(ctx, orgID)
}

// PutShift creates or changes a shift.
func (s *Service) PutShift(ctx context.Context, a core.Actor, sh Shift) (Shift, error) {
	if err := s.authz.Authorize(ctx, a, sh.OrgID, "roster.settings", "write"); err != nil {
		return Shift{}, err
	}
	if err := sh.Validate(); err != nil {
		return Shift{}, err
	}
	if sh.ID == "" {
		sh.ID = core.NewID()
	}
	if err := s.store.PutShift(ctx, sh); err != nil {
		return Shift{}, err
	}
	s.record(ctx, a, sh.OrgID, "roster.shift.put", "shift", sh.ID)
	return sh, nil
}

// Shifts lists the organisation's shifts.
func (s *Service) Shifts(ctx context.Context, a core.Actor, orgID string) ([]Shift, error) {
	if err := s.authz.Authorize(ctx, a, orgID, "roster.roster", "read"); err != nil {
		return nil, err
	}
	return s.store.Shifts(ctx, orgID)
}

func (s *Service) shiftMap(ctx context.Context, orgID string) (map[string]Shift, error) {
	list, err := s.store.Shifts(ctx, orgID)
	if err != nil {
		return nil, err
	}
	m := make(map[string]Shift, len(list))
	for _, sh := range list {
		m[sh.ID] = sh
	}
	return m, nil
}

// SetRules configures a ward's rule set.
func (s *Service) SetRules(ctx context.Context, a core.Actor, orgID, deptID string, rs RuleSet) error {
	if err := s.mayEdit(ctx, a, orgID, deptID); err != nil {
		return err
	}
	if err := rs.Validate(); err != nil {
		return err
	}
	if err := s.store.PutRules(ctx, orgID, deptID, rs); err != nil {
		return err
	}
	s.record(ctx, a, orgID, "roster.rules.put", "department", deptID)
	return nil
}

// Rules returns a ward's rule set (the defaults until one is set).
func (s *Service) Rules(ctx context.Context, a core.Actor, orgID, deptID string) (RuleSet, error) {
	if err := s.authz.Authorize(ctx, a, orgID, "roster.roster", "read"); err != nil {
		return RuleSet{}, err
	}
	if err := s.inOrg(ctx, orgID, deptID); err != nil {
		return RuleSet{}, err
	}
	return s.rules(ctx, orgID, deptID)
}

func (s *Service) rules(ctx context.Context, orgID, deptID string) (RuleSet, error) {
	rs, ok, err := s.store.Rules(ctx, orgID, deptID)
	if err != nil || ok {
		return rs, err
	}
	return DefaultRules(), nil
}

// SetProfile records a person's skills and qualifications.
func (s *Service) SetProfile(ctx context.Context, a core.Actor, orgID string, p Person) error {
	primary, _, err := s.dir.DepartmentsOf(ctx, orgID, p.UserID)
	if err != nil {
		return err
	}
	if err := s.mayEdit(ctx, a, orgID, primary); err != nil {
		return err
	}
	p.Leave = nil
	return s.store.PutProfile(ctx, orgID, p)
}

// RecordLeave notes approved leave (from the approvals area).
func (s *Service) RecordLeave(ctx context.Context, orgID, userID string, from, to Date, source string) error {
	if to < from || to-from > 366 {
		return core.Invalid("to", "leave must run forwards and at most a year")
	}
	var dates []Date
	for d := from; d <= to; d++ {
		dates = append(dates, d)
	}
	return s.store.AddLeave(ctx, orgID, userID, dates, source)
}

// Checked is the outcome of saving a roster: the roster as stored and every
// rule violation.
type Checked struct {
	Roster     Roster      `json:"roster"`
	Violations []Violation `json:"violations"`
}

// CreateRoster starts an empty draft for a department and period.
func (s *Service) CreateRoster(ctx context.Context, a core.Actor, orgID, deptID string, from, to Date) (Checked, error) {
	if err := s.mayEdit(ctx, a, orgID, deptID); err != nil {
		return Checked{}, err
	}
	r := Roster{ID: core.NewID(), OrgID: orgID, DepartmentID: deptID, From: from, To: to, Status: StatusDraft, Version: 1,
		UpdatedBy: a.UserID, UpdatedAt: s.clock.Now()}
	if err := CheckStructure(r, nil, nil, time.UTC); err != nil {
		return Checked{}, err
	}
	vs, err := s.evaluate(ctx, r)
	if err != nil {
		return Checked{}, err
	}
	if err := s.store.CreateRoster(ctx, r, vs); err != nil {
		return Checked{}, err
	}
	s.record(ctx, a, orgID, "roster.create", "roster", r.ID)
	return Checked{Roster: r, Violations: vs}, nil
}

// evaluate checks structure (an error) and rules (violations).
func (s *Service) evaluate(ctx context.Context, r Roster) ([]Violation, error) {
	shifts, err := s.shiftMap(ctx, r.OrgID)
	if err != nil {
		return nil, err
	}
	people, err := s.people(ctx, r.OrgID, r.DepartmentID, r.From, r.To)
	if err != nil {
		return nil, err
	}
	loc, err := s.Location(ctx, r.OrgID)
	if err != nil {
		return nil, err
	}
	if err := CheckStructure(r, shifts, people, loc); err != nil {
		return nil, err
	}
	rs, err := s.rules(ctx, r.OrgID, r.DepartmentID)
	if err != nil {
		return nil, err
	}
	return Check(r, shifts, people, rs, loc), nil
}

// people are the department's members (subtree included), whom its roster
// may name, with their profiles and approved leave within [from, to].
func (s *Service) people(ctx context.Context, orgID, deptID string, from, to Date) (map[string]Person, error) {
	members, err := s.dir.DepartmentMembers(ctx, orgID, deptID, true)
	if err != nil {
		return nil, err
	}
	people, err := s.store.Profiles(ctx, orgID, members)
	if err != nil {
		return nil, err
	}
	leave, err := s.store.Leave(ctx, orgID, members, from, to)
	if err != nil {
		return nil, err
	}
	for _, u := range members {
		p := people[u]
		p.UserID = u
		p.Leave = leave[u]
		people[u] = p
	}
	return people, nil
}

// People lists whom a department's roster for [from, to] may name, with the
// skills, qualifications and approved leave its rules weigh, sorted by user
// id. Leave is personal, so only the roster's editors may read it.
func (s *Service) People(ctx context.Context, a core.Actor, orgID, deptID string, from, to Date) ([]Person, error) {
	if err := s.mayEdit(ctx, a, orgID, deptID); err != nil {
		return nil, err
	}
	if to < from || to-from > 62 {
		return nil, core.Invalid("to", "a roster period runs forwards and covers at most 63 days")
	}
	m, err := s.people(ctx, orgID, deptID, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]Person, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	return out, nil
}

// Save stores a new version of a roster's assignments. version is the version
// the editor started from (a stale one is a conflict). A published roster can
// only be changed with a reason (an amendment); then the people whose shifts
// changed are told, and hard violations are refused.
func (s *Service) Save(ctx context.Context, a core.Actor, rosterID string, version int, assignments []Assignment, reason string) (Checked, error) {
	cur, _, err := s.store.Roster(ctx, rosterID, 0)
	if err != nil {
		return Checked{}, err
	}
	if err := s.mayEdit(ctx, a, cur.OrgID, cur.DepartmentID); err != nil {
		return Checked{}, err
	}
	if version != cur.Version {
		return Checked{}, core.Errorf(core.EConflict, "the roster changed since you opened it (now version %d); reload and edit again", cur.Version).With("version", cur.Version)
	}
	if cur.Status == StatusPublished && reason == "" {
		return Checked{}, core.Invalid("reason", "say why a published roster is changed; the people affected will be told")
	}
	next := cur
	next.Assignments = assignments
	next.Version = cur.Version + 1
	next.Reason = reason
	next.UpdatedBy, next.UpdatedAt = a.UserID, s.clock.Now()
	vs, err := s.evaluate(ctx, next)
	if err != nil {
		return Checked{}, err
	}
	if cur.Status == StatusPublished && Blocking(vs) {
		return Checked{}, core.Errorf(core.EConflict, "the amendment breaks hard rules; fix them first").With("violations", vs)
	}
	if err := s.store.SaveVersion(ctx, next, vs); err != nil {
		return Checked{}, err
	}
	s.record(ctx, a, cur.OrgID, "roster.save", "roster", rosterID)
	if cur.Status == StatusPublished {
		affected := changedPeople(cur.Assignments, next.Assignments)
		s.afterPublish(ctx, next, affected, reason, SubjectAmended)
	}
	return Checked{Roster: next, Violations: vs}, nil
}

// Publish puts a draft in force and tells every person on it their shifts.
// Hard violations block it.
func (s *Service) Publish(ctx context.Context, a core.Actor, rosterID string, version int) (Checked, error) {
	cur, _, err := s.store.Roster(ctx, rosterID, 0)
	if err != nil {
		return Checked{}, err
	}
	if err := s.mayEdit(ctx, a, cur.OrgID, cur.DepartmentID); err != nil {
		return Checked{}, err
	}
	if version != cur.Version {
		return Checked{}, core.Errorf(core.EConflict, "the roster changed since you opened it (now version %d)", cur.Version).With("version", cur.Version)
	}
	if cur.Status == StatusPublished {
		return Checked{}, core.Errorf(core.EConflict, "the roster is already published")
	}
	vs, err := s.evaluate(ctx, cur)
	if err != nil {
		return Checked{}, err
	}
	if Blocking(vs) {
		return Checked{}, core.Errorf(core.EConflict, "the roster breaks %d hard rule(s); fix them before publishing", countHard(vs)).With("violations", vs)
	}
	next := cur
	next.Status, next.Version = StatusPublished, cur.Version+1
	next.UpdatedBy, next.UpdatedAt = a.UserID, s.clock.Now()
	if err := s.store.SaveVersion(ctx, next, vs); err != nil {
		return Checked{}, err
	}
	s.record(ctx, a, cur.OrgID, "roster.publish", "roster", rosterID)
	s.afterPublish(ctx, next, peopleOn(next.Assignments), "", SubjectPublished)
	return Checked{Roster: next, Violations: vs}, nil
}

func (s *Service) afterPublish(ctx context.Context, r Roster, affected []string, reason, subject string) {
	s.Invalidate(r.OrgID, r.DepartmentID)
	if s.pub != nil {
		b, _ := json.Marshal(Event{OrgID: r.OrgID, DepartmentID: r.DepartmentID, RosterID: r.ID, Version: r.Version, From: r.From, To: r.To, Affected: affected, At: r.UpdatedAt})
		_ = s.pub.Publish(ctx, subject, b)
	}
	if s.notify != nil && len(affected) > 0 {
		if shifts, err := s.shiftMap(ctx, r.OrgID); err == nil {
			_ = s.notify.RosterPublished(ctx, r, shifts, affected, reason)
		}
	}
}

// Invalidate drops cached on-duty answers for a department (called on the
// roster events from other nodes too).
func (s *Service) Invalidate(orgID, deptID string) {
	s.mu.Lock()
	delete(s.duty, orgID+"/"+deptID)
	s.mu.Unlock()
}

// Get returns a roster version (0 = latest) with its violations. Staff of the
// organisation may read published rosters; drafts are for editors.
func (s *Service) Get(ctx context.Context, a core.Actor, rosterID string, version int) (Checked, error) {
	r, vs, err := s.store.Roster(ctx, rosterID, version)
	if err != nil {
		return Checked{}, err
	}
	if err := s.authz.Authorize(ctx, a, r.OrgID, "roster.roster", "read"); err != nil {
		return Checked{}, err
	}
	if r.Status == StatusDraft {
		if err := s.mayEdit(ctx, a, r.OrgID, r.DepartmentID); err != nil {
			return Checked{}, core.Errorf(core.ENotFound, "no such roster")
		}
	}
	return Checked{Roster: r, Violations: vs}, nil
}

// Versions lists every saved version of a roster.
func (s *Service) Versions(ctx context.Context, a core.Actor, rosterID string) ([]Roster, error) {
	r, _, err := s.store.Roster(ctx, rosterID, 0)
	if err != nil {
		return nil, err
	}
	if err := s.mayEdit(ctx, a, r.OrgID, r.DepartmentID); err != nil {
		return nil, err
	}
	return s.store.Versions(ctx, rosterID)
}

// List returns the department's rosters overlapping [from, to].
func (s *Service) List(ctx context.Context, a core.Actor, orgID, deptID string, from, to Date) ([]Roster, error) {
	if err := s.authz.Authorize(ctx, a, orgID, "roster.roster", "read"); err != nil {
		return nil, err
	}
	if err := s.inOrg(ctx, orgID, deptID); err != nil {
		return nil, err
	}
	return s.store.Rosters(ctx, orgID, deptID, from, to)
}

// OnDuty answers who is on duty, on call and backup for a department at t,
// from the published roster, cached per day.
func (s *Service) OnDuty(ctx context.Context, orgID, deptID string, t time.Time) (Duty, error) {
	loc, err := s.Location(ctx, orgID)
	if err != nil {
		return Duty{}, err
	}
	day := DateOf(t.In(loc))
	key := orgID + "/" + deptID
	now := s.clock.Now()
	s.mu.Lock()
	c := s.duty[key]
	s.mu.Unlock()
	if c == nil || c.date != day || now.After(c.expires) {
		rosters, err := s.store.PublishedCovering(ctx, orgID, deptID, day-1, day)
		if err != nil {
			return Duty{}, err
		}
		merged := Roster{From: day - 1, To: day}
		for _, r := range rosters {
			for _, as := range r.Assignments {
				if as.Date >= day-1 && as.Date <= day {
					merged.Assignments = append(merged.Assignments, as)
				}
			}
		}
		shifts, err := s.shiftMap(ctx, orgID)
		if err != nil {
			return Duty{}, err
		}
		c = &dutyCache{date: day, index: NewDutyIndex(merged, shifts, loc), expires: now.Add(time.Minute)}
		s.mu.Lock()
		s.duty[key] = c
		s.mu.Unlock()
	}
	return c.index.At(t), nil
}

// WhoIsOnDuty is OnDuty for a signed-in reader.
func (s *Service) WhoIsOnDuty(ctx context.Context, a core.Actor, orgID, deptID string, t time.Time) (Duty, error) {
	if err := s.authz.Authorize(ctx, a, orgID, "roster.roster", "read"); err != nil {
		return Duty{}, err
	}
	if err := s.inOrg(ctx, orgID, deptID); err != nil {
		return Duty{}, err
	}
	return s.OnDuty(ctx, orgID, deptID, t)
}

// Reach resolves "whoever is on call for the department now": on call, else
// backup, else the department's heads (the head nurse). It implements the
// chat area's on-duty seam.
func (s *Service) Reach(ctx context.Context, orgID, deptID string, t time.Time) ([]string, string, error) {
	d, err := s.OnDuty(ctx, orgID, deptID, t)
	if err != nil {
		return nil, "", err
	}
	var heads []string
	if len(d.OnCall) == 0 && len(d.Backup) == 0 {
		if heads, err = s.dir.HeadsOf(ctx, orgID, deptID); err != nil {
			return nil, "", err
		}
	}
	who, tier := d.Reach(heads)
	return who, tier, nil
}

// Swap exchanges two people's shifts on a published roster after a swap was
// approved: a's shift on dateA goes to b and b's shift on dateB goes to a.
// a must have a shift on dateA; b without one on dateB simply covers a's.
// The amendment is checked like any other and recorded as a new version.
// Both shifts may be on the same day (a day shift traded for an evening one);
// each assignment is matched against the roster as it was, so one is never
// moved twice.
func (s *Service) Swap(ctx context.Context, orgID, deptID, userA string, dateA Date, userB string, dateB Date, reason string) (Checked, error) {
	rosters, err := s.store.PublishedCovering(ctx, orgID, deptID, min(dateA, dateB), max(dateA, dateB))
	if err != nil {
		return Checked{}, err
	}
	for _, r := range rosters {
		if dateA < r.From || dateA > r.To || dateB < r.From || dateB > r.To {
			continue
		}
		next := append([]Assignment(nil), r.Assignments...)
		foundA := false
		for i, as := range next {
			switch {
			case as.UserID == userA && as.Date == dateA:
				next[i].UserID = userB
				foundA = true
			case as.UserID == userB && as.Date == dateB:
				next[i].UserID = userA
			}
		}
		// The same swap asked again (an approval's effect redone after a
		// crash) finds its own version and changes nothing: swapping twice
		// would swap back.
		vs, err := s.store.Versions(ctx, r.ID)
		if err != nil {
			return Checked{}, err
		}
		for _, v := range vs {
			if reason != "" && v.Reason == reason {
				return Checked{Roster: r}, nil
			}
		}
		if !foundA {
			return Checked{}, core.Errorf(core.ENotFound, "no shift of %s on %s to swap", userA, dateA)
		}
		return s.Save(ctx, core.SystemActor, r.ID, r.Version, next, reason)
	}
	return Checked{}, core.Errorf(core.ENotFound, "no published roster covers %s and %s", dateA, dateB)
}

func (s *Service) record(ctx context.Context, a core.Actor, orgID, action, objType, objID string) {
	if s.audit == nil {
		return
	}
	_ = s.audit.Record(ctx, audit.Entry{OrgID: orgID, ActorID: a.UserID, ActorKind: string(a.Kind), IP: a.IP,
		Action: action, ObjectType: objType, ObjectID: objID, Result: audit.ResultOK})
}

func countHard(vs []Violation) int {
	n := 0
	for _, v := range vs {
		if v.Severity == Hard {
			n++
		}
	}
	return n
}

func peopleOn(as []Assignment) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range as {
		if !seen[a.UserID] {
			seen[a.UserID] = true
			out = append(out, a.UserID)
		}
	}
	sort.Strings(out)
	return out
}

// changedPeople lists everyone whose assignments differ between versions.
func changedPeople(before, after []Assignment) []string {
	key := func(a Assignment) string { return fmt.Sprintf("%s|%d|%s", a.UserID, a.Date, a.ShiftID) }
	b := map[string]bool{}
	for _, x := range before {
		b[key(x)] = true
	}
	aset := map[string]bool{}
	for _, x := range after {
		aset[key(x)] = true
	}
	changed := map[string]bool{}
	for _, x := range before {
		if !aset[key(x)] {
			changed[x.UserID] = true
		}
	}
	for _, x := range after {
		if !b[key(x)] {
			changed[x.UserID] = true
		}
	}
	out := make([]string, 0, len(changed))
	for u := range changed {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// ScheduledShift is one worked shift of a person, placed in time.
type ScheduledShift struct {
	Date         Date      `json:"date"`
	ShiftID      string    `json:"shift_id"`
	ShiftName    string    `json:"shift_name"`
	Kind         ShiftKind `json:"kind"`
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
	DepartmentID string    `json:"department_id"`
}

// ScheduleOf lists a person's rostered shifts (published rosters of every
// department they belong to) dated within [from, to], days off excluded. The
// attendance area matches clock-ins against it.
func (s *Service) ScheduleOf(ctx context.Context, orgID, userID string, from, to Date) ([]ScheduledShift, error) {
	_, depts, err := s.dir.DepartmentsOf(ctx, orgID, userID)
	if err != nil {
		return nil, err
	}
	loc, err := s.Location(ctx, orgID)
	if err != nil {
		return nil, err
	}
	shifts, err := s.shiftMap(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var out []ScheduledShift
	for _, d := range depts {
		rosters, err := s.store.PublishedCovering(ctx, orgID, d, from, to)
		if err != nil {
			return nil, err
		}
		for _, r := range rosters {
			for _, a := range r.Assignments {
				sh, ok := shifts[a.ShiftID]
				if a.UserID != userID || a.Date < from || a.Date > to || !ok || sh.Kind == KindOff {
					continue
				}
				st, en := sh.Interval(a.Date, loc)
				out = append(out, ScheduledShift{Date: a.Date, ShiftID: sh.ID, ShiftName: sh.Name, Kind: sh.Kind, Start: st, End: en, DepartmentID: d})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// LeaveDates lists the dates of approved leave recorded for a person within
// [from, to].
func (s *Service) LeaveDates(ctx context.Context, orgID, userID string, from, to Date) ([]Date, error) {
	m, err := s.store.Leave(ctx, orgID, []string{userID}, from, to)
	if err != nil {
		return nil, err
	}
	return m[userID], nil
}
