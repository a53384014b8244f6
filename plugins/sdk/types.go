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
