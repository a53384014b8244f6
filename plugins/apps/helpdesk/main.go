// Command helpdesk is the IT helpdesk (IT 报修) app: staff open tickets with
// /it in chat or on its page, tickets are assigned to the IT centre's
// engineers (round robin by default), move through new → assigned →
// in_progress → resolved → closed with every change sent to the requester
// as a direct message from the app's bot (the engineer is told of each
// ticket given to them the same way), new tickets, response and resolution
// SLA timers per category remind the assignee in the IT group (and escalate
// to the IT head), and the requester rates the fix.
// It is built on the Rounds SDK alone.
package main

import "github.com/roundshq/rounds/plugins/sdk"

func main() { sdk.Serve(newApp()) }
