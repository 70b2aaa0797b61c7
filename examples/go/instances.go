package pglift

/*
#include <stdlib.h>
#include <pglift/pglift.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"strconv"
	"unsafe"
)

// An instance argument is "VERSION/NAME" ("15/main"), or "NAME" when one version only has it.

// CreateAsync starts creating an instance from its JSON manifest.
func (ctx *Context) CreateAsync(spec []byte) (*Op, error) {
	doc := C.CBytes(spec)
	defer C.free(doc)
	return ctx.start(func(c *C.pglift_ctx, tag C.uint64_t, out **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_create_async(c, (*C.char)(doc), C.size_t(len(spec)), 0, tag, out, e)
	})
}

// Create creates (and by default starts) an instance; cancelling cctx reverts the creation.
func (ctx *Context) Create(cctx context.Context, spec InstanceSpec) (*Instance, error) {
	doc, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	return ctx.CreateJSON(cctx, doc)
}

// CreateJSON is Create with the manifest as JSON (for fields InstanceSpec does not model).
func (ctx *Context) CreateJSON(cctx context.Context, spec []byte) (*Instance, error) {
	op, err := ctx.CreateAsync(spec)
	if err != nil {
		return nil, err
	}
	var instance Instance
	if err := await(cctx, op, &instance); err != nil {
		return nil, err
	}
	return &instance, nil
}

func (ctx *Context) instanceOp(instance string, call func(c *C.pglift_ctx, name *C.char, tag C.uint64_t, out **C.pglift_op, e **C.pglift_error) C.int) (*Op, error) {
	name, free := cstring(instance)
	defer free()
	return ctx.start(func(c *C.pglift_ctx, tag C.uint64_t, out **C.pglift_op, e **C.pglift_error) C.int {
		return call(c, name, tag, out, e)
	})
}

// GetAsync starts reading an instance.
func (ctx *Context) GetAsync(instance string) (*Op, error) {
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_get_async(c, n, t, o, e)
	})
}

// Get reads an instance.
func (ctx *Context) Get(cctx context.Context, instance string) (*Instance, error) {
	op, err := ctx.GetAsync(instance)
	if err != nil {
		return nil, err
	}
	var i Instance
	if err := await(cctx, op, &i); err != nil {
		return nil, err
	}
	return &i, nil
}

// List lists the instances, of one PostgreSQL version or ("") of all.
func (ctx *Context) List(cctx context.Context, version string) ([]InstanceListItem, error) {
	var v *C.char
	if version != "" {
		v = C.CString(version)
		defer C.free(unsafe.Pointer(v))
	}
	op, err := ctx.start(func(c *C.pglift_ctx, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_list_async(c, v, t, o, e)
	})
	if err != nil {
		return nil, err
	}
	items := []InstanceListItem{}
	if err := await(cctx, op, &items); err != nil {
		return nil, err
	}
	return items, nil
}

// Status tells whether the instance's server runs, and its PID.
func (ctx *Context) Status(cctx context.Context, instance string) (*InstanceStatus, error) {
	op, err := ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_status_async(c, n, t, o, e)
	})
	if err != nil {
		return nil, err
	}
	var s InstanceStatus
	if err := await(cctx, op, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Env is the environment for the instance's client programs (PGDATA, PGHOST, PGPORT, ...).
func (ctx *Context) Env(cctx context.Context, instance string) (map[string]string, error) {
	op, err := ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_env_async(c, n, t, o, e)
	})
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	if err := await(cctx, op, &env); err != nil {
		return nil, err
	}
	return env, nil
}

// StartAsync starts starting the instance (see also StopAsync, RestartAsync, ReloadAsync, DropAsync).
func (ctx *Context) StartAsync(instance string) (*Op, error) {
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_start_async(c, n, t, o, e)
	})
}

func (ctx *Context) StopAsync(instance string, mode int) (*Op, error) {
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_stop_async(c, n, C.int(mode), t, o, e)
	})
}

func (ctx *Context) RestartAsync(instance string, mode int) (*Op, error) {
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_restart_async(c, n, C.int(mode), t, o, e)
	})
}

func (ctx *Context) ReloadAsync(instance string) (*Op, error) {
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_reload_async(c, n, t, o, e)
	})
}

func (ctx *Context) DropAsync(instance string) (*Op, error) {
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_drop_async(c, n, t, o, e)
	})
}

// StartOptions are the options of StartWith.
type StartOptions struct {
	// AcceptDataLoss: a former Patroni leader whose rejoin would discard committed transactions
	// rejoins anyway (a WARNING log event names what is lost). Without it the site's setting decides,
	// by default ErrWouldLoseData with the member left stopped.
	AcceptDataLoss bool
}

func (o StartOptions) flags() C.uint32_t {
	if o.AcceptDataLoss {
		return C.PGLIFT_START_ACCEPT_DATA_LOSS
	}
	return C.PGLIFT_START_DEFAULT
}

// DropOptions are the options of DropWith.
type DropOptions struct {
	// RemoveCluster: the last member of a Patroni cluster also deletes the cluster's keys from the
	// DCS (ErrState while another member is alive, or on a plain instance).
	RemoveCluster bool
	// DCSUnreachableOK: a Patroni member is dropped even though the DCS cannot be reached (without
	// it: ErrDCS, nothing changed).
	DCSUnreachableOK bool
}

func (o DropOptions) flags() C.uint32_t {
	flags := C.uint32_t(C.PGLIFT_DROP_DEFAULT)
	if o.RemoveCluster {
		flags |= C.PGLIFT_DROP_REMOVE_CLUSTER
	}
	if o.DCSUnreachableOK {
		flags |= C.PGLIFT_DROP_DCS_UNREACHABLE_OK
	}
	return flags
}

// StartWithAsync is StartAsync with options.
func (ctx *Context) StartWithAsync(instance string, options StartOptions) (*Op, error) {
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_start_with_async(c, n, options.flags(), t, o, e)
	})
}

// DropWithAsync is DropAsync with options.
func (ctx *Context) DropWithAsync(instance string, options DropOptions) (*Op, error) {
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_drop_with_async(c, n, options.flags(), t, o, e)
	})
}

func run(cctx context.Context, op *Op, err error) error {
	if err != nil {
		return err
	}
	return await(cctx, op, nil)
}

// Start starts the instance's server (a warning event if it runs already).
func (ctx *Context) Start(cctx context.Context, instance string) error {
	op, err := ctx.StartAsync(instance)
	return run(cctx, op, err)
}

// Stop stops the instance's server with mode StopSmart, StopFast or StopImmediate.
func (ctx *Context) Stop(cctx context.Context, instance string, mode int) error {
	op, err := ctx.StopAsync(instance, mode)
	return run(cctx, op, err)
}

// Restart restarts the instance's server.
func (ctx *Context) Restart(cctx context.Context, instance string, mode int) error {
	op, err := ctx.RestartAsync(instance, mode)
	return run(cctx, op, err)
}

// Reload makes the server reload its configuration.
func (ctx *Context) Reload(cctx context.Context, instance string) error {
	op, err := ctx.ReloadAsync(instance)
	return run(cctx, op, err)
}

// Drop stops the instance and deletes its files.
func (ctx *Context) Drop(cctx context.Context, instance string) error {
	op, err := ctx.DropAsync(instance)
	return run(cctx, op, err)
}

// StartWith is Start with options.
func (ctx *Context) StartWith(cctx context.Context, instance string, options StartOptions) error {
	op, err := ctx.StartWithAsync(instance, options)
	return run(cctx, op, err)
}

// DropWith is Drop with options.
func (ctx *Context) DropWith(cctx context.Context, instance string, options DropOptions) error {
	op, err := ctx.DropWithAsync(instance, options)
	return run(cctx, op, err)
}

// Credential is a role's name and password. Its String and GoString hide the password.
type Credential struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (c Credential) String() string { return c.Username + ":<hidden>" }
func (c Credential) GoString() string {
	return "pglift.Credential{Username:" + strconv.Quote(c.Username) + ", Password:<hidden>}"
}

// PatroniCredentials are SECRETS: what a member on another host needs to join the cluster (its spec's
// surole_password, replrole_password and rewind_password). Keep them out of logs and terminals; write
// them only where nobody else can read them.
type PatroniCredentials struct {
	Superuser   Credential `json:"superuser"`
	Replication Credential `json:"replication"`
	Rewind      Credential `json:"rewind"`
}

// PatroniCredentialsAsync starts PatroniCredentials: the op's result holds the SECRETS (free the op
// once they are copied where they belong).
func (ctx *Context) PatroniCredentialsAsync(instance string) (*Op, error) {
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_patroni_credentials_async(c, n, t, o, e)
	})
}

// PatroniCredentials returns the credentials of the member's Patroni cluster (SECRETS, see the type);
// ErrState when the instance is not a Patroni member.
func (ctx *Context) PatroniCredentials(cctx context.Context, instance string) (*PatroniCredentials, error) {
	op, err := ctx.PatroniCredentialsAsync(instance)
	if err != nil {
		return nil, err
	}
	var credentials PatroniCredentials
	if err := await(cctx, op, &credentials); err != nil {
		return nil, err
	}
	return &credentials, nil
}

// LogFileAsync starts LogFile; the op's result is the path as a JSON string.
func (ctx *Context) LogFileAsync(instance string) (*Op, error) {
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_log_file_async(c, n, t, o, e)
	})
}

// LogFile is the path of the instance's current PostgreSQL log file.
func (ctx *Context) LogFile(cctx context.Context, instance string) (string, error) {
	op, err := ctx.LogFileAsync(instance)
	if err != nil {
		return "", err
	}
	var path string
	err = await(cctx, op, &path)
	return path, err
}
