// Package builtin holds the approval templates every hospital starts with:
// leave, overtime, shift swap, business trip, purchase, referral request,
// document circulation and make-up clock-in. An org admin edits them like
// any template (each edit is a new version).
//
// The flows name duty roles as hospitals call them (人事处处长, 财务处处长,
// 设备科科长, 医务处处长, 副院长, 院长, 院办主任); the org chart's RoleHolders
// resolves them. A role nobody holds is skipped (the timeline says so), so a
// small county hospital without an equipment office still gets working
// flows; an admin renames a role in a template by editing it.
package builtin

import (
	"github.com/roundshq/rounds/approvals"
)

// Role names used by the built-in flows.
const (
	RoleHR             = "人事处处长"
	RoleFinance        = "财务处处长"
	RoleEquipment      = "设备科科长"
	RoleMedicalAffairs = "医务处处长"
	RoleVicePresident  = "副院长"
	RolePresident      = "院长"
	RoleOffice         = "院办主任"
)

// Template codes.
const (
	Leave       = "leave"
	Overtime    = "overtime"
	ShiftSwap   = "shift_swap"
	Trip        = "business_trip"
	Purchase    = "purchase"
	Referral    = "referral"
	Circulation = "document_circulation"
	MakeUp      = "makeup_clock_in"
)

func f64(v float64) *float64 { return &v }

func start(next string) approvals.Node {
	return approvals.Node{ID: "start", Kind: approvals.NodeStart, Next: next}
}

var end = approvals.Node{ID: "end", Kind: approvals.NodeEnd}

func manager(id, name string, levels int, next string) approvals.Node {
	return approvals.Node{ID: id, Name: name, Kind: approvals.NodeApprove, Approver: approvals.ApproverManager, Levels: levels,
		Mode: approvals.OrSign, Empty: approvals.EmptySkip, TimeLimitMins: 24 * 60, OnTimeout: approvals.TimeoutRemind, Next: next}
}

func role(id, name, r string, mode approvals.SignMode, next string) approvals.Node {
	return approvals.Node{ID: id, Name: name, Kind: approvals.NodeApprove, Approver: approvals.ApproverRole, Role: r,
		Mode: mode, Empty: approvals.EmptySkip, TimeLimitMins: 24 * 60, OnTimeout: approvals.TimeoutRemind, Next: next}
}

func cc(id, r, next string) approvals.Node {
	return approvals.Node{ID: id, Name: "抄送", Kind: approvals.NodeCC, Approver: approvals.ApproverRole, Role: r, Next: next}
}

