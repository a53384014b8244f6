package approvals

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/roundshq/rounds/core"
)

// NodeKind is what a flow node does.
type NodeKind string

const (
	NodeStart   NodeKind = "start"
	NodeApprove NodeKind = "approve" // approvers decide
	NodeCC      NodeKind = "cc"      // people are copied; nobody decides
	NodeBranch  NodeKind = "branch"  // the first matching condition picks the next node
	NodeEnd     NodeKind = "end"
)

// ApproverKind says how a node finds its people.
type ApproverKind string

const (
	ApproverUsers     ApproverKind = "users"      // named people (UserIDs)
	ApproverManager   ApproverKind = "manager"    // the submitter's head Levels levels up (1 = direct manager)
	ApproverDeptHead  ApproverKind = "dept_head"  // the head(s) of department DeptID
	ApproverRole      ApproverKind = "role"       // the holders of Role
	ApproverSubmitter ApproverKind = "chosen"     // chosen by the submitter when submitting
	ApproverFormField ApproverKind = "form_field" // the person (or department head) named in form field Field
)

// SignMode says how the approvers of one node decide.
type SignMode string

const (
	Sequential  SignMode = "sequential"  // one after another, in order
	Countersign SignMode = "countersign" // 会签: all must approve; one rejection rejects
	OrSign      SignMode = "or_sign"     // 或签: the first to act decides for all
)

// EmptyRule says what happens when a node finds nobody.
type EmptyRule string

const (
	EmptySkip        EmptyRule = "skip"         // pass over the node (timeline says skipped)
	EmptyToAdmin     EmptyRule = "to_admin"     // send to the flow's admins
	EmptyAutoApprove EmptyRule = "auto_approve" // record an automatic approval
)

// TimeoutAction says what Tick does when a task passes its time limit.
type TimeoutAction string

const (
	TimeoutRemind   TimeoutAction = "remind"   // remind the assignee once
	TimeoutEscalate TimeoutAction = "escalate" // remind, then hand the task to the assignee's manager
)

// Branch is one conditional way out of a branch node.
type Branch struct {
	// Condition is an expr-lang boolean expression over the form's fields,
	// e.g. `amount > 10000` or `days_off > 3 && submitter_department in ["…"]`.
	Condition string `json:"condition"`
	Next      string `json:"next"`
}

// Node is one step of a flow definition.
type Node struct {
	ID   string   `json:"id"`
	Kind NodeKind `json:"kind"`
	Name string   `json:"name,omitempty"`
	Next string   `json:"next,omitempty"`

	// Approve and CC nodes.
	Approver ApproverKind `json:"approver,omitempty"`
	UserIDs  []string     `json:"user_ids,omitempty"`
	Levels   int          `json:"levels,omitempty"`
	DeptID   string       `json:"dept_id,omitempty"`
	Role     string       `json:"role,omitempty"`
	Field    string       `json:"field,omitempty"`

	// Approve nodes.
	Mode          SignMode      `json:"mode,omitempty"`
	Empty         EmptyRule     `json:"empty,omitempty"`
	TimeLimitMins int           `json:"time_limit_mins,omitempty"`
	OnTimeout     TimeoutAction `json:"on_timeout,omitempty"`

	// Branch nodes: the first branch whose condition holds wins; Next is the
	// default when none does.
	Branches []Branch `json:"branches,omitempty"`
}

// Flow is the flow definition of one template version.
type Flow struct {
	Nodes []Node `json:"nodes"`
	// Admins receive tasks of nodes that find nobody under EmptyToAdmin.
	Admins []string `json:"admins,omitempty"`
}

const maxNodes = 100

// CompiledFlow is a validated flow with its conditions compiled.
type CompiledFlow struct {
	Flow
	byID  map[string]*Node
	conds map[string][]*vm.Program // node id → programs in branch order
	types map[string]FieldType
}

