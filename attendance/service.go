package attendance

import (
	"context"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/roundshq/rounds/core"
)

// Store keeps rules, punches and approved overtime. Implemented by
// attendance/sqlstore.
type Store interface {
	Rules(ctx context.Context, orgID string) (Rules, bool, error)
	PutRules(ctx context.Context, orgID string, r Rules) error
	// AddPunch stores a punch; a make-up with a SourceID already stored is a
	// no-op (retries of the same approval).
	AddPunch(ctx context.Context, p Punch) error
	Punches(ctx context.Context, orgID, userID string, from, to time.Time) ([]Punch, error)
	// AddOvertime records approved overtime once per source.
	AddOvertime(ctx context.Context, orgID, userID, date string, minutes int, sourceID string) error
	Overtime(ctx context.Context, orgID, userID, fromDate, toDate string) (int, error)
}

// Schedule is what attendance needs from rostering.
type Schedule interface {
	// Duties lists the person's rostered shifts starting within [from, to).
	Duties(ctx context.Context, orgID, userID string, from, to time.Time) ([]Duty, error)
	// LeaveDates lists dates ("2026-12-01") of approved leave in [from, to).
	LeaveDates(ctx context.Context, orgID, userID string, from, to time.Time) ([]string, error)
	// Location is the organisation's time zone.
	Location(ctx context.Context, orgID string) (*time.Location, error)
}

// Directory is what attendance needs from the org chart.
type Directory interface {
	DepartmentMembers(ctx context.Context, orgID, deptID string, subtree bool) ([]string, error)
	HeadsOf(ctx context.Context, orgID, deptID string) ([]string, error)
	DepartmentsOf(ctx context.Context, orgID, userID string) (primary string, all []string, err error)
	IsInSubtree(ctx context.Context, orgID, rootDeptID, deptID string) (bool, error)
}

// Authorizer decides role permissions (core/authz).
type Authorizer interface {
	Authorize(ctx context.Context, a core.Actor, orgID, object, action string) error
}

// Service is attendance's API for every transport.
type Service struct {
	store Store
	sched Schedule
	dir   Directory
	authz Authorizer
	clock core.Clock
}

// New builds the service.
func New(store Store, sched Schedule, dir Directory, authz Authorizer, clock core.Clock) *Service {
	if clock == nil {
		clock = core.SystemClock{}
	}
	return &Service{store: store, sched: sched, dir: dir, authz: authz, clock: clock}
}

// Rules returns the organisation's clock-in rules.
func (s *Service) Rules(ctx context.Context, a core.Actor, orgID string) (Rules, error) {
	if err := s.authz.Authorize(ctx, a, orgID, "attendance.record", "write_own"); err != nil {
		return Rules{}, err
	}
	return s.rules(ctx, orgID)
}

func (s *Service) rules(ctx context.Context, orgID string) (Rules, error) {
	r, ok, err := s.store.Rules(ctx, orgID)
	if err != nil || ok {
		return r, err
	}
	return DefaultRules(), nil
}

// SetRules changes the clock-in rules (organisation admins).
func (s *Service) SetRules(ctx context.Context, a core.Actor, orgID string, r Rules) error {
	if err := s.authz.Authorize(ctx, a, orgID, "attendance.settings", "write"); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	return s.store.PutRules(ctx, orgID, r)
}

// ClockIn records the actor clocking in or out, if the device is at the
// hospital. The server's clock decides the time.
func (s *Service) ClockIn(ctx context.Context, a core.Actor, at Attempt) (Punch, error) {
	if err := s.authz.Authorize(ctx, a, a.OrgID, "attendance.record", "write_own"); err != nil {
		return Punch{}, err
	}
	r, err := s.rules(ctx, a.OrgID)
	if err != nil {
		return Punch{}, err
	}
	now := s.clock.Now()
	method, place, err := r.Accept(at, a.IP, now)
	if err != nil {
		return Punch{}, err
	}
	p := Punch{ID: core.NewID(), OrgID: a.OrgID, UserID: a.UserID, Kind: at.Kind, At: now, Method: method, Place: place}
	return p, s.store.AddPunch(ctx, p)
}

