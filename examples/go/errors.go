package pglift

/*
#include <pglift/pglift.h>
*/
import "C"

import "fmt"

// Status is a pglift_status: 0 or a negative code, stable across versions.
type Status int

const (
	StatusOK              Status = C.PGLIFT_OK
	StatusInternal        Status = C.PGLIFT_E_INTERNAL
	StatusInvalidSpec     Status = C.PGLIFT_E_INVALID_SPEC
	StatusNotFound        Status = C.PGLIFT_E_NOT_FOUND
	StatusAlreadyExists   Status = C.PGLIFT_E_ALREADY_EXISTS
	StatusCommandFailed   Status = C.PGLIFT_E_COMMAND_FAILED
	StatusUnsupported     Status = C.PGLIFT_E_UNSUPPORTED
	StatusState           Status = C.PGLIFT_E_STATE
	StatusTimeout         Status = C.PGLIFT_E_TIMEOUT
	StatusCancelled       Status = C.PGLIFT_E_CANCELLED
	StatusDCS             Status = C.PGLIFT_E_DCS
	StatusHTTP            Status = C.PGLIFT_E_HTTP
	StatusSettings        Status = C.PGLIFT_E_SETTINGS
	StatusBusy            Status = C.PGLIFT_E_BUSY
	StatusSystem          Status = C.PGLIFT_E_SYSTEM
	StatusWouldLoseData   Status = C.PGLIFT_E_WOULD_LOSE_DATA
	StatusReadOnly        Status = C.PGLIFT_E_READ_ONLY
	StatusInvalidArgument Status = C.PGLIFT_E_INVALID_ARGUMENT
	StatusNoMemory        Status = C.PGLIFT_E_NO_MEMORY
)

// String is the stable name of the status, e.g. "not_found".
func (s Status) String() string { return C.GoString(C.pglift_status_name(C.int(s))) }

// Error is a libpglift failure. Compare with errors.Is against the Err* sentinels.
type Error struct {
	Code       Status
	Message    string
	Field      string // StatusInvalidSpec: the field at fault ("name", "settings.port")
	Detail     string // StatusCommandFailed: the tail of the command's output
	ExitStatus int    // StatusCommandFailed: exit status (128+N: killed by signal N); -1 otherwise
	Retriable  bool   // trying again later may succeed (busy, timeout)
}

func (e *Error) Error() string { return fmt.Sprintf("pglift: %s (%s)", e.Message, e.Code) }

// Is matches a sentinel of the same code: errors.Is(err, pglift.ErrNotFound).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrNotFound      = &Error{Code: StatusNotFound}
	ErrAlreadyExists = &Error{Code: StatusAlreadyExists}
	ErrInvalidSpec   = &Error{Code: StatusInvalidSpec}
	ErrCommandFailed = &Error{Code: StatusCommandFailed}
	ErrState         = &Error{Code: StatusState}
	ErrCancelled     = &Error{Code: StatusCancelled}
	ErrDCS           = &Error{Code: StatusDCS}
	ErrBusy          = &Error{Code: StatusBusy}
	ErrTimeout       = &Error{Code: StatusTimeout}
	ErrSettings      = &Error{Code: StatusSettings}
	ErrWouldLoseData = &Error{Code: StatusWouldLoseData}
	ErrReadOnly      = &Error{Code: StatusReadOnly}
)

// errorFrom copies a pglift_error (borrowed: the caller frees it if it owns it).
func errorFrom(e *C.pglift_error, status C.int) *Error {
	if e == nil {
		return &Error{Code: Status(status), Message: Status(status).String(), ExitStatus: -1}
	}
	return &Error{
		Code:       Status(C.pglift_error_code(e)),
		Message:    C.GoString(C.pglift_error_message(e)),
		Field:      C.GoString(C.pglift_error_field(e)),
		Detail:     C.GoString(C.pglift_error_detail(e)),
		ExitStatus: int(C.pglift_error_exit_status(e)),
		Retriable:  C.pglift_error_is_retriable(e) != 0,
	}
}

// check turns a status and an owned error object into a Go error, freeing the object.
func check(status C.int, e *C.pglift_error) error {
	if status == 0 {
		return nil
	}
	defer C.pglift_error_free(e)
	return errorFrom(e, status)
}