// Compile validates f against schema: every node reachable from start, every
// path ends at an end node, no cycles, conditions that compile to booleans
// over the form's fields.
func (f Flow) Compile(schema Schema) (*CompiledFlow, error) {
	if len(f.Nodes) == 0 {
		return nil, core.Invalid("flow.nodes", "a flow needs nodes")
	}
	if len(f.Nodes) > maxNodes {
		return nil, core.Invalid("flow.nodes", "a flow has at most %d nodes", maxNodes)
	}
	f.Nodes = append([]Node(nil), f.Nodes...)
	cf := &CompiledFlow{Flow: f, byID: map[string]*Node{}, conds: map[string][]*vm.Program{}, types: map[string]FieldType{}}
	for _, fl := range schema.Fields {
		cf.types[fl.Key] = fl.Type
	}
	env := schema.Env()
	fields := map[string]Field{}
	for _, fl := range schema.Fields {
		fields[fl.Key] = fl
	}
	var start string
	for i := range f.Nodes {
		n := &cf.Nodes[i]
		path := fmt.Sprintf("flow.nodes[%d]", i)
		if n.ID == "" || len(n.ID) > 40 || strings.ContainsAny(n.ID, " \t\r\n") {
			return nil, core.Invalid(path+".id", "a node needs an id of 1-40 characters without spaces")
		}
		if cf.byID[n.ID] != nil {
			return nil, core.Invalid(path+".id", "the node id %q is used twice", n.ID)
		}
		cf.byID[n.ID] = n
		switch n.Kind {
		case NodeStart:
			if start != "" {
				return nil, core.Invalid(path+".kind", "a flow has exactly one start node")
			}
			start = n.ID
		case NodeEnd:
			if n.Next != "" {
				return nil, core.Invalid(path+".next", "an end node has no next node")
			}
		case NodeApprove, NodeCC:
			if err := n.validateApprover(path, fields); err != nil {
				return nil, err
			}
			if n.Kind == NodeApprove {
				switch n.Mode {
				case "":
					n.Mode = Sequential
				case Sequential, Countersign, OrSign:
				default:
					return nil, core.Invalid(path+".mode", "mode must be sequential, countersign or or_sign")
				}
				switch n.Empty {
				case "":
					n.Empty = EmptySkip
				case EmptySkip, EmptyAutoApprove:
				case EmptyToAdmin:
					if len(f.Admins) == 0 {
						return nil, core.Invalid(path+".empty", "to_admin needs flow admins")
					}
				default:
					return nil, core.Invalid(path+".empty", "empty must be skip, to_admin or auto_approve")
				}
				if n.TimeLimitMins < 0 || n.TimeLimitMins > 60*24*90 {
					return nil, core.Invalid(path+".time_limit_mins", "the time limit is 0 to 90 days")
				}
				switch n.OnTimeout {
				case "", TimeoutRemind, TimeoutEscalate:
				default:
					return nil, core.Invalid(path+".on_timeout", "on_timeout must be remind or escalate")
				}
			}
		case NodeBranch:
			if len(n.Branches) == 0 {
				return nil, core.Invalid(path+".branches", "a branch node needs branches")
			}
			for j, b := range n.Branches {
				bp := fmt.Sprintf("%s.branches[%d]", path, j)
				if strings.TrimSpace(b.Condition) == "" || len(b.Condition) > maxConditionLen {
					return nil, core.Invalid(bp+".condition", "a condition is 1-%d characters", maxConditionLen)
				}
				prog, err := expr.Compile(b.Condition, expr.Env(env), expr.AsBool(), helpers(), sumHelper())
				if err != nil {
					return nil, core.Invalid(bp+".condition", "the condition does not compile: %s", firstLine(err))
				}
				cf.conds[n.ID] = append(cf.conds[n.ID], prog)
			}
		default:
			return nil, core.Invalid(path+".kind", "kind must be start, approve, cc, branch or end")
		}
	}
	for _, a := range f.Admins {
		if !core.ValidID(a) {
			return nil, core.Invalid("flow.admins", "%q is not a user id", a)
		}
	}
	if start == "" {
		return nil, core.Invalid("flow.nodes", "a flow needs a start node")
	}
	// Every reference must exist, every node be reachable, every path end.
	for i, n := range cf.Nodes {
		path := fmt.Sprintf("flow.nodes[%d]", i)
		for _, nx := range n.successors() {
			if cf.byID[nx] == nil {
				return nil, core.Invalid(path+".next", "node %q leads to %q, which does not exist", n.ID, nx)
			}
		}
		if n.Kind != NodeEnd && n.Next == "" {
			return nil, core.Invalid(path+".next", "node %q needs a next node (or a default for a branch)", n.ID)
		}
	}
	state := map[string]int{} // 0 unseen, 1 on stack, 2 done
	var visit func(id string) error
	visit = func(id string) error {
		switch state[id] {
		case 1:
			return core.Invalid("flow.nodes", "the flow loops back to node %q; flows must not have cycles", id)
		case 2:
			return nil
		}
		state[id] = 1
		for _, nx := range cf.byID[id].successors() {
			if err := visit(nx); err != nil {
				return err
			}
		}
		state[id] = 2
		return nil
	}
	if err := visit(start); err != nil {
		return nil, err
	}
	for i, n := range cf.Nodes {
		if state[n.ID] == 0 {
			return nil, core.Invalid(fmt.Sprintf("flow.nodes[%d]", i), "node %q cannot be reached from the start", n.ID)
		}
	}
	return cf, nil
}

