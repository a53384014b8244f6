// Package httpapi is the one HTTP kit every area's handlers use: the route
// registry behind /api/v1 (which also produces the OpenAPI document), strict
// JSON decoding, the error envelope, and the single mapping from core error
// codes to HTTP statuses. Business code never chooses a status; it returns a
// *core.Error and WriteError decides.
package httpapi
