// Command shiftplanner is the shift-scheduling app (智能排班): a ward's head
// nurse types "/paiban 心内一病区 2026-12" (or uses its page) and the app
// plans the month from the ward's people, shifts and rules, read through the
// host's roster API. It meets every hard rule the roster service checks,
// spreads nights and weekend shifts as evenly as the rules allow, keeps
// people off their approved leave, saves the plan as a draft and tells the
// head nurse, in a direct message, what it did and what it could not do. It
// never publishes: that stays with the head nurse. It is built on the Rounds
// SDK alone.
package main

import "github.com/roundshq/rounds/plugins/sdk"

func main() { sdk.Serve(newApp()) }