// MakeUp records a clock-in or out that an approved make-up request (补卡)
// vouches for. Idempotent per approval.
func (s *Service) MakeUp(ctx context.Context, orgID, userID, kind string, at time.Time, approvalID string) error {
	if kind != "in" && kind != "out" {
		return core.Invalid("kind", "kind must be in or out")
	}
	if at.After(s.clock.Now()) {
		return core.Invalid("time", "a make-up clock-in cannot be in the future")
	}
	return s.store.AddPunch(ctx, Punch{ID: core.NewID(), OrgID: orgID, UserID: userID, Kind: kind, At: at.UTC(), Method: MethodMakeUp, SourceID: approvalID})
}

// RecordOvertime counts approved overtime (加班) on a date.
func (s *Service) RecordOvertime(ctx context.Context, orgID, userID, date string, minutes int, approvalID string) error {
	if _, err := time.Parse("2006-01-02", date); err != nil {
		return core.Invalid("date", "%q is not a date", date)
	}
	if minutes <= 0 || minutes > 24*60 {
		return core.Invalid("minutes", "overtime must be 1 minute to 24 hours a day")
	}
	return s.store.AddOvertime(ctx, orgID, userID, date, minutes, approvalID)
}

// mayRead: yourself; department heads for people in their subtree; admins.
func (s *Service) mayRead(ctx context.Context, a core.Actor, orgID, userID string) error {
	if a.UserID == userID && a.OrgID == orgID {
		return s.authz.Authorize(ctx, a, orgID, "attendance.record", "write_own")
	}
	if err := s.authz.Authorize(ctx, a, orgID, "attendance.record", "read_subtree"); err != nil {
		return err
	}
	if a.IsSystem() || s.authz.Authorize(ctx, a, orgID, "attendance.settings", "write") == nil {
		return nil
	}
	_, theirs, err := s.dir.DepartmentsOf(ctx, orgID, userID)
	if err != nil {
		return err
	}
	_, mine, err := s.dir.DepartmentsOf(ctx, orgID, a.UserID)
	if err != nil {
		return err
	}
	for _, d := range mine {
		heads, _ := s.dir.HeadsOf(ctx, orgID, d)
		for _, h := range heads {
			if h != a.UserID {
				continue
			}
			for _, t := range theirs {
				if ok, _ := s.dir.IsInSubtree(ctx, orgID, d, t); ok {
					return nil
				}
			}
		}
	}
	return core.Errorf(core.EForbidden, "only the person, their department head or an admin sees these records")
}

// Month is one person's month: every duty with its outcome and the summary.
type Month struct {
	Results []Result `json:"results"`
	Punches []Punch  `json:"punches"`
	Summary Summary  `json:"summary"`
}

// ParseMonth reads "2026-12".
func ParseMonth(s string) (time.Time, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return time.Time{}, core.Invalid("month", "%q is not a month like 2026-12", s)
	}
	return t, nil
}

// MonthOf computes a person's month ("2026-12").
func (s *Service) MonthOf(ctx context.Context, a core.Actor, orgID, userID, month string) (Month, error) {
	if err := s.mayRead(ctx, a, orgID, userID); err != nil {
		return Month{}, err
	}
	return s.month(ctx, orgID, userID, month)
}