// Templates returns the built-in templates (fresh values on every call).
func Templates() []approvals.TemplateInput {
	return []approvals.TemplateInput{
		{
			Code: Leave, Name: "请假", Category: "attendance",
			Description: "各类请假。超过 3 天的另由上两级负责人审批，并抄送人事处。",
			Schema: approvals.Schema{Fields: []approvals.Field{
				{Key: "leave_type", Label: "Type of leave", Type: approvals.FieldSelect, Required: true,
					Options: []string{"annual", "sick", "personal", "marriage", "maternity", "paternity", "bereavement", "compensatory"}},
				{Key: "period", Label: "Dates", Type: approvals.FieldDateRange, Required: true},
				{Key: "leave_days", Label: "Days of leave", Type: approvals.FieldComputed, Formula: "days(period)"},
				{Key: "reason", Label: "Reason", Type: approvals.FieldLongText, Required: true},
				{Key: "cover", Label: "Who covers my work", Type: approvals.FieldPerson},
				{Key: "files", Label: "Certificates", Type: approvals.FieldAttachment},
			}},
			Flow: approvals.Flow{Nodes: []approvals.Node{
				start("mgr"),
				manager("mgr", "直属负责人", 1, "long"),
				{ID: "long", Kind: approvals.NodeBranch, Next: "hr", Branches: []approvals.Branch{{Condition: "leave_days > 3", Next: "head2"}}},
				manager("head2", "上两级负责人", 2, "hr"),
				cc("hr", RoleHR, "end"),
				end,
			}},
		},
		{
			Code: Overtime, Name: "加班", Category: "attendance",
			Description: "已发生或计划的加班，抄送人事处计入考勤。",
			Schema: approvals.Schema{Fields: []approvals.Field{
				{Key: "day", Label: "Date", Type: approvals.FieldDate, Required: true},
				{Key: "from", Label: "From", Type: approvals.FieldTime, Required: true},
				{Key: "to", Label: "To", Type: approvals.FieldTime, Required: true},
				{Key: "hours", Label: "Hours", Type: approvals.FieldNumber, Required: true, Min: f64(0.5), Max: f64(24)},
				{Key: "compensation", Label: "Compensation", Type: approvals.FieldSelect, Required: true, Options: []string{"pay", "time_off"}},
				{Key: "reason", Label: "Reason", Type: approvals.FieldLongText, Required: true},
			}},
			Flow: approvals.Flow{Nodes: []approvals.Node{start("mgr"), manager("mgr", "直属负责人", 1, "hr"), cc("hr", RoleHR, "end"), end}},
		},
		{
			Code: ShiftSwap, Name: "调班", Category: "roster",
			Description: "与同事调换班次：先由同事同意，再由科室负责人（护士长）审批，批准后排班自动调整。",
			Schema: approvals.Schema{Fields: []approvals.Field{
				{Key: "swap_with", Label: "Swap with", Type: approvals.FieldPerson, Required: true},
				{Key: "my_shift_date", Label: "My shift", Type: approvals.FieldDate, Required: true},
				{Key: "my_shift", Label: "My shift code", Type: approvals.FieldText, Required: true, Max: f64(20)},
				{Key: "their_shift_date", Label: "Their shift", Type: approvals.FieldDate, Required: true},
				{Key: "their_shift", Label: "Their shift code", Type: approvals.FieldText, Required: true, Max: f64(20)},
				{Key: "reason", Label: "Reason", Type: approvals.FieldLongText},
			}},
			Flow: approvals.Flow{Nodes: []approvals.Node{
				start("colleague"),
				{ID: "colleague", Name: "同事确认", Kind: approvals.NodeApprove, Approver: approvals.ApproverFormField, Field: "swap_with",
					Mode: approvals.OrSign, Empty: approvals.EmptySkip, TimeLimitMins: 12 * 60, OnTimeout: approvals.TimeoutRemind, Next: "mgr"},
				manager("mgr", "护士长 / 科室负责人", 1, "end"),
				end,
			}},
		},
		{
			Code: Trip, Name: "出差", Category: "attendance",
			Description: "预计费用超过 5,000 元的另由分管副院长审批，并抄送财务处。",
			Schema: approvals.Schema{Fields: []approvals.Field{
				{Key: "destination", Label: "Destination", Type: approvals.FieldText, Required: true},
				{Key: "period", Label: "Dates", Type: approvals.FieldDateRange, Required: true},
				{Key: "trip_days", Label: "Days", Type: approvals.FieldComputed, Formula: "days(period)"},
				{Key: "transport", Label: "Transport", Type: approvals.FieldSelect, Options: []string{"train", "plane", "car", "bus", "other"}},
				{Key: "estimated_cost", Label: "Estimated cost", Type: approvals.FieldMoney, Required: true},
				{Key: "purpose", Label: "Purpose", Type: approvals.FieldLongText, Required: true},
			}},
			Flow: approvals.Flow{Nodes: []approvals.Node{
				start("mgr"),
				manager("mgr", "直属负责人", 1, "cost"),
				{ID: "cost", Kind: approvals.NodeBranch, Next: "fin", Branches: []approvals.Branch{{Condition: "estimated_cost > 5000", Next: "vp"}}},
				role("vp", "分管副院长", RoleVicePresident, approvals.OrSign, "fin"),
				cc("fin", RoleFinance, "end"),
				end,
			}},
		},
		{
			Code: Purchase, Name: "采购", Category: "purchase",
			Description: "设备与耗材采购：设备科审核；金额超过 10,000 元由分管副院长审批；财务处会签。",
			Schema: approvals.Schema{Fields: []approvals.Field{
				{Key: "items", Label: "Items", Type: approvals.FieldDetail, Required: true, Min: f64(1), Columns: []approvals.Field{
					{Key: "name", Label: "Item", Type: approvals.FieldText, Required: true},
					{Key: "spec", Label: "Specification", Type: approvals.FieldText},
					{Key: "quantity", Label: "Quantity", Type: approvals.FieldNumber, Required: true, Min: f64(1)},
					{Key: "amount", Label: "Line amount", Type: approvals.FieldMoney, Required: true},
				}},
				{Key: "total", Label: "Total", Type: approvals.FieldComputed, Formula: `sum(items, "amount")`},
				{Key: "reason", Label: "Why it is needed", Type: approvals.FieldLongText, Required: true},
				{Key: "needed_by", Label: "Needed by", Type: approvals.FieldDate},
				{Key: "quotes", Label: "Quotations", Type: approvals.FieldAttachment},
			}},
			Flow: approvals.Flow{Nodes: []approvals.Node{
				start("mgr"),
				manager("mgr", "科室负责人", 1, "equip"),
				role("equip", "设备科", RoleEquipment, approvals.OrSign, "amount"),
				{ID: "amount", Kind: approvals.NodeBranch, Next: "fin", Branches: []approvals.Branch{{Condition: "total > 10000", Next: "vp"}}},
				role("vp", "分管副院长", RoleVicePresident, approvals.OrSign, "fin"),
				role("fin", "财务处", RoleFinance, approvals.Countersign, "end"),
				end,
			}},
		},
		{
			Code: Referral, Name: "转诊申请", Category: "clinical",
			Description: "将患者转诊至医联体内其他医院。危重患者走绿色通道，直达医务处，30 分钟内处理。",
			Schema: approvals.Schema{Fields: []approvals.Field{
				{Key: "patient_name", Label: "Patient", Type: approvals.FieldText, Required: true},
				{Key: "record_no", Label: "Medical record number", Type: approvals.FieldText, Required: true, Max: f64(40)},
				{Key: "urgency", Label: "Urgency", Type: approvals.FieldSelect, Required: true, Options: []string{"routine", "urgent", "critical"}},
				{Key: "target_hospital", Label: "To hospital", Type: approvals.FieldText, Required: true},
				{Key: "target_department", Label: "To department", Type: approvals.FieldText},
				{Key: "diagnosis", Label: "Diagnosis", Type: approvals.FieldLongText, Required: true},
				{Key: "reason", Label: "Reason for referral", Type: approvals.FieldLongText, Required: true},
				{Key: "files", Label: "Records", Type: approvals.FieldAttachment},
			}},
			Flow: approvals.Flow{Nodes: []approvals.Node{
				start("route"),
				{ID: "route", Kind: approvals.NodeBranch, Next: "mgr", Branches: []approvals.Branch{{Condition: `urgency == "critical"`, Next: "green"}}},
				{ID: "green", Name: "医务处（绿色通道）", Kind: approvals.NodeApprove, Approver: approvals.ApproverRole, Role: RoleMedicalAffairs,
					Mode: approvals.OrSign, Empty: approvals.EmptyAutoApprove, TimeLimitMins: 30, OnTimeout: approvals.TimeoutEscalate, Next: "end"},
				manager("mgr", "科室负责人", 1, "ma"),
				role("ma", "医务处", RoleMedicalAffairs, approvals.OrSign, "end"),
				end,
			}},
		},
		{
			Code: MakeUp, Name: "补卡", Category: "attendance",
			Description: "忘记打卡时申请补卡，由直属负责人确认，批准后计入考勤。",
			Schema: approvals.Schema{Fields: []approvals.Field{
				{Key: "day", Label: "Date", Type: approvals.FieldDate, Required: true},
				{Key: "at", Label: "Time", Type: approvals.FieldTime, Required: true},
				{Key: "kind", Label: "Clock", Type: approvals.FieldSelect, Required: true, Options: []string{"in", "out"}},
				{Key: "reason", Label: "Reason", Type: approvals.FieldLongText, Required: true},
			}},
			Flow: approvals.Flow{Nodes: []approvals.Node{start("mgr"), manager("mgr", "直属负责人", 1, "end"), end}},
		},
		{
			Code: Circulation, Name: "公文流转", Category: "office",
			Description: "公文：院办登记，由提交人指定的院领导会签，院长审批。",
			Schema: approvals.Schema{Fields: []approvals.Field{
				{Key: "title", Label: "Title", Type: approvals.FieldText, Required: true},
				{Key: "doc_no", Label: "Document number", Type: approvals.FieldText},
				{Key: "summary", Label: "Summary", Type: approvals.FieldLongText, Required: true},
				{Key: "files", Label: "Document", Type: approvals.FieldAttachment, Required: true},
				{Key: "secrecy", Label: "Secrecy", Type: approvals.FieldSelect, Options: []string{"public", "internal", "confidential"}},
			}},
			Flow: approvals.Flow{Nodes: []approvals.Node{
				start("office"),
				role("office", "院办登记", RoleOffice, approvals.OrSign, "leaders"),
				{ID: "leaders", Name: "院领导会签", Kind: approvals.NodeApprove, Approver: approvals.ApproverSubmitter,
					Mode: approvals.Countersign, Empty: approvals.EmptySkip, Next: "president"},
				role("president", "院长审批", RolePresident, approvals.OrSign, "end"),
				end,
			}},
		},
	}
}
