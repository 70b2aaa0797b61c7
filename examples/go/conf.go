package pglift

/*
#include <stdlib.h>
#include <pglift/pglift.h>
*/
import "C"

import (
	"encoding/json"
	"unsafe"
)

// The managed parameters as postgresql.conf text (PGLIFT_HAS_CONF_TEXT, `pglift pgconf edit`). The C
// ABI has no async twins for these two: they are blocking calls, run on the calling goroutine (no
// context.Context, no cancellation).

// ConfigurationResult is what ConfigureText did.
type ConfigurationResult struct {
	// Changes maps each parameter changed to [before, after], JSON values (null: absent).
	Changes        map[string][2]json.RawMessage `json:"changes"`
	Reloaded       bool                          `json:"reloaded"`
	NeedsRestart   []string                      `json:"needs_restart"` // restart-only parameters, reported, not applied
	PendingRestart bool                          `json:"pending_restart"`
}

// ParametersText returns the managed parameters as "name = value" lines, sorted, values as
// postgresql.conf writes them (a Patroni member: its YAML's postgresql.parameters only).
func (ctx *Context) ParametersText(instance string) (string, error) {
	name, free := cstring(instance)
	defer free()
	var text string
	err := ctx.withC(func(c *C.pglift_ctx) error {
		var out *C.char
		var e *C.pglift_error
		if err := check(C.pglift_instance_parameters_text(c, name, &out, &e), e); err != nil {
			return err
		}
		defer C.pglift_free(unsafe.Pointer(out))
		text = C.GoString(out)
		return nil
	})
	return text, err
}

// ConfigureText makes text (postgresql.conf syntax; blank lines and comments ignored) the managed
// parameters: new or changed values are set, names no longer there removed, then a running instance is
// reloaded. A line that is not one `name = value` entry is ErrInvalidSpec with Field "line N", and
// nothing changes. No change: empty Changes.
func (ctx *Context) ConfigureText(instance, text string) (*ConfigurationResult, error) {
	name, free := cstring(instance)
	defer free()
	body := []byte(text)
	doc := C.CBytes(body)
	defer C.free(doc)
	var result []byte
	err := ctx.withC(func(c *C.pglift_ctx) error {
		var out *C.char
		var e *C.pglift_error
		if err := check(C.pglift_instance_configure_text(c, name, (*C.char)(doc), C.size_t(len(body)), &out, &e), e); err != nil {
			return err
		}
		defer C.pglift_free(unsafe.Pointer(out))
		result = []byte(C.GoString(out))
		return nil
	})
	if err != nil {
		return nil, err
	}
	var r ConfigurationResult
	if err := json.Unmarshal(result, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
