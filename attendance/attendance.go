package attendance

import (
	"math"
	"net"
	"strings"
	"time"

	"github.com/roundshq/rounds/core"
)

// Geofence accepts clock-ins within RadiusM metres of a point.
type Geofence struct {
	Name    string  `json:"name"`
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
	RadiusM float64 `json:"radius_m"`
}

// WiFi accepts clock-ins from a hospital access point.
type WiFi struct {
	Name  string `json:"name"`
	BSSID string `json:"bssid"` // aa:bb:cc:dd:ee:ff
}

// Office is the fixed schedule of staff who are not rostered (office staff).
type Office struct {
	Weekdays []time.Weekday `json:"weekdays"` // 1 = Monday … 5 = Friday
	Start    int            `json:"start_minute"`
	End      int            `json:"end_minute"`
}

// Rules are an organisation's clock-in rules.
type Rules struct {
	Geofences []Geofence `json:"geofences"`
	WiFi      []WiFi     `json:"wifi"`
	Networks  []string   `json:"networks"` // CIDRs of the hospital intranet
	// LateGrace: minutes after the start that still count as on time.
	LateGrace int `json:"late_grace_minutes"`
	// EarlyGrace: minutes before the end that still count as a full shift.
	EarlyGrace int `json:"early_grace_minutes"`
	// Window: how long before a shift a clock-in counts for it, and after it
	// a clock-out.
	Window int    `json:"window_minutes"`
	Office Office `json:"office"`
}

// DefaultRules: 5 minutes' grace, 2-hour window, office Mon–Fri 08:00–17:00,
// no place configured (so clock-in is refused until an admin sets one).
func DefaultRules() Rules {
	return Rules{LateGrace: 5, EarlyGrace: 5, Window: 120,
		Office: Office{Weekdays: []time.Weekday{1, 2, 3, 4, 5}, Start: 8 * 60, End: 17 * 60}}
}

// Validate checks rules before they are stored.
func (r Rules) Validate() error {
	for i, g := range r.Geofences {
		if err := checkLatLon(g.Lat, g.Lon); err != nil {
			return core.Invalid("geofences", "geofence %d: %s", i+1, err.Message)
		}
		if g.RadiusM < 10 || g.RadiusM > 5000 {
			return core.Invalid("geofences", "geofence %d: radius must be 10 to 5000 metres", i+1)
		}
	}
	for i, w := range r.WiFi {
		if _, err := net.ParseMAC(w.BSSID); err != nil {
			return core.Invalid("wifi", "Wi-Fi %d: %q is not a BSSID like aa:bb:cc:dd:ee:ff", i+1, w.BSSID)
		}
	}
	for _, n := range r.Networks {
		if _, _, err := net.ParseCIDR(n); err != nil {
			return core.Invalid("networks", "%q is not a network like 10.8.0.0/16", n)
		}
	}
	if r.LateGrace < 0 || r.LateGrace > 120 || r.EarlyGrace < 0 || r.EarlyGrace > 120 {
		return core.Invalid("late_grace_minutes", "grace must be 0 to 120 minutes")
	}
	if r.Window < 15 || r.Window > 360 {
		return core.Invalid("window_minutes", "the window must be 15 to 360 minutes")
	}
	if r.Office.Start < 0 || r.Office.End > 24*60 || r.Office.End <= r.Office.Start {
		return core.Invalid("office", "office hours must start before they end on the same day")
	}
	return nil
}

func checkLatLon(lat, lon float64) *core.Error {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return core.Invalid("location", "latitude must be -90..90 and longitude -180..180")
	}
	if lat == 0 && lon == 0 {
		return core.Invalid("location", "0,0 is not a place a hospital stands; the device gave no real location")
	}
	return nil
}

// distanceM is the great-circle distance in metres.
func distanceM(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371000.0
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}

// Where a clock-in was accepted.
const (
	MethodGeofence = "geofence"
	MethodWiFi     = "wifi"
	MethodNetwork  = "network"
	MethodMakeUp   = "make_up"
)

// Attempt is what a device says when someone clocks in or out.
type Attempt struct {
	Kind     string     `json:"kind"` // in or out
	Lat      *float64   `json:"lat,omitempty"`
	Lon      *float64   `json:"lon,omitempty"`
	Accuracy *float64   `json:"accuracy_m,omitempty"`
	BSSID    string     `json:"bssid,omitempty"`
	At       *time.Time `json:"client_time,omitempty"` // the device's clock, checked, never trusted
}

// Accept decides whether an attempt from ip is at the hospital, and how.
// The reason names what was wrong.
func (r Rules) Accept(a Attempt, ip string, now time.Time) (method, place string, err error) {
	if a.Kind != "in" && a.Kind != "out" {
		return "", "", core.Invalid("kind", "kind must be in or out")
	}
	if a.At != nil && a.At.After(now.Add(2*time.Minute)) {
		return "", "", core.Invalid("client_time", "the device clock is ahead of the server by %s; a clock-in cannot come from the future", a.At.Sub(now).Round(time.Second))
	}
	if a.At != nil && a.At.Before(now.Add(-10*time.Minute)) {
		return "", "", core.Invalid("client_time", "this clock-in is older than 10 minutes; use a make-up request instead")
	}
	if (a.Lat == nil) != (a.Lon == nil) {
		return "", "", core.Invalid("location", "send both latitude and longitude")
	}
	if a.Lat != nil {
		if e := checkLatLon(*a.Lat, *a.Lon); e != nil {
			return "", "", e
		}
		if a.Accuracy != nil && (*a.Accuracy < 0 || *a.Accuracy > 2000) {
			return "", "", core.Invalid("accuracy_m", "location accuracy must be 0 to 2000 metres")
		}
		for _, g := range r.Geofences {
			acc := 0.0
			if a.Accuracy != nil {
				acc = math.Min(*a.Accuracy, g.RadiusM/2) // a vague fix may not stretch the fence far
			}
			if distanceM(*a.Lat, *a.Lon, g.Lat, g.Lon)-acc <= g.RadiusM {
				return MethodGeofence, g.Name, nil
			}
		}
	}
	if a.BSSID != "" {
		hw, err := net.ParseMAC(a.BSSID)
		if err != nil {
			return "", "", core.Invalid("bssid", "%q is not a BSSID", a.BSSID)
		}
		for _, w := range r.WiFi {
			if wh, _ := net.ParseMAC(w.BSSID); strings.EqualFold(wh.String(), hw.String()) {
				return MethodWiFi, w.Name, nil
			}
		}
	}
	if addr := net.ParseIP(ip); addr != nil {
		for _, n := range r.Networks {
			if _, cidr, err := net.ParseCIDR(n); err == nil && cidr.Contains(addr) {
				return MethodNetwork, n, nil
			}
		}
	}
	return "", "", core.Errorf(core.EForbidden, "not at the hospital: outside every geofence, not on a hospital Wi-Fi or network").With("field", "location")
}

// Punch is one accepted clock-in or clock-out.
type Punch struct {
	ID       string    `json:"id"`
	OrgID    string    `json:"org_id"`
	UserID   string    `json:"user_id"`
	Kind     string    `json:"kind"`
	At       time.Time `json:"at"`
	Method   string    `json:"method"`
	Place    string    `json:"place"`
	SourceID string    `json:"source_id,omitempty"` // the approval behind a make-up
}
