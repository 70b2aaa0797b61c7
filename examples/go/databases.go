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

// Databases of an instance (PGLIFT_HAS_DATABASES). Specs and results are pglift's `database ... -o json`
// documents; cancelling cctx cancels the operation (a create then drops what it created).

// DatabaseSchema is a schema in a DatabaseSpec (State "present", the default, or "absent").
type DatabaseSchema struct {
	Name  string `json:"name"`
	Owner string `json:"owner,omitempty"`
	State string `json:"state,omitempty"`
}

// DatabaseExtension is an extension in a DatabaseSpec.
type DatabaseExtension struct {
	Name    string `json:"name"`
	Schema  string `json:"schema,omitempty"`
	Version string `json:"version,omitempty"`
	State   string `json:"state,omitempty"`
}

// DatabaseSpec is what create and alter take. Settings: a nil value resets that parameter; on alter,
// an empty non-nil map resets them all, a nil map leaves them alone.
type DatabaseSpec struct {
	Name       string              `json:"name"`
	Owner      string              `json:"owner,omitempty"`
	Settings   map[string]*string  `json:"settings"` // nil: null, left alone; empty: {}, RESET ALL
	Schemas    []DatabaseSchema    `json:"schemas,omitempty"`
	Extensions []DatabaseExtension `json:"extensions,omitempty"`
	Tablespace string              `json:"tablespace,omitempty"`
	Locale     string              `json:"locale,omitempty"`
}

// Database is what get, create and alter return.
type Database struct {
	Name     string            `json:"name"`
	Owner    string            `json:"owner"`
	Settings map[string]string `json:"settings"`
	Schemas  []struct {
		Name  string `json:"name"`
		Owner string `json:"owner"`
	} `json:"schemas"`
	Extensions []struct {
		Name    string `json:"name"`
		Schema  string `json:"schema"`
		Version string `json:"version"`
	} `json:"extensions"`
	Tablespace *string `json:"tablespace"`
}

// DatabaseListItem is a row of ListDatabases.
type DatabaseListItem struct {
	Name        string   `json:"name"`
	Owner       string   `json:"owner"`
	Encoding    string   `json:"encoding"`
	Collation   string   `json:"collation"`
	Ctype       string   `json:"ctype"`
	Acls        []string `json:"acls"`
	Size        int64    `json:"size"`
	Description *string  `json:"description"`
	Tablespace  struct {
		Name     string `json:"name"`
		Location string `json:"location"`
		Size     int64  `json:"size"`
	} `json:"tablespace"`
}

// Privilege is a relation's privileges for a role (or, with defaults, a default privilege: no
// ObjectName nor ColumnPrivileges).
type Privilege struct {
	Database         string              `json:"database"`
	Schema           string              `json:"schema"`
	ObjectName       string              `json:"object_name,omitempty"`
	ObjectType       string              `json:"object_type"`
	Role             string              `json:"role"`
	Privileges       []string            `json:"privileges"`
	ColumnPrivileges map[string][]string `json:"column_privileges,omitempty"`
}

// DatabaseSelection narrows list and run: Databases (all when empty) minus Exclude.
type DatabaseSelection struct {
	Databases []string `json:"databases,omitempty"`
	Exclude   []string `json:"exclude,omitempty"`
}

// SQLRows are the rows of RunSQL per database: column -> text value, nil for NULL.
type SQLRows map[string][]map[string]*string

type cArgs struct{ ptrs []*C.char }

func (a *cArgs) str(s string) *C.char {
	p := C.CString(s)
	a.ptrs = append(a.ptrs, p)
	return p
}

func (a *cArgs) json(v any) (*C.char, error) {
	doc, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return a.str(string(doc)), nil
}

func (a *cArgs) free() {
	for _, p := range a.ptrs {
		C.free(unsafe.Pointer(p))
	}
}

func (ctx *Context) dbOp(cctx context.Context, call asyncCall, out any) error {
	op, err := ctx.start(call)
	if err != nil {
		return err
	}
	return await(cctx, op, out)
}

// CreateDatabase creates a database with its settings, schemas and extensions.
func (ctx *Context) CreateDatabase(cctx context.Context, instance string, spec DatabaseSpec) (*Database, error) {
	return ctx.CreateDatabaseWith(cctx, instance, spec, WriteOptions{})
}

