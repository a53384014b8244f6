// Package approvalshttp is the HTTP API of approvals: templates and flows,
// submitting, reading a request with its timeline, the actions on it, the
// lists people see and the admin export. It decodes, calls the service and
// encodes; every permission is decided by the service.
package approvalshttp
