package pglift_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"example.com/pglift"
)

// leaderTexts is every text the binding handed the test besides events: results (as JSON) and
// errors (with their detail), for the check that the password shows in none.
type leaderTexts []string

func (s *leaderTexts) result(v any) {
	doc, _ := json.Marshal(v)
	*s = append(*s, string(doc))
}

func (s *leaderTexts) err(err error) error {
	if err != nil {
		*s = append(*s, err.Error())
		var perr *pglift.Error
		if errors.As(err, &perr) {
			s.result(perr)
		}
	}
	return err
}

// leaderGetJSON is Get as the library's JSON: Instance does not model the patroni section.
func leaderGetJSON(cctx context.Context, ctx *pglift.Context, instance string) ([]byte, error) {
	op, err := ctx.GetAsync(instance)
	if err != nil {
		return nil, err
	}
	defer op.Free()
	select {
	case <-op.Done():
	case <-cctx.Done():
		op.Cancel()
		<-op.Done()
	}
	return op.Result()
}

// leaderDCSKeys counts the etcd keys under prefix (etcd's v3 JSON gateway).
func leaderDCSKeys(t *testing.T, endpoint, prefix string) int {
	t.Helper()
	end := []byte(prefix)
	end[len(end)-1]++
	body, _ := json.Marshal(map[string]any{
		"key":        base64.StdEncoding.EncodeToString([]byte(prefix)),
		"range_end":  base64.StdEncoding.EncodeToString(end),
		"count_only": true,
	})
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post("http://"+endpoint+"/v3/kv/range", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("etcd range %s: %v", prefix, err)
	}
	defer resp.Body.Close()
	var reply struct {
		Count string `json:"count"` // an int64 as a string, absent when 0
	}
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("etcd range %s: HTTP %d, %v", prefix, resp.StatusCode, err)
	}
	if reply.Count == "" {
		return 0
	}
	n, err := strconv.Atoi(reply.Count)
	if err != nil {
		t.Fatalf("etcd range %s: count %q", prefix, reply.Count)
	}
	return n
}