// CreateDatabaseWith is CreateDatabase with options: a dry run checks the spec (the owner, tablespace,
// an existing name...) and returns the database it would make.
func (ctx *Context) CreateDatabaseWith(cctx context.Context, instance string, spec DatabaseSpec, options WriteOptions) (*Database, error) {
	var a cArgs
	defer a.free()
	doc, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	inst, d, flags := a.str(instance), a.str(string(doc)), options.flags()
	var db Database
	err = ctx.dbOp(cctx, func(c *C.pglift_ctx, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_database_create_with_async(c, inst, d, C.size_t(len(doc)), flags, t, o, e)
	}, &db)
	if err != nil {
		return nil, err
	}
	return &db, nil
}

// AlterDatabase is pglift's declarative alter (an empty Owner means CURRENT_USER).
func (ctx *Context) AlterDatabase(cctx context.Context, instance string, spec DatabaseSpec) (*Database, error) {
	return ctx.AlterDatabaseWith(cctx, instance, spec, WriteOptions{})
}

// AlterDatabaseWith is AlterDatabase with options: a dry run checks the spec, changes nothing and
// returns the database as it is.
func (ctx *Context) AlterDatabaseWith(cctx context.Context, instance string, spec DatabaseSpec, options WriteOptions) (*Database, error) {
	var a cArgs
	defer a.free()
	doc, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	inst, d, flags := a.str(instance), a.str(string(doc)), options.flags()
	var db Database
	err = ctx.dbOp(cctx, func(c *C.pglift_ctx, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_database_alter_with_async(c, inst, d, C.size_t(len(doc)), flags, t, o, e)
	}, &db)
	if err != nil {
		return nil, err
	}
	return &db, nil
}

// GetDatabase describes a database (ErrNotFound when it does not exist).
func (ctx *Context) GetDatabase(cctx context.Context, instance, name string) (*Database, error) {
	var a cArgs
	defer a.free()
	inst, n := a.str(instance), a.str(name)
	var db Database
	err := ctx.dbOp(cctx, func(c *C.pglift_ctx, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_database_get_async(c, inst, n, t, o, e)
	}, &db)
	if err != nil {
		return nil, err
	}
	return &db, nil
}

// ListDatabases lists the databases allowing connections.
func (ctx *Context) ListDatabases(cctx context.Context, instance string, sel DatabaseSelection) ([]DatabaseListItem, error) {
	var a cArgs
	defer a.free()
	inst := a.str(instance)
	s, err := a.json(sel)
	if err != nil {
		return nil, err
	}
	var items []DatabaseListItem
	err = ctx.dbOp(cctx, func(c *C.pglift_ctx, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_database_list_async(c, inst, s, t, o, e)
	}, &items)
	return items, err
}

// DropDatabase drops a database; force terminates the sessions connected to it.
func (ctx *Context) DropDatabase(cctx context.Context, instance, name string, force bool) error {
	return ctx.DropDatabaseWith(cctx, instance, name, force, WriteOptions{})
}

// DropDatabaseWith is DropDatabase with options: a dry run checks that the database exists and
// changes nothing (no session is terminated).
func (ctx *Context) DropDatabaseWith(cctx context.Context, instance, name string, force bool, options WriteOptions) error {
	var a cArgs
	defer a.free()
	inst, n, flags := a.str(instance), a.str(name), options.flags()
	f := C.int(0)
	if force {
		f = 1
	}
	return ctx.dbOp(cctx, func(c *C.pglift_ctx, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_database_drop_with_async(c, inst, n, f, flags, t, o, e)
	}, nil)
}

// RunSQL runs sql on each selected database and returns the rows per database.
func (ctx *Context) RunSQL(cctx context.Context, instance, sql string, sel DatabaseSelection) (SQLRows, error) {
	var a cArgs
	defer a.free()
	inst, q := a.str(instance), a.str(sql)
	s, err := a.json(sel)
	if err != nil {
		return nil, err
	}
	rows := SQLRows{}
	err = ctx.dbOp(cctx, func(c *C.pglift_ctx, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_database_run_async(c, inst, q, s, t, o, e)
	}, &rows)
	return rows, err
}

// DatabasePrivileges lists privileges in databases (all when none is given) for roles (all when none),
// or the default privileges.
func (ctx *Context) DatabasePrivileges(cctx context.Context, instance string, databases, roles []string, defaults bool) ([]Privilege, error) {
	var a cArgs
	defer a.free()
	inst := a.str(instance)
	q, err := a.json(map[string]any{"databases": nonNil(databases), "roles": nonNil(roles), "defaults": defaults})
	if err != nil {
		return nil, err
	}
	var privs []Privilege
	err = ctx.dbOp(cctx, func(c *C.pglift_ctx, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_database_privileges_async(c, inst, q, t, o, e)
	}, &privs)
	return privs, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
