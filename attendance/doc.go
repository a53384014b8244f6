// Package attendance owns clock-in (考勤打卡) and what follows from it: where a
// clock-in is accepted (geofence around the campus, the hospital's Wi-Fi, its
// network), matching clock-ins against the roster (or a fixed office
// schedule), lateness, early leave, absence and missing clock-ins, leave and
// overtime from approvals, and daily and monthly statistics with an XLSX
// export.
//
// It refuses to know how rosters are made (it asks package roster, through
// the Schedule interface, what a person was rostered for) or how approvals
// run (make-up clock-ins, leave and overtime arrive as calls from the
// composition root when an approval finishes).
//
// Every time is kept in UTC and judged in the organisation's time zone
// (Asia/Shanghai by default): a night shift from 22:00 on the 31st to 08:00
// on the 1st belongs to the 31st and to that month.
package attendance
