package pglift

/*
#include <stdlib.h>
#include <pglift/pglift.h>
*/
import "C"

import (
	"context"
	"encoding/json"
)

// Declarative changes (PGLIFT_HAS_APPLY): AlterInstance changes an existing instance, ApplyInstance
// brings one to a manifest (creating, changing or dropping it). Everything is checked before the first
// change; with dryRun the differences are computed and returned, and nothing changes.

// InstanceChanges is what AlterInstance takes; nil or empty fields are left as they are.
type InstanceChanges struct {
	Port  *int   `json:"port,omitempty"`
	State string `json:"state,omitempty"` // "started", "stopped" or "restarted"
	// Settings sets managed postgresql.conf parameters; a nil value removes that parameter.
	Settings      map[string]any `json:"settings,omitempty"`
	DataChecksums *bool          `json:"data_checksums,omitempty"` // the instance must be stopped
	// RestartOnChanges restarts at once when a change takes effect at restart only (the port,
	// postmaster parameters); without it they are reported in ApplyResult.NeedsRestart.
	RestartOnChanges bool `json:"restart_on_changes,omitempty"`
}

// FieldChange is one difference: Before and After are JSON values (null: absent).
type FieldChange struct {
	Field  string          `json:"field"` // "port", "state", "settings.work_mem", ...
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
}

// ObjectChange is what ApplyInstance did (or, dry run, would do) to one role or database of the
// manifest.
type ObjectChange struct {
	Name string `json:"name"`
	// ChangeState is "created", "changed" or "dropped"; nil when it was as the manifest says.
	ChangeState *string `json:"change_state"`
}

// ApplyResult is what AlterInstance and ApplyInstance did (or, dry run, would do).
type ApplyResult struct {
	// ChangeState is "created", "changed" or "dropped"; nil when nothing changed (the roles and
	// databases included).
	ChangeState    *string       `json:"change_state"`
	Diff           []FieldChange `json:"diff"`
	NeedsRestart   []string      `json:"needs_restart"` // changed, effective at restart only, not restarted for
	Restarted      bool          `json:"restarted"`
	PendingRestart bool          `json:"pending_restart"`
	DryRun         bool          `json:"dry_run"`
	// Roles and Databases: ApplyInstance on an existing instance, the manifest's "roles" and
	// "databases", in its order (those with "state": "absent" last); empty when it created the
	// instance (they were made with it), on a standby, in a dry run on a stopped instance, and for
	// AlterInstance.
	Roles     []ObjectChange `json:"roles"`
	Databases []ObjectChange `json:"databases"`
}

// Changed tells whether the instance changed (or, dry run, would change).
func (r *ApplyResult) Changed() bool { return r.ChangeState != nil }

func applyFlags(dryRun bool) C.uint32_t {
	if dryRun {
		return C.PGLIFT_APPLY_DRY_RUN
	}
	return 0
}

// AlterInstanceAsync starts altering an instance with JSON changes.
func (ctx *Context) AlterInstanceAsync(instance string, changes []byte, dryRun bool) (*Op, error) {
	doc := C.CBytes(changes)
	defer C.free(doc)
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_alter_async(c, n, (*C.char)(doc), C.size_t(len(changes)), applyFlags(dryRun), t, o, e)
	})
}

// AlterInstance changes an existing instance (ErrNotFound otherwise): data checksums, then port and
// settings (reloaded when running), then state, then the restart asked for or needed. A bad field is
// ErrInvalidSpec naming it, before anything changes.
func (ctx *Context) AlterInstance(cctx context.Context, instance string, changes InstanceChanges, dryRun bool) (*ApplyResult, error) {
	doc, err := json.Marshal(changes)
	if err != nil {
		return nil, err
	}
	return ctx.AlterInstanceJSON(cctx, instance, doc, dryRun)
}

// AlterInstanceJSON is AlterInstance with the changes as JSON.
func (ctx *Context) AlterInstanceJSON(cctx context.Context, instance string, changes []byte, dryRun bool) (*ApplyResult, error) {
	op, err := ctx.AlterInstanceAsync(instance, changes, dryRun)
	return awaitApply(cctx, op, err)
}

// ApplyInstanceAsync starts applying a JSON manifest.
func (ctx *Context) ApplyInstanceAsync(manifest []byte, dryRun bool) (*Op, error) {
	doc := C.CBytes(manifest)
	defer C.free(doc)
	return ctx.start(func(c *C.pglift_ctx, tag C.uint64_t, out **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_apply_async(c, (*C.char)(doc), C.size_t(len(manifest)), applyFlags(dryRun), tag, out, e)
	})
}

// ApplyInstance brings an instance to its manifest, whose State may also be "absent" (drop it) or
// "restarted": creates it (ChangeState "created"), changes what differs (port, settings given,
// data_checksums, state: "changed"), drops it ("dropped"), or does nothing (nil). Locale, encoding and
// version cannot change (ErrInvalidSpec naming the field). On an existing instance, the manifest's
// "roles" and "databases" (ApplyInstanceJSON) are created, altered, or dropped when an item has
// "state": "absent", each reported in Roles or Databases.
func (ctx *Context) ApplyInstance(cctx context.Context, manifest InstanceSpec, dryRun bool) (*ApplyResult, error) {
	doc, err := json.Marshal(manifest)
	if err != nil {
		return nil, err
	}
	return ctx.ApplyInstanceJSON(cctx, doc, dryRun)
}

// ApplyInstanceJSON is ApplyInstance with the manifest as JSON (for fields InstanceSpec does not model,
// such as "restart_on_changes").
func (ctx *Context) ApplyInstanceJSON(cctx context.Context, manifest []byte, dryRun bool) (*ApplyResult, error) {
	op, err := ctx.ApplyInstanceAsync(manifest, dryRun)
	return awaitApply(cctx, op, err)
}

func awaitApply(cctx context.Context, op *Op, err error) (*ApplyResult, error) {
	if err != nil {
		return nil, err
	}
	var result ApplyResult
	if err := await(cctx, op, &result); err != nil {
		return nil, err
	}
	return &result, nil
}
