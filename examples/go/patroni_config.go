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

// A Patroni member's configuration, its YAML as a JSON document (PGLIFT_HAS_PATRONI_CONFIG).

// RedactedSecret is the value of every secret in PatroniConfig's document; SetPatroniConfig keeps the
// current secret where it finds it (or finds none).
const RedactedSecret = "**********"

// PatroniConfigIssue is one issue of ValidatePatroniConfig.
type PatroniConfigIssue struct {
	Field   string `json:"field"` // "postgresql.listen", "postgresql.parameters.work_mem"; "" when none is named
	Message string `json:"message"`
}

// PatroniConfigValidation is the outcome of ValidatePatroniConfig.
type PatroniConfigValidation struct {
	Valid  bool                 `json:"valid"`
	Issues []PatroniConfigIssue `json:"issues"`
}

// PatroniConfigAsync starts PatroniConfig; the op's result is the document.
func (ctx *Context) PatroniConfigAsync(instance string) (*Op, error) {
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_patroni_config_get_async(c, n, t, o, e)
	})
}

// PatroniConfigJSON is the member's Patroni configuration as a JSON document: every key of its YAML
// (those the library does not manage too), every secret (a key naming a password) as RedactedSecret:
// the secrets are given by PatroniCredentials only. Not a Patroni member: ErrState.
func (ctx *Context) PatroniConfigJSON(cctx context.Context, instance string) ([]byte, error) {
	op, err := ctx.PatroniConfigAsync(instance)
	if err != nil {
		return nil, err
	}
	var doc json.RawMessage
	if err := await(cctx, op, &doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// PatroniConfig is PatroniConfigJSON decoded (numbers as json.Number: the document sets back as read).
func (ctx *Context) PatroniConfig(cctx context.Context, instance string) (map[string]any, error) {
	doc, err := ctx.PatroniConfigJSON(cctx, instance)
	if err != nil {
		return nil, err
	}
	return decodeObject(doc)
}

// SetPatroniConfigAsync starts SetPatroniConfigJSON; a malformed document fails at the call.
func (ctx *Context) SetPatroniConfigAsync(instance string, config []byte) (*Op, error) {
	doc := C.CBytes(config)
	defer C.free(doc)
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_patroni_config_set_async(c, n, (*C.char)(doc), C.size_t(len(config)), t, o, e)
	})
}

// SetPatroniConfigJSON replaces the member's configuration by the whole document config
// (PatroniConfigJSON's, edited): keys absent from it are removed, unknown keys kept as given; an absent
// or RedactedSecret secret keeps the current one, another value is refused. Checked before anything is
// written (ErrInvalidSpec, Field naming the field: "scope", "restapi.listen", "postgresql.pg_hba[2]",
// a parameter...). Written atomically, mode 0600; a running member applies it on Reload.
func (ctx *Context) SetPatroniConfigJSON(cctx context.Context, instance string, config []byte) error {
	op, err := ctx.SetPatroniConfigAsync(instance, config)
	return run(cctx, op, err)
}

// SetPatroniConfig is SetPatroniConfigJSON with the document as a map (PatroniConfig's, edited).
func (ctx *Context) SetPatroniConfig(cctx context.Context, instance string, config map[string]any) error {
	doc, err := json.Marshal(config)
	if err != nil {
		return err
	}
	return ctx.SetPatroniConfigJSON(cctx, instance, doc)
}

// ValidatePatroniConfigAsync starts ValidatePatroniConfigJSON; a malformed document fails at the call.
func (ctx *Context) ValidatePatroniConfigAsync(instance string, config []byte) (*Op, error) {
	doc := C.CBytes(config)
	defer C.free(doc)
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_patroni_config_validate_async(c, n, (*C.char)(doc), C.size_t(len(config)), t, o, e)
	})
}

// ValidatePatroniConfigJSON tells what SetPatroniConfigJSON would refuse of a well-formed document,
// then what Patroni's own validation (`patroni --validate-config`, at most 60 s) says of it as the
// member's configuration; nothing of the member changes, and no issue quotes a secret. Patroni needs
// the DCS up.
func (ctx *Context) ValidatePatroniConfigJSON(cctx context.Context, instance string, config []byte) (*PatroniConfigValidation, error) {
	op, err := ctx.ValidatePatroniConfigAsync(instance, config)
	if err != nil {
		return nil, err
	}
	var v PatroniConfigValidation
	if err := await(cctx, op, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// ValidatePatroniConfig is ValidatePatroniConfigJSON with the document as a map.
func (ctx *Context) ValidatePatroniConfig(cctx context.Context, instance string, config map[string]any) (*PatroniConfigValidation, error) {
	doc, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	return ctx.ValidatePatroniConfigJSON(cctx, instance, doc)
}
