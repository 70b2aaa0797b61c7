package pglift_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/pglift"
)

// TestPatroniTopology: a leader and a replica on loopback; Get's typed Patroni section (members, leader,
// paused); a switchover whose context is cancelled returns ErrCancelled and changes nothing; then a
// switchover, pause and resume, a failover and a promotion, each with its typed outcome and what Get
// shows after it; a restart and a reinit of the replica; the log file; the drops, then RemoveCluster
// (the cluster's keys gone: GetClusterFromDCS ErrNotFound).
func TestPatroniTopology(t *testing.T) {
	endpoint := os.Getenv("LIBPGLIFT_TEST_ETCD")
	if endpoint == "" {
		t.Skip("no etcd: run through tests/capi/with_prefix.sh with LIBPGLIFT_TEST_WITH_ETCD=1")
	}
	p := prefix(t)
	cluster := fmt.Sprintf("gotopo%d", time.Now().UnixNano()%100000)
	settings, _ := json.Marshal(map[string]any{
		"prefix": p, "run_prefix": p + "/run",
		"patroni": map[string]any{"etcd": map[string]any{"hosts": []string{endpoint}}, "loop_wait": 2, "ttl": 10,
			"retry_timeout": 3, "create_timeout": 120},
	})
	ctx, err := pglift.NewContext(pglift.Options{SettingsJSON: settings})
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	bg, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()

	member := func(name, host string) string {
		api := fmt.Sprintf("%s:%d", host, freePort(t))
		return fmt.Sprintf(`{"name": %q, "port": %d, "patroni": {"cluster": %q, "node": %q, `+
			`"restapi": {"connect_address": %q, "listen": %q}, "postgresql": {"connect_host": %q}}}`,
			name, freePort(t), cluster, name, api, api, host)
	}
	created := []string{}
	version := ""
	defer func() { // replicas first, the last member with its cluster's keys
		cleanup, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		for i := len(created) - 1; i >= 0; i-- {
			if err := ctx.DropWith(cleanup, created[i], pglift.DropOptions{RemoveCluster: i == 0}); err != nil {
				t.Errorf("cleanup: drop %s: %v", created[i], err)
			}
		}
	}()
	for _, m := range [][2]string{{"gotopo1", "127.0.1.1"}, {"gotopo2", "127.0.1.2"}} {
		inst, err := ctx.CreateJSON(bg, []byte(member(m[0], m[1])))
		if err != nil {
			t.Fatalf("create %s: %v", m[0], err)
		}
		created = append(created, m[0])
		version = inst.Version
		if inst.Patroni == nil || inst.Patroni.Cluster != cluster || inst.Patroni.Node != m[0] {
			t.Fatalf("create %s: Patroni section %+v, want cluster %s node %s", m[0], inst.Patroni, cluster, m[0])
		}
	}

	// topology polls Get until one member leads and the other is a running replica (a former leader
	// rejoins within seconds); it returns the leader. While a member restarts (demoted by an unobserved
	// switchover), its Get may fail (its server closes the connection): that is retried too.
	topology := func(from string) string {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			inst, err := ctx.Get(bg, from)
			if err == nil && inst.Patroni == nil {
				t.Fatalf("get %s: no Patroni section", from)
			}
			if err == nil {
				leader, replicas := inst.Patroni.Leader(), 0
				for _, m := range inst.Patroni.Members {
					if m.Role == "replica" && (m.State == "streaming" || m.State == "running") {
						replicas++
					}
				}
				if leader != "" && replicas == 1 && len(inst.Patroni.Members) == 2 {
					return leader
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("get %s: no leader with a running replica after 90 s: %v, %+v", from, err, inst)
			}
			time.Sleep(200 * time.Millisecond) // polling a cluster that converges by itself
		}
	}
	if leader := topology("gotopo2"); leader != "gotopo1" {
		t.Fatalf("leader %s after the creations, want gotopo1", leader)
	}
	if st, err := ctx.Status(bg, "gotopo2"); err != nil || !st.Running() || st.Patroni == nil ||
		st.Patroni.State != "running" || st.Patroni.OrphanPostmaster || st.Patroni.DCSError != "" {
		t.Fatalf("status gotopo2: %+v, %v, want running, its Patroni running", st, err)
	}

	// The cluster watched from here on: the switchover below shows as leader_changed.
	watchCtx, stopWatching := context.WithCancel(bg)
	defer stopWatching()
	watch, err := ctx.WatchCluster(watchCtx, "gotopo2")
	if err != nil {
		t.Fatalf("WatchCluster: %v", err)
	}
	var watched struct {
		sync.Mutex
		list []pglift.ClusterEvent
	}
	watchEnded := make(chan struct{})
	go func() {
		defer close(watchEnded)
		for e := range watch.C {
			watched.Lock()
			watched.list = append(watched.list, e)
			watched.Unlock()
		}
	}()
	sawEvent := func(pred func(pglift.ClusterEvent) bool) bool {
		watched.Lock()
		defer watched.Unlock()
		for _, e := range watched.list {
			if pred(e) {
				return true
			}
		}
		return false
	}
	watchedSoFar := func() []pglift.ClusterEvent {
		watched.Lock()
		defer watched.Unlock()
		return append([]pglift.ClusterEvent(nil), watched.list...)
	}
	is := func(p *string, s string) bool { return p != nil && *p == s }
	// The current state first: both members, the leader from none.
	if !waitFor(30*time.Second, func() bool {
		return sawEvent(func(e pglift.ClusterEvent) bool {
			return e.Kind == "leader_changed" && e.Before == nil && is(e.After, "gotopo1")
		})
	}) {
		t.Fatalf("the watch did not describe gotopo1 leading in 30 s: %+v", watchedSoFar())
	}
	for _, m := range []string{"gotopo1", "gotopo2"} {
		if !sawEvent(func(e pglift.ClusterEvent) bool { return e.Kind == "member_added" && e.Member == m && e.Revision > 0 }) {
			t.Errorf("the watch's first events have no member_added for %s: %+v", m, watchedSoFar())
		}
	}

	// A switchover whose context is cancelled before the call: the op is cancelled as soon as it starts,
	// at its first wait (reading the cluster), before it asks Patroni anything: ErrCancelled, nothing done.
	cancelled, stop := context.WithCancel(bg)
	stop()
	if _, err := ctx.Switchover(cancelled, "gotopo1", pglift.SwitchoverOptions{Candidate: "gotopo2"}); !errors.Is(err, pglift.ErrCancelled) {
		t.Fatalf("switchover with its context cancelled: %v, want ErrCancelled", err)
	}
	leader := topology("gotopo1")
	if leader != "gotopo1" {
		t.Fatalf("leader %s after a cancelled switchover, want gotopo1", leader)
	}
	other := map[string]string{"gotopo1": "gotopo2", "gotopo2": "gotopo1"}

	r, err := ctx.Switchover(bg, "gotopo1", pglift.SwitchoverOptions{Candidate: other[leader]})
	if err != nil {
		t.Fatalf("switchover to %s: %v", other[leader], err)
	}
	if r.PreviousLeader != leader || r.NewLeader == nil || *r.NewLeader != other[leader] || r.Scheduled {
		t.Fatalf("switchover to %s: %+v", other[leader], r)
	}
	leader = other[leader]
	if got := topology("gotopo1"); got != leader {
		t.Fatalf("leader %s after the switchover, want %s", got, leader)
	}
	if !waitFor(30*time.Second, func() bool {
		return sawEvent(func(e pglift.ClusterEvent) bool {
			// gotopo1 led until now: a leader_changed to the new leader is the switchover's (the
			// leader key may go away first: then before is nil)
			return e.Kind == "leader_changed" && e.Member == leader && is(e.After, leader)
		})
	}) {
		t.Fatalf("the watch saw no leader_changed %s -> %s in 30 s: %+v", other[leader], leader, watchedSoFar())
	}
	stopWatching()
	if !closedWithin(watchEnded, 30*time.Second) {
		t.Fatal("the watch's channel is still open 30 s after its context was cancelled")
	}
	if err := watch.Err(); err != nil {
		t.Fatalf("the watch ended by its context: %v, want nil", err)
	}

	// The cluster as a whole: through a member, then from the DCS.
	c, err := ctx.GetCluster(bg, "gotopo1")
	if err != nil {
		t.Fatalf("GetCluster: %v", err)
	}
	if c.Name != cluster || !is(c.Leader, leader) || c.Paused || len(c.Members) != 2 || c.Member(other[leader]) == nil ||
		c.Member(other[leader]).Role != "replica" || !is(c.LocalMember, version+"/gotopo1") || c.DCSError != "" {
		t.Fatalf("GetCluster: %+v, want %s led by %s, 2 members, local member %s/gotopo1", c, cluster, leader, version)
	}
	if len(c.History) == 0 || c.History[len(c.History)-1].Timeline < 1 {
		t.Errorf("GetCluster after a switchover: history %+v, want a timeline that ended", c.History)
	}
	c, err = ctx.GetClusterFromDCS(bg, cluster)
	if err != nil || c.Source != "dcs" || c.Name != cluster || !is(c.Leader, leader) || len(c.Members) != 2 {
		t.Fatalf("GetClusterFromDCS: %+v, %v, want from the DCS, led by %s", c, err, leader)
	}
	if _, err := ctx.GetClusterFromDCS(bg, "bad name"); !errors.Is(err, pglift.ErrInvalidSpec) {
		t.Errorf("GetClusterFromDCS(bad name) = %v, want ErrInvalidSpec", err)
	}
	if _, err := ctx.RemoveCluster(bg, cluster); !errors.Is(err, pglift.ErrState) {
		t.Errorf("RemoveCluster while its members run = %v, want ErrState", err)
	}

	// A restart of the replica through its Patroni: a new postmaster, the cluster as after it.
	before, err := ctx.Status(bg, other[leader])
	if err != nil || before.PID == nil {
		t.Fatalf("status %s: %+v, %v", other[leader], before, err)
	}
	c, err = ctx.RestartCluster(bg, "gotopo1", other[leader])
	if err != nil || c.Name != cluster || !is(c.Leader, leader) {
		t.Fatalf("RestartCluster %s: %+v, %v", other[leader], c, err)
	}
	after, err := ctx.Status(bg, other[leader])
	if err != nil || after.PID == nil || *after.PID == *before.PID {
		t.Fatalf("status %s after its restart: %+v, %v, want a new postmaster (was %d)", other[leader], after, err, *before.PID)
	}
	var perr *pglift.Error
	if _, err := ctx.RestartCluster(bg, "gotopo1", "nosuch"); !errors.As(err, &perr) || perr.Code != pglift.StatusInvalidSpec || perr.Field != "member" {
		t.Errorf("RestartCluster(nosuch) = %v, want ErrInvalidSpec on member", err)
	}
	if got := topology("gotopo1"); got != leader {
		t.Fatalf("leader %s after the replica's restart, want %s", got, leader)
	}

	// A reinit of the replica: its data cloned anew from the leader, the call returning once it streams
	// again (the cluster as then); the leader refused.
	if _, err := ctx.ReinitMember(bg, "gotopo1", leader); !errors.Is(err, pglift.ErrState) {
		t.Errorf("ReinitMember(the leader %s) = %v, want ErrState", leader, err)
	}
	c, err = ctx.ReinitMember(bg, "gotopo1", other[leader])
	if err != nil || c.Name != cluster || !is(c.Leader, leader) {
		t.Fatalf("ReinitMember %s: %+v, %v", other[leader], c, err)
	}
	if m := c.Member(other[leader]); m == nil || m.Role == "leader" || m.Health != "streaming" {
		t.Fatalf("ReinitMember %s: the member as returned %+v, want a replica streaming again", other[leader], m)
	}

	// The member's Patroni configuration: no password of the credentials in it; a parameter set and
	// read back; validate on the document and on a bad value; a scope change refused.
	credentials, err := ctx.PatroniCredentials(bg, "gotopo1")
	if err != nil {
		t.Fatalf("PatroniCredentials: %v", err)
	}
	doc, err := ctx.PatroniConfigJSON(bg, "gotopo1")
	if err != nil {
		t.Fatalf("PatroniConfigJSON: %v", err)
	}
	for _, secret := range []string{credentials.Superuser.Password, credentials.Replication.Password, credentials.Rewind.Password} {
		if len(secret) < 8 || strings.Contains(string(doc), secret) {
			t.Fatalf("the Patroni configuration shows a password of the credentials (or one is too short: %d)", len(secret))
		}
	}
	if !strings.Contains(string(doc), `"`+pglift.RedactedSecret+`"`) {
		t.Errorf("the Patroni configuration has no redacted secret: %s", doc)
	}
	config, err := ctx.PatroniConfig(bg, "gotopo1")
	if err != nil || config["scope"] != cluster || config["name"] != "gotopo1" {
		t.Fatalf("PatroniConfig: scope %v, name %v, %v", config["scope"], config["name"], err)
	}
	postgresql, _ := config["postgresql"].(map[string]any)
	if postgresql == nil {
		t.Fatalf("PatroniConfig: no postgresql section: %v", config)
	}
	parameters, _ := postgresql["parameters"].(map[string]any)
	if parameters == nil {
		parameters = map[string]any{}
		postgresql["parameters"] = parameters
	}
	if v, err := ctx.ValidatePatroniConfig(bg, "gotopo1", config); err != nil || !v.Valid {
		t.Fatalf("ValidatePatroniConfig(its own document) = %+v, %v, want valid", v, err)
	}
	parameters["work_mem"] = "lots"
	v, err := ctx.ValidatePatroniConfig(bg, "gotopo1", config)
	if err != nil || v.Valid || len(v.Issues) == 0 {
		t.Fatalf("ValidatePatroniConfig(work_mem lots) = %+v, %v, want invalid", v, err)
	}
	named := false
	for _, issue := range v.Issues {
		named = named || issue.Field == "postgresql.parameters.work_mem"
	}
	if !named {
		t.Errorf("ValidatePatroniConfig(work_mem lots): %+v, no issue on postgresql.parameters.work_mem", v.Issues)
	}
	parameters["work_mem"] = "12MB"
	if err := ctx.SetPatroniConfig(bg, "gotopo1", config); err != nil {
		t.Fatalf("SetPatroniConfig(work_mem 12MB): %v", err)
	}
	if again, err := ctx.PatroniConfig(bg, "gotopo1"); err != nil ||
		again["postgresql"].(map[string]any)["parameters"].(map[string]any)["work_mem"] != "12MB" {
		t.Fatalf("PatroniConfig after the set: %v, %v, want work_mem 12MB", again["postgresql"], err)
	}
	config["scope"] = "another"
	if err := ctx.SetPatroniConfig(bg, "gotopo1", config); !errors.As(err, &perr) || perr.Code != pglift.StatusInvalidSpec || perr.Field != "scope" {
		t.Errorf("SetPatroniConfig(another scope) = %v, want ErrInvalidSpec on scope", err)
	}
	if err := ctx.SetPatroniConfigJSON(bg, "gotopo1", []byte(`{"scope": `)); !errors.Is(err, pglift.ErrInvalidSpec) {
		t.Errorf("SetPatroniConfigJSON(malformed) = %v, want ErrInvalidSpec", err)
	}

	paused := func(want bool) {
		t.Helper()
		inst, err := ctx.Get(bg, "gotopo2")
		if err != nil || inst.Patroni == nil || inst.Patroni.IsPaused == nil || *inst.Patroni.IsPaused != want {
			t.Fatalf("get gotopo2: %v, Patroni %+v, want is_paused %v", err, inst, want)
		}
	}
	if err := ctx.Pause(bg, "gotopo1"); err != nil {
		t.Fatalf("pause: %v", err)
	}
	paused(true)
	if err := ctx.Resume(bg, "gotopo2"); err != nil {
		t.Fatalf("resume: %v", err)
	}
	paused(false)

	r, err = ctx.Failover(bg, "gotopo2", other[leader])
	if err != nil {
		t.Fatalf("failover to %s: %v", other[leader], err)
	}
	if r.PreviousLeader != leader || r.NewLeader == nil || *r.NewLeader != other[leader] {
		t.Fatalf("failover to %s: %+v", other[leader], r)
	}
	leader = other[leader]
	if got := topology("gotopo2"); got != leader {
		t.Fatalf("leader %s after the failover, want %s", got, leader)
	}
	if err := ctx.Promote(bg, other[leader]); err != nil {
		t.Fatalf("promote %s: %v", other[leader], err)
	}
	leader = other[leader]
	if got := topology("gotopo1"); got != leader {
		t.Fatalf("leader %s after the promotion, want %s", got, leader)
	}

	logFile, err := ctx.PatroniLogFile(bg, "gotopo1")
	if err != nil {
		t.Fatalf("Patroni log file: %v", err)
	}
	if info, err := os.Stat(logFile); err != nil || info.Size() == 0 {
		t.Errorf("Patroni log file %s: %v, %v", logFile, info, err)
	}
	if _, err := ctx.Failover(bg, "gotopo1", "nosuch"); err == nil {
		t.Errorf("failover to an unknown member succeeded")
	}

	// A scheduled switchover: accepted, nothing changes yet (the drops below cancel it).
	at := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	r, err = ctx.Switchover(bg, leader, pglift.SwitchoverOptions{Candidate: other[leader], ScheduledAt: at})
	if err != nil || r.PreviousLeader != leader || r.NewLeader != nil || !r.Scheduled {
		t.Fatalf("switchover scheduled at %s: %+v, %v", at, r, err)
	}

	// The replica, then the last member, both leaving the cluster's keys; then RemoveCluster deletes
	// them (the scheduled switchover's with them).
	if err := ctx.DropWith(bg, other[leader], pglift.DropOptions{}); err != nil {
		t.Fatalf("drop %s: %v", other[leader], err)
	}
	if err := ctx.DropWith(bg, leader, pglift.DropOptions{}); err != nil {
		t.Fatalf("drop %s: %v", leader, err)
	}
	created = nil
	if c, err := ctx.GetClusterFromDCS(bg, cluster); err != nil || c.Name != cluster {
		t.Fatalf("GetClusterFromDCS after the drops: %+v, %v, want the keys the drops left", c, err)
	}
	c, err = ctx.RemoveCluster(bg, cluster)
	if err != nil || c.Name != cluster || len(c.Members) != 0 {
		t.Fatalf("RemoveCluster %s after the drops: %+v, %v, want done, no member", cluster, c, err)
	}
	if c, err := ctx.GetClusterFromDCS(bg, cluster); !errors.Is(err, pglift.ErrNotFound) {
		t.Errorf("GetClusterFromDCS after RemoveCluster: %+v, %v, want ErrNotFound", c, err)
	}
	if n := leaderDCSKeys(t, endpoint, "/service/"+cluster+"/"); n != 0 {
		t.Errorf("%d key(s) left in etcd for cluster %s", n, cluster)
	}
}