func (s *Service) month(ctx context.Context, orgID, userID, month string) (Month, error) {
	m, err := ParseMonth(month)
	if err != nil {
		return Month{}, err
	}
	loc, err := s.sched.Location(ctx, orgID)
	if err != nil {
		return Month{}, err
	}
	from := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, loc)
	to := from.AddDate(0, 1, 0)
	duties, err := s.sched.Duties(ctx, orgID, userID, from, to)
	if err != nil {
		return Month{}, err
	}
	if len(duties) == 0 {
		r, err := s.rules(ctx, orgID)
		if err != nil {
			return Month{}, err
		}
		duties = OfficeDuties(r.Office, from, to.AddDate(0, 0, -1), loc)
	}
	r, err := s.rules(ctx, orgID)
	if err != nil {
		return Month{}, err
	}
	window := time.Duration(r.Window) * time.Minute
	// Punches for a night shift starting on the last evening run into the
	// next month; look a day past each end.
	punches, err := s.store.Punches(ctx, orgID, userID, from.Add(-window), to.Add(24*time.Hour))
	if err != nil {
		return Month{}, err
	}
	leaveDates, err := s.sched.LeaveDates(ctx, orgID, userID, from, to)
	if err != nil {
		return Month{}, err
	}
	leave := map[string]bool{}
	for _, d := range leaveDates {
		leave[d] = true
	}
	ot, err := s.store.Overtime(ctx, orgID, userID, from.Format("2006-01-02"), to.AddDate(0, 0, -1).Format("2006-01-02"))
	if err != nil {
		return Month{}, err
	}
	res := Match(duties, punches, leave, r, s.clock.Now())
	if punches == nil {
		punches = []Punch{}
	}
	return Month{Results: res, Punches: punches, Summary: Summarize(userID, month, res, ot)}, nil
}

// DepartmentMonth summarises every current member of a department subtree.
func (s *Service) DepartmentMonth(ctx context.Context, a core.Actor, orgID, deptID, month string) ([]Summary, error) {
	if err := s.authz.Authorize(ctx, a, orgID, "attendance.record", "read_subtree"); err != nil {
		return nil, err
	}
	members, err := s.dir.DepartmentMembers(ctx, orgID, deptID, true)
	if err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(members))
	for _, u := range members {
		if err := s.mayRead(ctx, a, orgID, u); err != nil {
			return nil, err
		}
		m, err := s.month(ctx, orgID, u, month)
		if err != nil {
			return nil, err
		}
		out = append(out, m.Summary)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	return out, nil
}

// WriteXLSX writes month summaries (from DepartmentMonth) as a spreadsheet;
// names maps user ids to display names (the caller asks the directory).
func WriteXLSX(month string, sums []Summary, names map[string]string, w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := "考勤 " + month
	f.SetSheetName("Sheet1", sheet)
	head := []any{"工号/ID", "姓名", "应出勤", "正常", "迟到", "迟到分钟", "早退", "缺勤", "缺卡", "请假", "实际工时(小时)", "加班(小时)"}
	_ = f.SetSheetRow(sheet, "A1", &head)
	for i, s := range sums {
		row := []any{s.UserID, names[s.UserID], s.Duties, s.Normal, s.Late, s.LateMinutes, s.EarlyLeave, s.Absent, s.MissingPunches, s.OnLeave,
			round1(float64(s.WorkedMinutes) / 60), round1(float64(s.OvertimeMinutes) / 60)}
		_ = f.SetSheetRow(sheet, "A"+strconv.Itoa(i+2), &row)
	}
	return f.Write(w)
}

func round1(v float64) float64 { return float64(int(v*10+0.5)) / 10 }

// DayRow is one person's duties on one day.
type DayRow struct {
	UserID  string   `json:"user_id"`
	Results []Result `json:"results"`
}

// DepartmentDay is a department subtree's attendance on one date
// ("2026-12-01"): every current member's duties that day and how they went.
func (s *Service) DepartmentDay(ctx context.Context, a core.Actor, orgID, deptID, date string) ([]DayRow, error) {
	day, err := time.Parse("2006-01-02", date)
	if err != nil {
		return nil, core.Invalid("date", "%q is not a date like 2026-12-01", date)
	}
	if err := s.authz.Authorize(ctx, a, orgID, "attendance.record", "read_subtree"); err != nil {
		return nil, err
	}
	members, err := s.dir.DepartmentMembers(ctx, orgID, deptID, true)
	if err != nil {
		return nil, err
	}
	out := make([]DayRow, 0, len(members))
	for _, u := range members {
		if err := s.mayRead(ctx, a, orgID, u); err != nil {
			return nil, err
		}
		m, err := s.month(ctx, orgID, u, day.Format("2006-01"))
		if err != nil {
			return nil, err
		}
		row := DayRow{UserID: u, Results: []Result{}}
		for _, r := range m.Results {
			if r.Duty.Date == date {
				row.Results = append(row.Results, r)
			}
		}
		out = append(out, row)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	return out, nil
}
