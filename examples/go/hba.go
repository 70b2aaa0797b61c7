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

// HbaConnection is a host record's connection; a record without one is `local`.
type HbaConnection struct {
	Type    string `json:"type"`              // host, hostssl, hostnossl, hostgssenc, hostnogssenc
	Address string `json:"address"`           // 10.0.0.0/8, a host name, all, samehost, samenet
	Netmask string `json:"netmask,omitempty"` // with an IP address given without /prefix
}

// HbaRecord is one pg_hba rule. Empty Database or User mean "all".
type HbaRecord struct {
	Connection *HbaConnection `json:"connection"`
	Database   []string       `json:"database,omitempty"`
	User       []string       `json:"user,omitempty"`
	Method     string         `json:"method"`
	Options    []string       `json:"options,omitempty"` // "name=value"
}

// HbaOptions: DryRun computes the result and its diff, and changes nothing.
type HbaOptions struct {
	DryRun bool
}

// HbaResult is what an add or remove did (or, dry run, would do).
type HbaResult struct {
	Added    []string `json:"added"`
	Removed  []string `json:"removed"`
	Changed  bool     `json:"changed"`
	Reloaded bool     `json:"reloaded"`
	Diff     string   `json:"diff"` // unified diff of pg_hba.conf (a Patroni member: its postgresql.pg_hba lines)
}

type hbaCall func(c *C.pglift_ctx, name *C.char, doc *C.char, n C.size_t, flags C.uint32_t, tag C.uint64_t,
	out **C.pglift_op, e **C.pglift_error) C.int

func (ctx *Context) hba(cctx context.Context, instance string, records []HbaRecord, options HbaOptions, call hbaCall) (*HbaResult, error) {
	body, err := json.Marshal(records)
	if err != nil {
		return nil, err
	}
	doc := C.CBytes(body)
	defer C.free(doc)
	name, free := cstring(instance)
	defer free()
	flags := C.uint32_t(C.PGLIFT_HBA_DEFAULT)
	if options.DryRun {
		flags = C.PGLIFT_HBA_DRY_RUN
	}
	op, err := ctx.start(func(c *C.pglift_ctx, tag C.uint64_t, out **C.pglift_op, e **C.pglift_error) C.int {
		return call(c, name, (*C.char)(doc), C.size_t(len(body)), flags, tag, out, e)
	})
	if err != nil {
		return nil, err
	}
	var result HbaResult
	if err := await(cctx, op, &result); err != nil {
		return nil, err
	}
	return &result, nil
}

// AddHbaRecords adds the records not already there (validated first: ErrInvalidSpec naming the field),
// then reloads a running instance (a Patroni member through Patroni).
func (ctx *Context) AddHbaRecords(cctx context.Context, instance string, records []HbaRecord, options HbaOptions) (*HbaResult, error) {
	return ctx.hba(cctx, instance, records, options, func(c *C.pglift_ctx, n *C.char, d *C.char, l C.size_t, f C.uint32_t,
		t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_hba_add_async(c, n, d, l, f, t, o, e)
	})
}

// RemoveHbaRecords removes the records; ErrNotFound when one is nowhere (then nothing changes).
func (ctx *Context) RemoveHbaRecords(cctx context.Context, instance string, records []HbaRecord, options HbaOptions) (*HbaResult, error) {
	return ctx.hba(cctx, instance, records, options, func(c *C.pglift_ctx, n *C.char, d *C.char, l C.size_t, f C.uint32_t,
		t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_hba_remove_async(c, n, d, l, f, t, o, e)
	})
}
