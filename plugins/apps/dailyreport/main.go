// Command daily-report is the 日报 app: staff write a daily report (by
// /daily in chat or on its page), colleagues of a department read the day's
// reports, and at a set hour the app's bot reminds each person who has not
// written yet in a direct message (and lists them in the department's group
// when one is set). It is built on the Rounds SDK alone.
package main

import "github.com/roundshq/rounds/plugins/sdk"

func main() { sdk.Serve(newApp()) }