// TestPatroniLeader: issue 11's daily work on a Patroni leader (a one-member cluster): configure
// work_mem (reloaded, SHOW gives it) and max_connections (needs a restart), role and database create,
// get, privileges and drop, the role's password (from a 0600 file) in no event, error or result; then
// the member's drop as the last one, which also removes the cluster's keys from etcd.
func TestPatroniLeader(t *testing.T) {
	endpoint := os.Getenv("LIBPGLIFT_TEST_ETCD")
	if endpoint == "" {
		t.Skip("no etcd: run through tests/capi/with_prefix.sh with LIBPGLIFT_TEST_WITH_ETCD=1")
	}
	p := prefix(t)
	const name, cluster = "golead", "golc"
	settings, _ := json.Marshal(map[string]any{
		"prefix": p, "run_prefix": p + "/run",
		"patroni": map[string]any{"etcd": map[string]any{"hosts": []string{endpoint}}, "loop_wait": 2, "ttl": 10, "retry_timeout": 3},
	})
	var seen events
	ctx, err := pglift.NewContext(pglift.Options{SettingsJSON: settings, LogLevel: pglift.LevelDebug, OnEvent: seen.add})
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	bg, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var texts leaderTexts

	// The password, as an operator would keep it: in a file only its owner reads.
	secretBytes := make([]byte, 12)
	if _, err := rand.Read(secretBytes); err != nil {
		t.Fatal(err)
	}
	passwordFile := filepath.Join(t.TempDir(), "alice.password")
	if err := os.WriteFile(passwordFile, []byte("go-"+hex.EncodeToString(secretBytes)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(passwordFile); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v, %v, want mode 0600", info, err)
	}
	f, err := os.Open(passwordFile)
	if err != nil {
		t.Fatal(err)
	}
	line := bufio.NewScanner(f)
	line.Scan()
	secret := line.Text()
	f.Close()
	if len(secret) < 20 {
		t.Fatalf("password file: first line %d bytes long", len(secret))
	}

	spec := fmt.Sprintf(`{"name": %q, "port": %d, "patroni": {"cluster": %q, "node": %q, `+
		`"restapi": {"connect_address": "127.0.1.1:%d"}, "postgresql": {"connect_host": "127.0.1.1"}}}`,
		name, freePort(t), cluster, name, freePort(t))
	created, err := ctx.CreateJSON(bg, []byte(spec))
	if texts.err(err) != nil {
		t.Fatalf("create the Patroni member: %v", err)
	}
	inst := created.Version + "/" + name
	dropped := false
	defer func() { // even when an assertion failed: the last member, its cluster's keys too
		if dropped {
			return
		}
		cleanup, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := ctx.DropWith(cleanup, inst, pglift.DropOptions{RemoveCluster: true}); err != nil {
			t.Errorf("cleanup: drop %s with its cluster: %v", inst, err)
			_ = ctx.Drop(cleanup, inst)
		}
	}()

	// A Patroni member, leading its cluster.
	doc, err := leaderGetJSON(bg, ctx, inst)
	if texts.err(err) != nil {
		t.Fatalf("get %s: %v", inst, err)
	}
	texts = append(texts, string(doc))
	var got struct {
		State   string `json:"state"`
		Patroni *struct {
			Cluster        string `json:"cluster"`
			Node           string `json:"node"`
			ClusterMembers []struct {
				Name string `json:"name"`
				Role string `json:"role"`
			} `json:"cluster_members"`
		} `json:"patroni"`
	}
	if err := json.Unmarshal(doc, &got); err != nil {
		t.Fatalf("get %s: %v in %s", inst, err, doc)
	}
	if got.State != "started" || got.Patroni == nil || got.Patroni.Cluster != cluster || got.Patroni.Node != name {
		t.Fatalf("get %s: not a started member of cluster %s: %s", inst, cluster, doc)
	}
	leading := false
	for _, m := range got.Patroni.ClusterMembers {
		leading = leading || (m.Name == name && m.Role == "leader")
	}
	if !leading {
		t.Fatalf("get %s: %s is not the leader of its cluster: %s", inst, name, doc)
	}
	keysPrefix := "/service/" + cluster + "/"
	if n := leaderDCSKeys(t, endpoint, keysPrefix); n == 0 {
		t.Fatalf("no key under %s in etcd once the member is created", keysPrefix)
	}

	// Configure: work_mem reloads (SHOW gives it); max_connections needs a restart. The binding's
	// configure is the text form (ConfigureText): the managed parameters, with the change.
	configure := func(param, value string) *pglift.ConfigurationResult {
		t.Helper()
		text, err := ctx.ParametersText(bg, inst)
		if texts.err(err) != nil {
			t.Fatalf("parameters of %s: %v", inst, err)
		}
		var kept []string
		for _, l := range strings.Split(text, "\n") {
			if l != "" && !strings.HasPrefix(l, param+" ") {
				kept = append(kept, l)
			}
		}
		kept = append(kept, param+" = "+value, "")
		r, err := ctx.ConfigureText(bg, inst, strings.Join(kept, "\n"))
		if texts.err(err) != nil {
			t.Fatalf("configure %s = %s: %v", param, value, err)
		}
		texts.result(r)
		return r
	}
	workMem := configure("work_mem", "'8MB'")
	if len(workMem.Changes) != 1 || string(workMem.Changes["work_mem"][1]) != `"8MB"` || !workMem.Reloaded || len(workMem.NeedsRestart) != 0 {
		t.Errorf("configure work_mem = 8MB: %+v, want one change, reloaded, no restart needed", workMem)
	}
	rows, err := ctx.RunSQL(bg, inst, "SHOW work_mem", pglift.DatabaseSelection{Databases: []string{"postgres"}})
	if texts.err(err) != nil {
		t.Fatalf("SHOW work_mem: %v", err)
	}
	texts.result(rows)
	if r := rows["postgres"]; len(r) != 1 || r[0]["work_mem"] == nil || *r[0]["work_mem"] != "8MB" {
		t.Errorf("SHOW work_mem after the reload: %v, want 8MB", r)
	}
	maxConnections := configure("max_connections", "120")
	if len(maxConnections.Changes) != 1 || len(maxConnections.NeedsRestart) != 1 || maxConnections.NeedsRestart[0] != "max_connections" {
		t.Errorf("configure max_connections = 120: %+v, want needs_restart [max_connections]", maxConnections)
	}

	// Role alice, with login and the password.
	alice := pglift.RoleSpec{Name: "alice", Password: secret, Login: true}
	if err := texts.err(ctx.CreateRole(bg, inst, alice)); err != nil {
		t.Fatalf("create role alice: %v", err)
	}
	if err := texts.err(ctx.CreateRole(bg, inst, alice)); !errors.Is(err, pglift.ErrAlreadyExists) {
		t.Errorf("create role alice again: %v, want ErrAlreadyExists", err)
	}
	role, err := ctx.GetRole(bg, inst, "alice")
	if texts.err(err) != nil {
		t.Fatalf("get role alice: %v", err)
	}
	texts.result(role)
	if !role.Login || !role.HasPassword {
		t.Errorf("get role alice: %+v, want login and has_password", role)
	}

	// Database app, owned by alice; the privileges listing sees a grant to her.
	db, err := ctx.CreateDatabase(bg, inst, pglift.DatabaseSpec{Name: "app", Owner: "alice"})
	if texts.err(err) != nil {
		t.Fatalf("create database app: %v", err)
	}
	texts.result(db)
	db, err = ctx.GetDatabase(bg, inst, "app")
	if texts.err(err) != nil {
		t.Fatalf("get database app: %v", err)
	}
	texts.result(db)
	if db.Owner != "alice" {
		t.Errorf("get database app: owner %q, want alice", db.Owner)
	}
	rows, err = ctx.RunSQL(bg, inst, "CREATE TABLE golead_t (i int); GRANT SELECT ON golead_t TO alice",
		pglift.DatabaseSelection{Databases: []string{"app"}})
	if texts.err(err) != nil {
		t.Fatalf("create a table granted to alice: %v", err)
	}
	texts.result(rows)
	privs, err := ctx.DatabasePrivileges(bg, inst, []string{"app"}, []string{"alice"}, false)
	if texts.err(err) != nil {
		t.Fatalf("privileges: %v", err)
	}
	texts.result(privs)
	if len(privs) != 1 || privs[0].ObjectName != "golead_t" || privs[0].Role != "alice" || strings.Join(privs[0].Privileges, ",") != "SELECT" {
		t.Errorf("privileges of alice in app: %+v, want SELECT on golead_t", privs)
	}

	// The drops: the database first (alice owns it), then the role; get finds neither.
	if err := texts.err(ctx.DropDatabase(bg, inst, "app", true)); err != nil {
		t.Fatalf("drop database app: %v", err)
	}
	if _, err := ctx.GetDatabase(bg, inst, "app"); !errors.Is(texts.err(err), pglift.ErrNotFound) {
		t.Errorf("get database app after its drop: %v, want ErrNotFound", err)
	}
	if err := texts.err(ctx.DropRole(bg, inst, "alice", pglift.RoleDropOptions{})); err != nil {
		t.Fatalf("drop role alice: %v", err)
	}
	if _, err := ctx.GetRole(bg, inst, "alice"); !errors.Is(texts.err(err), pglift.ErrNotFound) {
		t.Errorf("get role alice after its drop: %v, want ErrNotFound", err)
	}

	// The member's drop, as the last one: its files, and its cluster's keys.
	if err := texts.err(ctx.DropWith(bg, inst, pglift.DropOptions{RemoveCluster: true})); err != nil {
		t.Fatalf("drop %s with its cluster: %v", inst, err)
	}
	dropped = true
	if _, err := ctx.Get(bg, inst); !errors.Is(texts.err(err), pglift.ErrNotFound) {
		t.Errorf("get %s after its drop: %v, want ErrNotFound", inst, err)
	}
	if _, err := os.Stat(created.DataDirectory); !os.IsNotExist(err) {
		t.Errorf("data directory %s after the drop: %v", created.DataDirectory, err)
	}
	if n := leaderDCSKeys(t, endpoint, keysPrefix); n != 0 {
		t.Errorf("%d key(s) left under %s in etcd after the last member's drop", n, keysPrefix)
	}

	// The password, nowhere: events (DEBUG included), errors, results.
	if ev := seen.find(func(ev pglift.Event) bool {
		return strings.Contains(ev.Message, secret) || strings.Contains(ev.Target, secret)
	}); ev != nil {
		t.Errorf("an event shows the password: %+v", *ev)
	}
	for _, text := range texts {
		if strings.Contains(text, secret) {
			t.Errorf("a result or an error shows the password: %s", text)
		}
	}
	seen.mu.Lock()
	nEvents := len(seen.list)
	seen.mu.Unlock()
	if nEvents == 0 || len(texts) < 10 {
		t.Errorf("the password check saw %d events and %d texts: too few to mean anything", nEvents, len(texts))
	}
}
