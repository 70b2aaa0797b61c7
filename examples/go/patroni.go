package pglift

/*
#include <stdlib.h>
#include <pglift/pglift.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"time"
)

// The Patroni cluster of a member: what Get shows of it, and the topology operations (switchover,
// failover, pause and resume, promote). The instance argument names any member on this host.

// ClusterMember is one member of a Patroni cluster, as Patroni (or, failing it, the DCS) reports it.
type ClusterMember struct {
	Name     string  `json:"name"`
	Host     string  `json:"host"`
	Port     int     `json:"port"`
	Role     string  `json:"role"`  // "leader", "replica", "sync_standby"...
	State    string  `json:"state"` // "running", "streaming", "stopped"...
	APIURL   *string `json:"api_url,omitempty"`
	Timeline *int64  `json:"timeline,omitempty"`
	// Lag is a replica's lag: a number of bytes, or the string "unknown"; absent on the leader.
	Lag json.RawMessage `json:"lag,omitempty"`
	// Observed by pglift: "running" or "unreachable" (its REST API answered or not).
	PatroniAPI string `json:"patroni_api,omitempty"`
	// As a candidate to lead: "leader", "streaming", "not_streaming", "lagging", "diverged"...
	Health       string `json:"health,omitempty"`
	HealthReason string `json:"health_reason,omitempty"` // why it cannot take over
}

// PatroniStatus is the "patroni" part of a member's Status.
type PatroniStatus struct {
	State            string `json:"state"`             // "running", "not_running" or "unreachable"
	OrphanPostmaster bool   `json:"orphan_postmaster"` // its postmaster runs without its Patroni
	DCSError         string `json:"dcs_error,omitempty"`
}

// PatroniFence is what the supervisor recorded when Patroni died unasked and it stopped PostgreSQL.
type PatroniFence struct {
	At     string `json:"at"`
	Reason string `json:"reason"`
}

// PatroniRejoin is a record of commits Patroni's own pg_rewind discarded (or would have: "refused").
type PatroniRejoin struct {
	At          string `json:"at"`
	Outcome     string `json:"outcome"` // "rejoined" or "refused"
	Description string `json:"description"`
	Commits     *int64 `json:"commits"` // nil: unknown
}

// PatroniInfo is the "patroni" section of a member's Get.
type PatroniInfo struct {
	Cluster string `json:"cluster"`
	Node    string `json:"node"`
	RestAPI struct {
		ConnectAddress string `json:"connect_address"`
		Listen         string `json:"listen"`
	} `json:"restapi"`
	PostgreSQL struct {
		ConnectHost *string `json:"connect_host"`
	} `json:"postgresql"`
	Members  []ClusterMember `json:"cluster_members"`
	IsPaused *bool           `json:"is_paused,omitempty"`
	// State is this member's Patroni: "running", "not_running" or "unreachable".
	State             string         `json:"state,omitempty"`
	OrphanPostmaster  bool           `json:"orphan_postmaster"`
	DCSError          string         `json:"dcs_error,omitempty"` // the DCS could not be reached
	Fenced            *PatroniFence  `json:"fenced,omitempty"`
	DiscardedOnRejoin *PatroniRejoin `json:"discarded_on_rejoin,omitempty"`
}

// Leader is the name of the member leading the cluster ("" when none does).
func (p *PatroniInfo) Leader() string {
	for _, m := range p.Members {
		if m.Role == "leader" {
			return m.Name
		}
	}
	return ""
}

// TopologyResult is the outcome of a switchover or a failover.
type TopologyResult struct {
	PreviousLeader string  `json:"previous_leader"`
	NewLeader      *string `json:"new_leader"` // nil when only scheduled
	Scheduled      bool    `json:"scheduled"`
}

// SwitchoverOptions are the options of Switchover.
type SwitchoverOptions struct {
	Candidate   string    // "": any healthy replica
	ScheduledAt time.Time // zero: now; else the switchover is scheduled (and Switchover returns at once)
}

func optionalCString(s string) (*C.char, func()) {
	if s == "" {
		return nil, func() {}
	}
	return cstring(s)
}

// SwitchoverAsync starts a switchover of the member's cluster.
func (ctx *Context) SwitchoverAsync(instance string, options SwitchoverOptions) (*Op, error) {
	candidate, freeCandidate := optionalCString(options.Candidate)
	defer freeCandidate()
	at := ""
	if !options.ScheduledAt.IsZero() {
		at = options.ScheduledAt.Format(time.RFC3339)
	}
	scheduledAt, freeAt := optionalCString(at)
	defer freeAt()
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_patroni_switchover_async(c, n, candidate, scheduledAt, t, o, e)
	})
}

// Switchover hands the leadership of the member's cluster to options.Candidate (or any healthy replica)
// and returns once the new leader is observed and the former one rejoined (or once scheduled).
// Cancelling cctx cancels the wait (ErrCancelled); Patroni may already have acted on the request.
func (ctx *Context) Switchover(cctx context.Context, instance string, options SwitchoverOptions) (*TopologyResult, error) {
	op, err := ctx.SwitchoverAsync(instance, options)
	if err != nil {
		return nil, err
	}
	var r TopologyResult
	if err := await(cctx, op, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// FailoverAsync starts a manual failover to candidate.
func (ctx *Context) FailoverAsync(instance, candidate string) (*Op, error) {
	c, free := cstring(candidate)
	defer free()
	return ctx.instanceOp(instance, func(cc *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_patroni_failover_async(cc, n, c, t, o, e)
	})
}

// Failover makes candidate (required) lead the member's cluster; returns once it leads.
func (ctx *Context) Failover(cctx context.Context, instance, candidate string) (*TopologyResult, error) {
	op, err := ctx.FailoverAsync(instance, candidate)
	if err != nil {
		return nil, err
	}
	var r TopologyResult
	if err := await(cctx, op, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// PauseAsync starts pausing (pause) or resuming (!pause) automatic failover of the member's cluster.
func (ctx *Context) PauseAsync(instance string, pause bool) (*Op, error) {
	flag := C.int(0)
	if pause {
		flag = 1
	}
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_patroni_pause_async(c, n, flag, t, o, e)
	})
}

// Pause pauses automatic failover of the member's cluster; returns once the member reports it.
func (ctx *Context) Pause(cctx context.Context, instance string) error {
	op, err := ctx.PauseAsync(instance, true)
	return run(cctx, op, err)
}

// Resume resumes automatic failover of the member's cluster; returns once the member reports it.
func (ctx *Context) Resume(cctx context.Context, instance string) error {
	op, err := ctx.PauseAsync(instance, false)
	return run(cctx, op, err)
}

// PromoteAsync starts a switchover to the member.
func (ctx *Context) PromoteAsync(instance string) (*Op, error) {
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_instance_promote_async(c, n, t, o, e)
	})
}

// Promote makes the member lead its cluster (a switchover to it); returns once it leads. A plain
// instance: ErrState.
func (ctx *Context) Promote(cctx context.Context, instance string) error {
	op, err := ctx.PromoteAsync(instance)
	return run(cctx, op, err)
}

// PatroniLogFileAsync starts PatroniLogFile; the op's result is the path as a JSON string.
func (ctx *Context) PatroniLogFileAsync(instance string) (*Op, error) {
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_patroni_log_file_async(c, n, t, o, e)
	})
}

// PatroniLogFile is the path of the member's Patroni log file.
func (ctx *Context) PatroniLogFile(cctx context.Context, instance string) (string, error) {
	op, err := ctx.PatroniLogFileAsync(instance)
	if err != nil {
		return "", err
	}
	var path string
	err = await(cctx, op, &path)
	return path, err
}
