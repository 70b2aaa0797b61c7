package pglift

/*
#include <stdlib.h>
#include <pglift/pglift.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"unsafe"
)

// The managed postgresql.conf parameters: Configure sets or removes some of them (`pglift pgconf set`
// and `remove`); ParametersText and ConfigureText read and write them all as postgresql.conf text
// (PGLIFT_HAS_CONF_TEXT, `pglift pgconf edit`). The C ABI has no async twins for these two: they are
// blocking calls, run on the calling goroutine (no context.Context, no cancellation).

// ConfigurationResult is what Configure or ConfigureText did (or, dry run, would do).
type ConfigurationResult struct {
	// Changes maps each parameter changed to [before, after], JSON values (null: absent).
	Changes        map[string][2]json.RawMessage `json:"changes"`
	Reloaded       bool                          `json:"reloaded"`      // false in a dry run
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

// ConfigureAsync starts Configure with the changes as a JSON object.
func (ctx *Context) ConfigureAsync(instance string, changes []byte, options WriteOptions) (*Op, error) {
	doc := C.CBytes(changes)
	defer C.free(doc)
	flags := options.flags()
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_configure_with_async(c, n, (*C.char)(doc), C.size_t(len(changes)), flags, t, o, e)
	})
}

// Configure sets managed postgresql.conf parameters (a string, number or bool value) and removes those
// whose value is nil, then reloads a running instance (a Patroni member: its YAML's
// postgresql.parameters, reloaded through Patroni). Parameters taking effect at restart only are
// reported in NeedsRestart, not restarted for. Values are checked first (ErrInvalidSpec, nothing
// changed). A dry run returns the changes it would make and what would need a
// restart, and changes nothing.
func (ctx *Context) Configure(cctx context.Context, instance string, changes map[string]any, options WriteOptions) (*ConfigurationResult, error) {
	if changes == nil {
		changes = map[string]any{} // an object, not null
	}
	doc, err := json.Marshal(changes)
	if err != nil {
		return nil, err
	}
	op, err := ctx.ConfigureAsync(instance, doc, options)
	if err != nil {
		return nil, err
	}
	var r ConfigurationResult
	if err := await(cctx, op, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ConfigureText makes text (postgresql.conf syntax; blank lines and comments ignored) the managed
// parameters: new or changed values are set, names no longer there removed, then a running instance is
// reloaded. A line that is not one `name = value` entry is ErrInvalidSpec with Field "line N", and
// nothing changes. No change: empty Changes.
func (ctx *Context) ConfigureText(instance, text string) (*ConfigurationResult, error) {
	return ctx.ConfigureTextWith(instance, text, WriteOptions{})
}

// ConfigureTextWith is ConfigureText with options: a dry run returns the changes it would make and
// changes nothing.
func (ctx *Context) ConfigureTextWith(instance, text string, options WriteOptions) (*ConfigurationResult, error) {
	name, free := cstring(instance)
	defer free()
	body := []byte(text)
	doc := C.CBytes(body)
	defer C.free(doc)
	flags := options.flags()
	var result []byte
	err := ctx.withC(func(c *C.pglift_ctx) error {
		var out *C.char
		var e *C.pglift_error
		if err := check(C.pglift_instance_configure_text_with(c, name, (*C.char)(doc), C.size_t(len(body)), flags, &out, &e), e); err != nil {
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
