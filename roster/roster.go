package roster

import (
	"time"
)

// Status of a roster.
type Status string

const (
	StatusDraft     Status = "draft"     // being edited by the head nurse; staff do not see it
	StatusPublished Status = "published" // in force; staff were told their shifts
)

// Assignment puts one person on one shift on one date.
type Assignment struct {
	UserID  string `json:"user_id"`
	Date    Date   `json:"date"`
	ShiftID string `json:"shift_id"`
}

// Roster is a ward's plan for a period (inclusive dates). Every save creates a
// new version; published versions are never changed, an amendment publishes a
// new version with a reason.
type Roster struct {
	ID           string       `json:"id"`
	OrgID        string       `json:"org_id"`
	DepartmentID string       `json:"department_id"`
	From         Date         `json:"from"`
	To           Date         `json:"to"`
	Status       Status       `json:"status"`
	Version      int          `json:"version"`
	Reason       string       `json:"reason,omitempty"` // why a published roster was amended
	Assignments  []Assignment `json:"assignments"`
	UpdatedBy    string       `json:"updated_by"`
	UpdatedAt    time.Time    `json:"updated_at"`
}

// Person is what the rules need to know about someone on the roster.
type Person struct {
	UserID string
	// Skills such as "senior_nurse" count for skill-mix rules.
	Skills []string
	// Qualifications such as "icu" are needed for shifts that require them.
	Qualifications []string
	// Leave lists dates with approved leave.
	Leave []Date
}

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
