package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/roundshq/rounds/core"
)

// StatusOf is the one place where an error code becomes an HTTP status.
func StatusOf(code core.Code) int {
	switch code {
	case core.EInvalid:
		return http.StatusBadRequest
	case core.EUnauthenticated:
		return http.StatusUnauthorized
	case core.EForbidden:
		return http.StatusForbidden
	case core.ENotFound:
		return http.StatusNotFound
	case core.EConflict:
		return http.StatusConflict
	case core.ETooLarge:
		return http.StatusRequestEntityTooLarge
	case core.ERateLimited:
		return http.StatusTooManyRequests
	case core.EUnavailable:
		return http.StatusServiceUnavailable
	case core.ETimeout:
		return http.StatusGatewayTimeout
	default:
		return http.StatusInternalServerError
	}
}

// ErrorBody is the error envelope every failed API request returns.
type ErrorBody struct {
	Code      core.Code      `json:"code"`
	Message   string         `json:"message"`
	Details   map[string]any `json:"details,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
}

// Envelope builds the envelope for err.
func Envelope(r *http.Request, err error) ErrorBody {
	body := ErrorBody{Code: core.ErrorCode(err), Message: core.ErrorMessage(err), RequestID: core.RequestID(r.Context())}
	var e *core.Error
	if errors.As(err, &e) && e.Code != core.EInternal {
		if len(e.Details) > 0 || e.Field != "" {
			body.Details = map[string]any{}
			for k, v := range e.Details {
				body.Details[k] = v
			}
			if e.Field != "" {
				body.Details["field"] = e.Field
			}
		}
	}
	return body
}

// WriteError writes err as the error envelope with its mapped status.
// Internal errors are logged with their cause; clients see a generic message.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	code := core.ErrorCode(err)
	// The code, not the message: a message can quote what was sent.
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		span.SetAttributes(attribute.String("rounds.error_code", string(code)))
	}
	if code == core.EInternal || code == core.EUnavailable {
		slog.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err, "request_id", core.RequestID(r.Context()))
	}
	if code == core.ERateLimited {
		var e *core.Error
		if errors.As(err, &e) {
			if s, ok := e.Details["retry_after"]; ok {
				w.Header().Set("Retry-After", anyString(s))
			}
		}
	}
	WriteJSON(w, StatusOf(code), Envelope(r, err))
}
