package pglift

/*
#include <stdlib.h>
#include <pglift/pglift.h>
*/
import "C"

import (
	"bytes"
	"context"
	"encoding/json"
)

// The managed postgresql.conf parameters: Configure sets or removes some of them (`pglift pgconf set`
// and `remove`); Parameters gives them all; ParametersText and ConfigureText read and write them all as
// postgresql.conf text (PGLIFT_HAS_CONF_TEXT, `pglift pgconf edit`). Each runs as an operation
// (PGLIFT_HAS_ASYNC_ALL): cancelling cctx cancels it.

// ConfigurationResult is what Configure or ConfigureText did (or, dry run, would do).
type ConfigurationResult struct {
	// Changes maps each parameter changed to [before, after], JSON values (null: absent).
	Changes        map[string][2]json.RawMessage `json:"changes"`
	Reloaded       bool                          `json:"reloaded"`      // false in a dry run
	NeedsRestart   []string                      `json:"needs_restart"` // restart-only parameters, reported, not applied
	PendingRestart bool                          `json:"pending_restart"`
}

// ParametersTextAsync starts ParametersText; the op's result is the text as a JSON string.
func (ctx *Context) ParametersTextAsync(instance string) (*Op, error) {
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_parameters_text_async(c, n, t, o, e)
	})
}

// ParametersText returns the managed parameters as "name = value" lines, sorted, values as
// postgresql.conf writes them (a Patroni member: its YAML's postgresql.parameters only).
func (ctx *Context) ParametersText(cctx context.Context, instance string) (string, error) {
	op, err := ctx.ParametersTextAsync(instance)
	if err != nil {
		return "", err
	}
	var text string
	err = await(cctx, op, &text)
	return text, err
}

// ParametersAsync starts Parameters; the op's result is the JSON object.
func (ctx *Context) ParametersAsync(instance string) (*Op, error) {
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_parameters_async(c, n, t, o, e)
	})
}

// Parameters returns the managed parameters (postgresql.conf's, or the Patroni YAML's), values as JSON
// gives them (string, json.Number, bool).
func (ctx *Context) Parameters(cctx context.Context, instance string) (map[string]any, error) {
	op, err := ctx.ParametersAsync(instance)
	if err != nil {
		return nil, err
	}
	var doc json.RawMessage
	if err := await(cctx, op, &doc); err != nil {
		return nil, err
	}
	return decodeObject(doc)
}

// decodeObject decodes a JSON object keeping numbers exact (json.Number).
func decodeObject(doc []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	object := map[string]any{}
	if err := d.Decode(&object); err != nil {
		return nil, err
	}
	return object, nil
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
func (ctx *Context) ConfigureText(cctx context.Context, instance, text string) (*ConfigurationResult, error) {
	return ctx.ConfigureTextWith(cctx, instance, text, WriteOptions{})
}

// ConfigureTextWithAsync starts ConfigureTextWith; the text's syntax is checked by the call.
func (ctx *Context) ConfigureTextWithAsync(instance, text string, options WriteOptions) (*Op, error) {
	body := []byte(text)
	doc := C.CBytes(body)
	defer C.free(doc)
	flags := options.flags()
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		if flags == C.PGLIFT_OP_DEFAULT { // the plain form, as the C ABI has it
			return C.pglift_instance_configure_text_async(c, n, (*C.char)(doc), C.size_t(len(body)), t, o, e)
		}
		return C.pglift_instance_configure_text_with_async(c, n, (*C.char)(doc), C.size_t(len(body)), flags, t, o, e)
	})
}

// ConfigureTextWith is ConfigureText with options: a dry run returns the changes it would make and
// changes nothing.
func (ctx *Context) ConfigureTextWith(cctx context.Context, instance, text string, options WriteOptions) (*ConfigurationResult, error) {
	op, err := ctx.ConfigureTextWithAsync(instance, text, options)
	if err != nil {
		return nil, err
	}
	var r ConfigurationResult
	if err := await(cctx, op, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
