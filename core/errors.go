package core

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error class. Codes are part of the public
// API: clients switch on them, so an existing code never changes meaning.
// The HTTP status for each code is decided in exactly one place
// (core/httpapi); business code never speaks HTTP.
type Code string

const (
	// EInvalid: the request is malformed or a value is out of range. Details
	// name the offending field.
	EInvalid Code = "invalid"
	// EUnauthenticated: no valid session or token.
	EUnauthenticated Code = "unauthenticated"
	// EForbidden: the actor is known but may not do this.
	EForbidden Code = "forbidden"
	// ENotFound: the object does not exist or is not visible to the actor.
	ENotFound Code = "not_found"
	// EConflict: the request clashes with the current state (duplicate key,
	// a finished approval, a concurrent change).
	EConflict Code = "conflict"
	// ETooLarge: a body, file or payload exceeds a limit.
	ETooLarge Code = "too_large"
	// ERateLimited: too many attempts; Details may carry retry_after seconds.
	ERateLimited Code = "rate_limited"
	// EUnavailable: a backend (database, bus, file store) is down; retry later.
	EUnavailable Code = "unavailable"
	// ETimeout: another part Rounds waited on (an app's process) did not
	// answer within its deadline; retry later.
	ETimeout Code = "timeout"
	// EInternal: a bug. The message shown to clients is generic.
	EInternal Code = "internal"
)

// Error is the one error type of Rounds. Message is written for the person
// reading it (and is safe to show); Field names the offending input where
// there is one; Details carries structured extras (per-line CSV errors, rule
// violations …).
type Error struct {
	Code    Code
	Message string
	Field   string
	Details map[string]any
	Err     error // wrapped cause, never shown to clients
}

func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Message
	if e.Field != "" {
		s += " (field " + e.Field + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid reports a bad value in the named field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Wrap turns an unexpected cause into an internal error while keeping it for
// logs. An *Error passes through unchanged.
func Wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Code: EInternal, Message: fmt.Sprintf(format, args...), Err: err}
}

// With returns a copy of e with a detail added.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Details = make(map[string]any, len(e.Details)+1)
	for k, v := range e.Details {
		c.Details[k] = v
	}
	c.Details[key] = value
	return &c
}

// ErrorCode returns the code of err, EInternal for foreign errors and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the client-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EInternal {
		return e.Message
	}
	return "internal error"
}

// IsCode reports whether err carries code.
func IsCode(err error, code Code) bool { return ErrorCode(err) == code }
