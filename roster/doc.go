// Package roster owns clinical rostering (排班): the shifts an organisation
// works, the rosters a ward publishes for a period, the rules a roster must
// meet, and who is on duty — on call, backup — at a given moment.
//
// It refuses to know how people clock in (package attendance checks that
// rostered duty happened), how swaps are approved (the approvals area runs the
// shift-swap flow and calls back here when one is approved) or how chat
// reaches the person on duty (im asks through its OnDutyResolver).
//
// Times: a roster is written in civil dates of the organisation's time zone
// (Asia/Shanghai by default). A shift that ends at or before its start
// crosses midnight and ends the next day; 大夜 00:00–08:00 on the 3rd starts at
// the first minute of the 3rd.
package roster