func (n *Node) successors() []string {
	var out []string
	if n.Next != "" {
		out = append(out, n.Next)
	}
	for _, b := range n.Branches {
		out = append(out, b.Next)
	}
	return out
}

func (n *Node) validateApprover(path string, fields map[string]Field) error {
	switch n.Approver {
	case ApproverUsers:
		if len(n.UserIDs) == 0 {
			return core.Invalid(path+".user_ids", "name at least one person")
		}
		for _, u := range n.UserIDs {
			if !core.ValidID(u) {
				return core.Invalid(path+".user_ids", "%q is not a user id", u)
			}
		}
	case ApproverManager:
		if n.Levels < 1 || n.Levels > 10 {
			return core.Invalid(path+".levels", "levels is 1 (direct manager) to 10")
		}
	case ApproverDeptHead:
		if !core.ValidID(n.DeptID) {
			return core.Invalid(path+".dept_id", "name the department by id")
		}
	case ApproverRole:
		if strings.TrimSpace(n.Role) == "" {
			return core.Invalid(path+".role", "name the role")
		}
	case ApproverSubmitter:
	case ApproverFormField:
		f, ok := fields[n.Field]
		if !ok || (f.Type != FieldPerson && f.Type != FieldDepartment) {
			return core.Invalid(path+".field", "field must name a person or department field of the form")
		}
	default:
		return core.Invalid(path+".approver", "approver must be users, manager, dept_head, role, chosen or form_field")
	}
	return nil
}

// Node returns the node with id, or nil.
func (cf *CompiledFlow) Node(id string) *Node { return cf.byID[id] }

// Route walks the flow for the given condition environment and returns the
// approve and CC nodes on the path, in order.
func (cf *CompiledFlow) Route(env map[string]any) ([]string, error) {
	var cur string
	for _, n := range cf.Nodes {
		if n.Kind == NodeStart {
			cur = n.Next
		}
	}
	var out []string
	for steps := 0; steps <= len(cf.Nodes); steps++ {
		n := cf.byID[cur]
		switch n.Kind {
		case NodeEnd:
			return out, nil
		case NodeApprove, NodeCC:
			out = append(out, n.ID)
			cur = n.Next
		case NodeBranch:
			next := n.Next
			for i, prog := range cf.conds[n.ID] {
				res, err := vm.Run(prog, env)
				if err != nil {
					return nil, core.Invalid("form", "branch %q could not be evaluated: %s", n.ID, firstLine(err))
				}
				if ok, _ := res.(bool); ok {
					next = n.Branches[i].Next
					break
				}
			}
			cur = next
		default:
			cur = n.Next
		}
	}
	return nil, core.Errorf(core.EInternal, "the flow does not end")
}

// ChosenNodes returns the ids of nodes whose approvers the submitter picks.
func (cf *CompiledFlow) ChosenNodes() []string {
	var out []string
	for _, n := range cf.Nodes {
		if (n.Kind == NodeApprove || n.Kind == NodeCC) && n.Approver == ApproverSubmitter {
			out = append(out, n.ID)
		}
	}
	return out
}
