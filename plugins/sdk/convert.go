package sdk

import (
	"time"

	pb "github.com/roundshq/rounds/plugins/sdk/internal/proto"
)

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMs(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func messageToPB(m Message) *pb.MessagePosted {
	return &pb.MessagePosted{MessageId: m.ID, ConversationId: m.ConversationID, SenderId: m.SenderID, Text: m.Text, AtMs: ms(m.At)}
}

func messageFromPB(m *pb.MessagePosted) Message {
	return Message{ID: m.GetMessageId(), ConversationID: m.GetConversationId(), SenderID: m.GetSenderId(), Text: m.GetText(), At: fromMs(m.GetAtMs())}
}

func approvalToPB(a Approval) *pb.Approval {
	return &pb.Approval{Id: a.ID, Template: a.Template, ApplicantId: a.ApplicantID, Status: a.Status, Form: a.Form, CreatedMs: ms(a.CreatedAt)}
}

func approvalFromPB(a *pb.Approval) Approval {
	return Approval{ID: a.GetId(), Template: a.GetTemplate(), ApplicantID: a.GetApplicantId(), Status: a.GetStatus(), Form: a.GetForm(), CreatedAt: fromMs(a.GetCreatedMs())}
}

func rosterToPB(r Roster) *pb.Roster {
	out := &pb.Roster{Id: r.ID, DepartmentId: r.DepartmentID, Month: r.Month, Status: r.Status}
	for _, a := range r.Assignments {
		out.Assignments = append(out.Assignments, &pb.Assignment{UserId: a.UserID, Date: a.Date, Shift: a.Shift})
	}
	for _, v := range r.Violations {
		out.Violations = append(out.Violations, &pb.RosterViolation{Rule: v.Rule, Severity: v.Severity, UserId: v.UserID,
			Date: v.Date, Shift: v.Shift, Message: v.Message})
	}
	return out
}

func rosterFromPB(r *pb.Roster) Roster {
	out := Roster{ID: r.GetId(), DepartmentID: r.GetDepartmentId(), Month: r.GetMonth(), Status: r.GetStatus()}
	for _, a := range r.GetAssignments() {
		out.Assignments = append(out.Assignments, Assignment{UserID: a.GetUserId(), Date: a.GetDate(), Shift: a.GetShift()})
	}
	for _, v := range r.GetViolations() {
		out.Violations = append(out.Violations, RosterViolation{Rule: v.GetRule(), Severity: v.GetSeverity(), UserID: v.GetUserId(),
			Date: v.GetDate(), Shift: v.GetShift(), Message: v.GetMessage()})
	}
	return out
}

func staffingToPB(rs []StaffingRule) []*pb.StaffingRule {
	out := make([]*pb.StaffingRule, 0, len(rs))
	for _, r := range rs {
		out = append(out, &pb.StaffingRule{ShiftCode: r.ShiftCode, Skill: r.Skill, Min: int32(r.Min), Severity: r.Severity})
	}
	return out
}

func staffingFromPB(rs []*pb.StaffingRule) []StaffingRule {
	var out []StaffingRule
	for _, r := range rs {
		out = append(out, StaffingRule{ShiftCode: r.GetShiftCode(), Skill: r.GetSkill(), Min: int(r.GetMin()), Severity: r.GetSeverity()})
	}
	return out
}

func limitToPB(l RuleLimit) *pb.RuleLimit {
	return &pb.RuleLimit{Value: int32(l.Value), Severity: l.Severity}
}

func limitFromPB(l *pb.RuleLimit) RuleLimit {
	return RuleLimit{Value: int(l.GetValue()), Severity: l.GetSeverity()}
}

func rosterSetupToPB(s RosterSetup) *pb.RosterSetup {
	out := &pb.RosterSetup{DepartmentId: s.DepartmentID, Month: s.Month, Heads: s.Heads, Rules: &pb.RosterRules{
		MinStaff: staffingToPB(s.Rules.MinStaff), SkillMix: staffingToPB(s.Rules.SkillMix),
		MaxConsecutiveNights: limitToPB(s.Rules.MaxConsecutiveNights), MinRestAfterNightHours: limitToPB(s.Rules.MinRestAfterNightHours),
		MaxHoursPerWeek: limitToPB(s.Rules.MaxHoursPerWeek), ApprovedLeave: s.Rules.ApprovedLeave, Qualification: s.Rules.Qualification}}
	for _, sh := range s.Shifts {
		out.Shifts = append(out.Shifts, &pb.ShiftDefinition{Code: sh.Code, Name: sh.Name, Kind: sh.Kind, StartMinute: int32(sh.Start),
			EndMinute: int32(sh.End), LengthMinutes: int32(sh.Length), PaidMinutes: int32(sh.Paid), Night: sh.Night, Requires: sh.Requires})
	}
	for _, p := range s.People {
		out.People = append(out.People, &pb.RosterPerson{UserId: p.UserID, Skills: p.Skills, Qualifications: p.Qualifications, Leave: p.Leave})
	}
	return out
}

func rosterSetupFromPB(s *pb.RosterSetup) RosterSetup {
	r := s.GetRules()
	out := RosterSetup{DepartmentID: s.GetDepartmentId(), Month: s.GetMonth(), Heads: s.GetHeads(), Rules: RosterRules{
		MinStaff: staffingFromPB(r.GetMinStaff()), SkillMix: staffingFromPB(r.GetSkillMix()),
		MaxConsecutiveNights: limitFromPB(r.GetMaxConsecutiveNights()), MinRestAfterNightHours: limitFromPB(r.GetMinRestAfterNightHours()),
		MaxHoursPerWeek: limitFromPB(r.GetMaxHoursPerWeek()), ApprovedLeave: r.GetApprovedLeave(), Qualification: r.GetQualification()}}
	for _, sh := range s.GetShifts() {
		out.Shifts = append(out.Shifts, ShiftDefinition{Code: sh.GetCode(), Name: sh.GetName(), Kind: sh.GetKind(), Start: int(sh.GetStartMinute()),
			End: int(sh.GetEndMinute()), Length: int(sh.GetLengthMinutes()), Paid: int(sh.GetPaidMinutes()), Night: sh.GetNight(), Requires: sh.GetRequires()})
	}
	for _, p := range s.GetPeople() {
		out.People = append(out.People, RosterPerson{UserID: p.GetUserId(), Skills: p.GetSkills(), Qualifications: p.GetQualifications(), Leave: p.GetLeave()})
	}
	return out
}

func actorToPB(a Actor) *pb.Actor { return &pb.Actor{UserId: a.UserID, OrgId: a.OrgID} }

func actorFromPB(a *pb.Actor) Actor { return Actor{UserID: a.GetUserId(), OrgID: a.GetOrgId()} }
