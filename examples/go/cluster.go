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

// A Patroni cluster as a whole (PGLIFT_HAS_CLUSTER): read through a member of this host (its REST API,
// else the DCS) or from the DCS by name; rolling restarts, reinit of a replica, removal of its keys.
// Unsafe REST calls only go to members of this host, with their own configuration's credentials.

// ClusterHistoryEntry is one line of Patroni's timeline history: a timeline that ended.
type ClusterHistoryEntry struct {
	Timeline  int64   `json:"timeline"`   // the timeline that ended
	LSN       int64   `json:"lsn"`        // where it ended (a WAL position in bytes)
	Reason    string  `json:"reason"`     // Patroni's words
	Timestamp *string `json:"timestamp"`  // nil: unknown
	NewLeader *string `json:"new_leader"` // nil: unknown
}

// Cluster is a snapshot of a Patroni cluster.
type Cluster struct {
	Name        string                `json:"name"`
	Leader      *string               `json:"leader"` // nil: nobody leads
	Paused      bool                  `json:"paused"`
	Source      string                `json:"source"`       // "rest": a member's REST API; "dcs": the DCS's keys
	LocalMember *string               `json:"local_member"` // "15/pg1": the member of this host asked; nil: none
	Members     []ClusterMember       `json:"members"`
	History     []ClusterHistoryEntry `json:"history"` // oldest first
	// DynamicConfiguration is the cluster's dynamic configuration, password values redacted.
	DynamicConfiguration map[string]any `json:"dynamic_configuration"`
	DCSError             string         `json:"dcs_error,omitempty"` // the DCS could not be reached
}

// Member is the member named name, or nil.
func (c *Cluster) Member(name string) *ClusterMember {
	for i := range c.Members {
		if c.Members[i].Name == name {
			return &c.Members[i]
		}
	}
	return nil
}

func awaitCluster(cctx context.Context, op *Op, err error) (*Cluster, error) {
	if err != nil {
		return nil, err
	}
	var doc json.RawMessage
	if err := await(cctx, op, &doc); err != nil {
		return nil, err
	}
	var c Cluster
	if err := json.Unmarshal(doc, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// GetClusterAsync starts GetCluster.
func (ctx *Context) GetClusterAsync(instance string) (*Op, error) {
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_cluster_get_async(c, n, t, o, e)
	})
}

// GetCluster reads the cluster of instance (a Patroni member of this host) through its REST API, else
// the DCS. Not a member: ErrState.
func (ctx *Context) GetCluster(cctx context.Context, instance string) (*Cluster, error) {
	op, err := ctx.GetClusterAsync(instance)
	return awaitCluster(cctx, op, err)
}

// GetClusterFromDCSAsync starts GetClusterFromDCS.
func (ctx *Context) GetClusterFromDCSAsync(name string) (*Op, error) {
	return ctx.instanceOp(name, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_cluster_get_dcs_async(c, n, t, o, e)
	})
}

// GetClusterFromDCS reads the cluster named name as the site's DCS holds it (no member is asked). A
// name that is not letters, digits, '_', '.', '-': ErrInvalidSpec (Field "cluster"); no key: ErrNotFound.
func (ctx *Context) GetClusterFromDCS(cctx context.Context, name string) (*Cluster, error) {
	op, err := ctx.GetClusterFromDCSAsync(name)
	return awaitCluster(cctx, op, err)
}

// RestartClusterAsync starts RestartCluster.
func (ctx *Context) RestartClusterAsync(instance, member string) (*Op, error) {
	m, free := optionalCString(member)
	defer free()
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_cluster_restart_async(c, n, m, t, o, e)
	})
}

// RestartCluster restarts member's PostgreSQL through its Patroni and returns once a new postmaster
// runs (no restart pending); member "": every member, replicas first and the leader last (all must be
// on this host, else nothing is done). Not a member: ErrInvalidSpec (Field "member"). Returns the
// cluster as observed after the restart.
func (ctx *Context) RestartCluster(cctx context.Context, instance, member string) (*Cluster, error) {
	op, err := ctx.RestartClusterAsync(instance, member)
	return awaitCluster(cctx, op, err)
}

// ReinitMemberAsync starts ReinitMember.
func (ctx *Context) ReinitMemberAsync(instance, member string) (*Op, error) {
	m, free := cstring(member)
	defer free()
	return ctx.instanceOp(instance, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_cluster_reinit_async(c, n, m, t, o, e)
	})
}

// ReinitMember reinitializes replica member (its data cloned anew from the leader) and returns once it
// streams again, with the cluster as observed then. The leader: ErrState.
func (ctx *Context) ReinitMember(cctx context.Context, instance, member string) (*Cluster, error) {
	op, err := ctx.ReinitMemberAsync(instance, member)
	return awaitCluster(cctx, op, err)
}

// RemoveClusterAsync starts RemoveCluster.
func (ctx *Context) RemoveClusterAsync(instanceOrName string) (*Op, error) {
	return ctx.instanceOp(instanceOrName, func(c *C.pglift_ctx, n *C.char, t C.uint64_t, o **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_cluster_remove_async(c, n, t, o, e)
	})
}

// RemoveCluster deletes the cluster's keys from the DCS: instanceOrName is a cluster name, or
// "VERSION/NAME" (with the slash) a member of this host. ErrState while a member is alive or still
// configured on this host; ErrDCS when the DCS cannot be reached. Returns the cluster as observed
// after (no member).
func (ctx *Context) RemoveCluster(cctx context.Context, instanceOrName string) (*Cluster, error) {
	op, err := ctx.RemoveClusterAsync(instanceOrName)
	return awaitCluster(cctx, op, err)
}
