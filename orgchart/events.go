package orgchart

import "time"

// Subjects published on the bus after a change is committed. Payloads are
// JSON: StaffEvent for orgchart.staff.*, DepartmentEvent for
// orgchart.department.*, GroupEvent for orgchart.group.changed. Delivery is
// at most once: a consumer that must not miss a change reads the directory
// (DepartmentMembers, IsActive …) when it starts.
const (
	SubjectStaffJoined  = "orgchart.staff.joined"  // a new member of staff, or a leaver who came back
	SubjectStaffLeft    = "orgchart.staff.left"    // status became left: remove from groups, hand over approvals
	SubjectStaffMoved   = "orgchart.staff.moved"   // departments changed (old and new in the payload)
	SubjectStaffUpdated = "orgchart.staff.updated" // name, phone, position, headships, duty roles, leave …
	SubjectDeptCreated  = "orgchart.department.created"
	SubjectDeptMoved    = "orgchart.department.moved"
	SubjectDeptRenamed  = "orgchart.department.renamed" // renamed or reordered
	SubjectDeptDeleted  = "orgchart.department.deleted"
	SubjectGroupChanged = "orgchart.group.changed"
	SubjectOrgChanged   = "orgchart.org.changed" // duty roles redefined (OrgEvent)
	SubjectAll          = "orgchart.>"
)

// StaffEvent is the payload of orgchart.staff.*.
type StaffEvent struct {
	OrgID                 string    `json:"org_id"`
	UserID                string    `json:"user_id"`
	Status                Status    `json:"status"`
	PrimaryDepartmentID   string    `json:"primary_department_id,omitempty"`
	DepartmentIDs         []string  `json:"department_ids"`
	PreviousDepartmentIDs []string  `json:"previous_department_ids,omitempty"`
	Version               int64     `json:"version"` // the org's version after the change
	At                    time.Time `json:"at"`
}

// DepartmentEvent is the payload of orgchart.department.*.
type DepartmentEvent struct {
	OrgID            string    `json:"org_id"`
	DepartmentID     string    `json:"department_id"`
	Name             string    `json:"name"`
	ParentID         string    `json:"parent_id,omitempty"`
	PreviousParentID string    `json:"previous_parent_id,omitempty"`
	Version          int64     `json:"version"`
	At               time.Time `json:"at"`
}

// OrgEvent is the payload of orgchart.org.changed.
type OrgEvent struct {
	OrgID   string    `json:"org_id"`
	Version int64     `json:"version"`
	At      time.Time `json:"at"`
}

// GroupEvent is the payload of orgchart.group.changed.
type GroupEvent struct {
	GroupID string    `json:"group_id"`
	OrgIDs  []string  `json:"org_ids"`
	At      time.Time `json:"at"`
}
