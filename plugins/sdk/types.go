package sdk

import "time"

// Install describes the install an app process serves: one app in one
// organisation. Since v0.1.0.
type Install struct {
	ID            string            // the install id; the app's storage is namespaced by it
	OrgID         string            // the hospital (organisation) the app is installed in
	AppID         string            // the manifest id
	BotUserID     string            // the user id of the app's bot in chat
	Settings      map[string]string // the admin's values for the manifest's settings schema
	ServerVersion string            // the Rounds server version, e.g. "1.4.0"
}

// Actor is the person on whose behalf the host calls an app (HTTP routes,
// slash commands). Since v0.1.0.
type Actor struct {
	UserID string
	OrgID  string
}

// Department is one node of the hospital's org chart. Since v0.1.0.
type Department struct {
	ID       string
	ParentID string
	Name     string
}

// Staff is a person in a department. Since v0.1.0.
type Staff struct {
	UserID       string
	Name         string
	DepartmentID string
	Position     string // e.g. 主治医师, 护士
}

// Message is a chat message. Since v0.1.0.
type Message struct {
	ID             string
	ConversationID string
	SenderID       string
	Text           string
	At             time.Time
}

// ApprovalFinished says an approval reached its outcome. Since v0.1.0.
type ApprovalFinished struct {
	ApprovalID  string
	Template    string // e.g. "leave", "overtime"
	ApplicantID string
	Outcome     string // "approved", "rejected", "withdrawn"
	At          time.Time
}

// Approval is an approval request as the app may read it. Since v0.1.0.
type Approval struct {
	ID          string
	Template    string
	ApplicantID string
	Status      string
	Form        map[string]string
	CreatedAt   time.Time
}

// ApprovalSubmission is a new approval request an app submits on behalf of
// an applicant. Since v0.1.0.
type ApprovalSubmission struct {
	Template    string
	ApplicantID string
	Form        map[string]string
}

// RosterPublished says a department's roster for a month was published.
// Since v0.1.0.
type RosterPublished struct {
	RosterID     string
	DepartmentID string
	Month        string // "2026-11"
	At           time.Time
}

// Assignment puts a person on a shift on a date. Since v0.1.0.
type Assignment struct {
	UserID string
	Date   string // "2026-11-03"
	Shift  string // the shift code, e.g. "D", "E", "N"
}

// Roster is a department's roster for a month. Since v0.1.0.
type Roster struct {
	ID           string
	DepartmentID string
	Month        string
	Status       string // "draft" or "published"
	Assignments  []Assignment
	// Violations are the server's own check of the roster against the
	// ward's rules, as of the version read or saved; a hard one blocks
	// publishing. The host fills it in; an app sends none. Since v0.2.0.
	Violations []RosterViolation
}

// Rule severities of a ward's roster rules. Since v0.2.0.
const (
	SeverityHard = "hard" // blocks publishing
	SeveritySoft = "soft" // shown to the head nurse, may be accepted
)

// RosterViolation is one rule a roster breaks, by rule, person and day.
// Since v0.2.0.
type RosterViolation struct {
	Rule     string // e.g. "min_staff", "max_consecutive_nights"
	Severity string // SeverityHard or SeveritySoft
	UserID   string // empty for rules about a whole shift
	Date     string // "2026-12-05" (for max_hours_per_week: the Monday of the week)
	Shift    string // the shift code, when the rule is about one
	Message  string
}

// ShiftDefinition is a kind of duty the hospital works, as the roster rules
// see it. Times are minutes after midnight; a shift whose End is at or before
// its Start ends the next day (Length says how long it runs). Since v0.2.0.
type ShiftDefinition struct {
	Code     string // the code assignments name, e.g. "白", "大", "N"
	Name     string
	Kind     string // "work", "on_call", "backup" or "off"
	Start    int
	End      int
	Length   int      // minutes (0 for a day off)
	Paid     int      // paid minutes, counted by max_hours_per_week
	Night    bool     // counts for the night rules (not for backup shifts)
	Requires []string // qualifications a person needs to work it
}

// StaffingRule asks for at least Min people on a shift every day
// (RosterRules.MinStaff) or, with Skill, at least Min people holding Skill
// on a shift every day it is staffed (RosterRules.SkillMix; an empty
// ShiftCode there means every night shift). Since v0.2.0.
type StaffingRule struct {
	ShiftCode string
	Skill     string
	Min       int
	Severity  string
}

// RuleLimit is a numeric bound; Value 0 means the rule is off. Since v0.2.0.
type RuleLimit struct {
	Value    int
	Severity string
}

// RosterRules are the rules the server checks a ward's roster against.
// Since v0.2.0.
type RosterRules struct {
	MinStaff               []StaffingRule
	SkillMix               []StaffingRule
	MaxConsecutiveNights   RuleLimit // nights on consecutive dates
	MinRestAfterNightHours RuleLimit // from the end of the last night of a run to the next shift that is not a night
	MaxHoursPerWeek        RuleLimit // paid hours per ISO week
	ApprovedLeave          string    // severity of working on approved leave; "" off
	Qualification          string    // severity of working a shift without its qualifications; "" off
}

// RosterPerson is someone the ward's roster may name, with what the rules
// need to know about them. Since v0.2.0.
type RosterPerson struct {
	UserID         string
	Skills         []string // e.g. "senior_nurse", counted by skill mix
	Qualifications []string // e.g. "icu", needed by shifts that require them
	Leave          []string // dates of approved leave in the month, "2026-12-05"
}

// RosterSetup is everything a roster planner needs to know about a ward's
// month: its shifts, its rules, the people a roster may name and the ward's
// heads (who edit and publish its roster). Since v0.2.0.
type RosterSetup struct {
	DepartmentID string
	Month        string // "2026-12"
	Shifts       []ShiftDefinition
	Rules        RosterRules
	People       []RosterPerson
	Heads        []string // user ids of the department's heads (the head nurse)
}

// StaffChange says a person joined or left a department. Since v0.1.0.
type StaffChange struct {
	UserID       string
	DepartmentID string
	Joined       bool // false: left
	At           time.Time
}

// Job is a scheduled job from the manifest firing. Since v0.1.0.
type Job struct {
	Name string
	At   time.Time
}

// Command is a slash command typed in a conversation. Since v0.1.0.
type Command struct {
	Command        string // without the slash, e.g. "daily"
	Args           string
	ConversationID string
	Actor          Actor
}

// AttendanceQuery selects attendance records. Since v0.1.0.
type AttendanceQuery struct {
	DepartmentID string
	From, To     string // dates, "2026-11-01"; To inclusive
}

// AttendanceRecord is one person's attendance on one date. Since v0.1.0.
type AttendanceRecord struct {
	UserID   string
	Date     string
	Status   string // "present", "late", "absent", "leave"
	ClockIn  time.Time
	ClockOut time.Time
}
