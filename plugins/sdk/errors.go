package sdk

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Code is a stable error class. The values match the Rounds server's error
// codes, so an app and the server speak of failures in the same words.
// Since v0.1.0.
type Code string

// Error codes. Since v0.1.0.
const (
	CodeInvalid         Code = "invalid"
	CodeUnauthenticated Code = "unauthenticated"
	CodeForbidden       Code = "forbidden" // the install lacks the scope, or the object is outside its grant
	CodeNotFound        Code = "not_found"
	CodeConflict        Code = "conflict"
	CodeTooLarge        Code = "too_large"    // a payload exceeds a limit
	CodeRateLimited     Code = "rate_limited" // the app calls the host API too often
	CodeUnavailable     Code = "unavailable"  // the server or a backend is down, or the deadline passed
	CodeInternal        Code = "internal"
)

// Error is the error type of the host API and of manifest validation.
// Since v0.1.0.
type Error struct {
	Code    Code
	Message string
	Field   string // the offending field, where there is one
}

func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Message
	if e.Field != "" {
		s += " (field " + e.Field + ")"
	}
	return s
}

// Errorf builds an *Error. Since v0.1.0.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: CodeInternal for errors that are not an
// *Error and "" for nil. Since v0.1.0.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// IsCode reports whether err carries code. Since v0.1.0.
func IsCode(err error, code Code) bool { return ErrorCode(err) == code }

const errorDomain = "rounds"

var grpcCodes = map[Code]codes.Code{
	CodeInvalid:         codes.InvalidArgument,
	CodeUnauthenticated: codes.Unauthenticated,
	CodeForbidden:       codes.PermissionDenied,
	CodeNotFound:        codes.NotFound,
	CodeConflict:        codes.FailedPrecondition,
	CodeTooLarge:        codes.ResourceExhausted,
	CodeRateLimited:     codes.ResourceExhausted,
	CodeUnavailable:     codes.Unavailable,
	CodeInternal:        codes.Internal,
}

// toStatus turns err into a gRPC status carrying the Rounds code as an
// ErrorInfo reason, so codes that share a gRPC code stay apart on the wire.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			e = Errorf(CodeUnavailable, "deadline exceeded")
		case errors.Is(err, context.Canceled):
			e = Errorf(CodeUnavailable, "cancelled")
		default:
			e = Errorf(CodeInternal, "internal error")
		}
	}
	gc, ok := grpcCodes[e.Code]
	if !ok {
		gc = codes.Unknown
	}
	st := status.New(gc, e.Message)
	md := map[string]string{}
	if e.Field != "" {
		md["field"] = e.Field
	}
	if withInfo, err := st.WithDetails(&errdetails.ErrorInfo{Reason: string(e.Code), Domain: errorDomain, Metadata: md}); err == nil {
		st = withInfo
	}
	return st.Err()
}

// fromStatus turns a gRPC error back into an *Error.
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return &Error{Code: CodeUnavailable, Message: err.Error()}
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.Domain == errorDomain {
			return &Error{Code: Code(info.Reason), Message: st.Message(), Field: info.Metadata["field"]}
		}
	}
	switch st.Code() {
	case codes.InvalidArgument:
		return &Error{Code: CodeInvalid, Message: st.Message()}
	case codes.PermissionDenied:
		return &Error{Code: CodeForbidden, Message: st.Message()}
	case codes.NotFound:
		return &Error{Code: CodeNotFound, Message: st.Message()}
	case codes.ResourceExhausted:
		return &Error{Code: CodeTooLarge, Message: st.Message()}
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return &Error{Code: CodeUnavailable, Message: st.Message()}
	case codes.Unimplemented:
		return &Error{Code: CodeNotFound, Message: "not implemented by the app: " + st.Message()}
	}
	return &Error{Code: CodeInternal, Message: st.Message()}
}
