package pglift

/*
#include <stdlib.h>
#include <pglift/pglift.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
)

// RoleSpec is what CreateRole takes (pglift's role manifest). Password and EncryptedPassword are
// secrets (exclusive): fmt prints them redacted, the library encrypts Password client-side (SCRAM).
type RoleSpec struct {
	Name              string   `json:"name"`
	Password          string   `json:"password,omitempty"`
	EncryptedPassword string   `json:"encrypted_password,omitempty"`
	Inherit           *bool    `json:"inherit,omitempty"` // nil: true
	Login             bool     `json:"login,omitempty"`
	Superuser         bool     `json:"superuser,omitempty"`
	CreateDB          bool     `json:"createdb,omitempty"`
	CreateRole        bool     `json:"createrole,omitempty"`
	Replication       bool     `json:"replication,omitempty"`
	ConnectionLimit   *int     `json:"connection_limit,omitempty"` // nil: no limit
	ValidUntil        string   `json:"valid_until,omitempty"`      // ISO 8601
	InRoles           []string `json:"in_roles,omitempty"`
	Pgpass            bool     `json:"pgpass,omitempty"` // keep Password in the site's passfile
}

func redacted(s string) string {
	if s == "" {
		return ""
	}
	return "**********"
}

// String hides the passwords.
func (s RoleSpec) String() string {
	c := s
	c.Password, c.EncryptedPassword = redacted(s.Password), redacted(s.EncryptedPassword)
	type plain RoleSpec // no String method: no recursion
	return fmt.Sprintf("%+v", plain(c))
}

// GoString hides the passwords from %#v too.
func (s RoleSpec) GoString() string { return s.String() }

// RoleChanges is what AlterRole takes: nil fields are left as they are; Grant and Revoke change
// memberships.
type RoleChanges struct {
	Password          *string  `json:"password,omitempty"`
	EncryptedPassword *string  `json:"encrypted_password,omitempty"`
	Inherit           *bool    `json:"inherit,omitempty"`
	Login             *bool    `json:"login,omitempty"`
	Superuser         *bool    `json:"superuser,omitempty"`
	CreateDB          *bool    `json:"createdb,omitempty"`
	CreateRole        *bool    `json:"createrole,omitempty"`
	Replication       *bool    `json:"replication,omitempty"`
	ConnectionLimit   *int     `json:"connection_limit,omitempty"` // -1: no limit
	ValidUntil        *string  `json:"valid_until,omitempty"`      // "infinity": no expiry
	Pgpass            *bool    `json:"pgpass,omitempty"`
	Grant             []string `json:"grant,omitempty"`
	Revoke            []string `json:"revoke,omitempty"`
}

// String hides the passwords.
func (c RoleChanges) String() string {
	d := c
	if c.Password != nil {
		r := redacted(*c.Password)
		d.Password = &r
	}
	if c.EncryptedPassword != nil {
		r := redacted(*c.EncryptedPassword)
		d.EncryptedPassword = &r
	}
	b, _ := json.Marshal(d)
	return string(b)
}

// GoString hides the passwords from %#v too.
func (c RoleChanges) GoString() string { return c.String() }

// Role is a role as GetRole and ListRoles report it: HasPassword, never a password.
type Role struct {
	Name            string   `json:"name"`
	HasPassword     bool     `json:"has_password"`
	Inherit         bool     `json:"inherit"`
	Login           bool     `json:"login"`
	Superuser       bool     `json:"superuser"`
	CreateDB        bool     `json:"createdb"`
	CreateRole      bool     `json:"createrole"`
	Replication     bool     `json:"replication"`
	ConnectionLimit *int     `json:"connection_limit"`
	ValidUntil      *string  `json:"valid_until"`
	InRoles         []string `json:"in_roles"`
	Pgpass          bool     `json:"pgpass"`
}

// RoleDropOptions: objects owned by the role are dropped (DropOwned) or given to ReassignOwned.
type RoleDropOptions struct {
	DropOwned     bool   `json:"drop_owned,omitempty"`
	ReassignOwned string `json:"reassign_owned,omitempty"`
}

type roleCall func(c *C.pglift_ctx, instance, name, doc *C.char, docLen C.size_t, tag C.uint64_t, out **C.pglift_op, e **C.pglift_error) C.int

// roleOp starts a role operation; name and doc may be empty (then NULL is passed).
func (ctx *Context) roleOp(instance, name string, doc []byte, call roleCall) (*Op, error) {
	cinstance, freeInstance := cstring(instance)
	defer freeInstance()
	var cname, cdoc *C.char
	if name != "" {
		var freeName func()
		cname, freeName = cstring(name)
		defer freeName()
	}
	if doc != nil {
		p := C.CBytes(doc)
		defer C.free(p)
		cdoc = (*C.char)(p)
	}
	return ctx.start(func(c *C.pglift_ctx, tag C.uint64_t, out **C.pglift_op, e **C.pglift_error) C.int {
		return call(c, cinstance, cname, cdoc, C.size_t(len(doc)), tag, out, e)
	})
}

// CreateRoleAsync starts creating a role from its JSON spec.
func (ctx *Context) CreateRoleAsync(instance string, spec []byte) (*Op, error) {
	return ctx.CreateRoleWithAsync(instance, spec, WriteOptions{})
}

// CreateRoleWithAsync is CreateRoleAsync with options.
func (ctx *Context) CreateRoleWithAsync(instance string, spec []byte, options WriteOptions) (*Op, error) {
	flags := options.flags()
	return ctx.roleOp(instance, "", spec, func(c *C.pglift_ctx, i, _, d *C.char, n C.size_t, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_role_create_with_async(c, i, d, n, flags, t, o, e)
	})
}

// CreateRole creates a role; cancelling cctx reverts the creation.
func (ctx *Context) CreateRole(cctx context.Context, instance string, spec RoleSpec) error {
	return ctx.CreateRoleWith(cctx, instance, spec, WriteOptions{})
}

// CreateRoleWith is CreateRole with options: a dry run checks the spec and runs its SQL in a
// transaction rolled back (ErrAlreadyExists and what PostgreSQL refuses still fail).
func (ctx *Context) CreateRoleWith(cctx context.Context, instance string, spec RoleSpec, options WriteOptions) error {
	doc, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	op, err := ctx.CreateRoleWithAsync(instance, doc, options)
	if err != nil {
		return err
	}
	return await(cctx, op, nil)
}

// AlterRoleAsync starts altering a role with JSON changes.
func (ctx *Context) AlterRoleAsync(instance, name string, changes []byte) (*Op, error) {
	return ctx.AlterRoleWithAsync(instance, name, changes, WriteOptions{})
}

// AlterRoleWithAsync is AlterRoleAsync with options.
func (ctx *Context) AlterRoleWithAsync(instance, name string, changes []byte, options WriteOptions) (*Op, error) {
	flags := options.flags()
	return ctx.roleOp(instance, name, changes, func(c *C.pglift_ctx, i, r, d *C.char, n C.size_t, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_role_alter_with_async(c, i, r, d, n, flags, t, o, e)
	})
}

// AlterRole changes a role's attributes and memberships (in one SQL transaction).
func (ctx *Context) AlterRole(cctx context.Context, instance, name string, changes RoleChanges) error {
	return ctx.AlterRoleWith(cctx, instance, name, changes, WriteOptions{})
}

// AlterRoleWith is AlterRole with options: a dry run runs the transaction and rolls it back.
func (ctx *Context) AlterRoleWith(cctx context.Context, instance, name string, changes RoleChanges, options WriteOptions) error {
	doc, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	op, err := ctx.AlterRoleWithAsync(instance, name, doc, options)
	if err != nil {
		return err
	}
	return await(cctx, op, nil)
}

// GetRole reads a role.
func (ctx *Context) GetRole(cctx context.Context, instance, name string) (*Role, error) {
	op, err := ctx.roleOp(instance, name, nil, func(c *C.pglift_ctx, i, r, _ *C.char, _ C.size_t, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_role_get_async(c, i, r, t, o, e)
	})
	if err != nil {
		return nil, err
	}
	var role Role
	if err := await(cctx, op, &role); err != nil {
		return nil, err
	}
	return &role, nil
}

// ListRoles lists the roles but the system's (pg_*), by name.
func (ctx *Context) ListRoles(cctx context.Context, instance string) ([]Role, error) {
	op, err := ctx.roleOp(instance, "", nil, func(c *C.pglift_ctx, i, _, _ *C.char, _ C.size_t, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_role_list_async(c, i, t, o, e)
	})
	if err != nil {
		return nil, err
	}
	roles := []Role{}
	if err := await(cctx, op, &roles); err != nil {
		return nil, err
	}
	return roles, nil
}

// DropRole drops a role; objects depending on it make it fail (ErrState) unless options say what to do.
func (ctx *Context) DropRole(cctx context.Context, instance, name string, options RoleDropOptions) error {
	return ctx.DropRoleWith(cctx, instance, name, options, WriteOptions{})
}

// DropRoleWith is DropRole with write options: a dry run runs the statements in a transaction rolled
// back.
func (ctx *Context) DropRoleWith(cctx context.Context, instance, name string, options RoleDropOptions, write WriteOptions) error {
	doc, err := json.Marshal(options)
	if err != nil {
		return err
	}
	flags := write.flags()
	op, err := ctx.roleOp(instance, name, doc, func(c *C.pglift_ctx, i, r, d *C.char, n C.size_t, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_role_drop_with_async(c, i, r, d, n, flags, t, o, e)
	})
	if err != nil {
		return err
	}
	return await(cctx, op, nil)
}
