package pglift_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"example.com/pglift"
)

func changeState(r *pglift.ApplyResult) string {
	if r.ChangeState == nil {
		return "<nil>"
	}
	return *r.ChangeState
}

func objectState(o pglift.ObjectChange) string {
	if o.ChangeState == nil {
		return "<nil>"
	}
	return *o.ChangeState
}

func diffOf(r *pglift.ApplyResult) map[string][2]string {
	d := map[string][2]string{}
	for _, c := range r.Diff {
		d[c.Field] = [2]string{string(c.Before), string(c.After)}
	}
	return d
}

// TestApplyAndAlter: apply (dry run, for real, again), configure (dry runs, for real), a manifest's
// roles and databases on the existing instance (dry run, created, unchanged, dropped), alter (dry run,
// async, for real), the parameters as text (dry run, for real), bad fields, then apply "absent"; one
// instance.
func TestApplyAndAlter(t *testing.T) {
	ctx, err := pglift.NewContext(pglift.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	bg, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	port := freePort(t)
	manifest := pglift.InstanceSpec{Name: "goapply", Version: "15", Port: port, Settings: map[string]any{"work_mem": "5MB"}}

	dry, err := ctx.ApplyInstance(bg, manifest, true)
	if err != nil || changeState(dry) != "created" || !dry.DryRun {
		t.Fatalf("dry-run apply = %+v, %v", dry, err)
	}
	if _, err := ctx.Get(bg, "15/goapply"); !errors.Is(err, pglift.ErrNotFound) {
		t.Fatalf("a dry-run apply created the instance: %v", err)
	}
	created, err := ctx.ApplyInstance(bg, manifest, false)
	if err != nil || changeState(created) != "created" || created.DryRun {
		t.Fatalf("apply = %+v, %v", created, err)
	}
	dropped := false
	defer func() {
		if !dropped {
			_ = ctx.Drop(bg, "15/goapply")
		}
	}()
	again, err := ctx.ApplyInstance(bg, manifest, false)
	if err != nil || again.Changed() || len(again.Diff) != 0 {
		t.Fatalf("the same manifest again = %+v, %v", again, err)
	}

	// Configure: a dry run reports the change (and what needs a restart) and leaves the parameters;
	// then a parameter set and removed for real.
	simulate := pglift.WriteOptions{DryRun: true}
	params, err := ctx.ParametersText(bg, "15/goapply")
	if err != nil {
		t.Fatal(err)
	}
	wouldConf, err := ctx.Configure(bg, "15/goapply", map[string]any{"work_mem": "7MB"}, simulate)
	if err != nil || len(wouldConf.Changes) != 1 || string(wouldConf.Changes["work_mem"][0]) != `"5MB"` ||
		string(wouldConf.Changes["work_mem"][1]) != `"7MB"` || wouldConf.Reloaded {
		t.Fatalf("dry-run Configure = %+v, %v", wouldConf, err)
	}
	op, err := ctx.ConfigureAsync("15/goapply", []byte(`{"max_connections": 150}`), simulate)
	if err != nil {
		t.Fatal(err)
	}
	<-op.Done()
	doc, err := op.Result()
	op.Free()
	var wouldRestart pglift.ConfigurationResult
	if err != nil || json.Unmarshal(doc, &wouldRestart) != nil || len(wouldRestart.NeedsRestart) != 1 ||
		wouldRestart.NeedsRestart[0] != "max_connections" || wouldRestart.Reloaded {
		t.Fatalf("dry-run ConfigureAsync = %s, %v", doc, err)
	}
	if now, err := ctx.ParametersText(bg, "15/goapply"); err != nil || now != params {
		t.Fatalf("after dry-run configures: %q, %v; want %q", now, err, params)
	}
	if got, err := ctx.Get(bg, "15/goapply"); err != nil || got.Settings["work_mem"] != "5MB" {
		t.Fatalf("after dry-run configures: %+v, %v", got, err)
	}
	set, err := ctx.Configure(bg, "15/goapply", map[string]any{"log_min_duration_statement": "250ms"}, pglift.WriteOptions{})
	if err != nil || string(set.Changes["log_min_duration_statement"][0]) != "null" ||
		string(set.Changes["log_min_duration_statement"][1]) != `"250ms"` || !set.Reloaded {
		t.Fatalf("Configure = %+v, %v", set, err)
	}
	removed, err := ctx.Configure(bg, "15/goapply", map[string]any{"log_min_duration_statement": nil}, pglift.WriteOptions{})
	if err != nil || string(removed.Changes["log_min_duration_statement"][1]) != "null" {
		t.Fatalf("Configure (removal) = %+v, %v", removed, err)
	}
	if now, err := ctx.ParametersText(bg, "15/goapply"); err != nil || now != params {
		t.Fatalf("after a parameter set then removed: %q, %v; want %q", now, err, params)
	}

	// A manifest's roles and databases on the existing instance: a dry run creates nothing, then they
	// are created, then unchanged, then dropped ("state": "absent").
	withObjects := func(roles, databases string) []byte {
		doc, err := json.Marshal(manifest)
		if err != nil {
			t.Fatal(err)
		}
		return []byte(strings.TrimSuffix(string(doc), "}") + `, "roles": ` + roles + `, "databases": ` + databases + `}`)
	}
	present := withObjects(`[{"name": "goapplyrole", "login": true}]`, `[{"name": "goapplydb", "owner": "goapplyrole"}]`)
	absent := withObjects(`[{"name": "goapplyrole", "state": "absent"}]`, `[{"name": "goapplydb", "state": "absent"}]`)
	applyObjects := func(what string, manifest []byte, dryRun bool, want string) {
		t.Helper()
		r, err := ctx.ApplyInstanceJSON(bg, manifest, dryRun)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		wantState := "changed"
		if want == "<nil>" {
			wantState = want
		}
		if changeState(r) != wantState || len(r.Diff) != 0 || len(r.Roles) != 1 || len(r.Databases) != 1 ||
			r.Roles[0].Name != "goapplyrole" || objectState(r.Roles[0]) != want ||
			r.Databases[0].Name != "goapplydb" || objectState(r.Databases[0]) != want {
			t.Fatalf("%s = %+v (roles %+v, databases %+v), want %s", what, r, r.Roles, r.Databases, want)
		}
	}
	applyObjects("dry-run apply with a role and a database", present, true, "created")
	if _, err := ctx.GetRole(bg, "15/goapply", "goapplyrole"); !errors.Is(err, pglift.ErrNotFound) {
		t.Fatalf("a dry-run apply created the role: %v", err)
	}
	if _, err := ctx.GetDatabase(bg, "15/goapply", "goapplydb"); !errors.Is(err, pglift.ErrNotFound) {
		t.Fatalf("a dry-run apply created the database: %v", err)
	}
	applyObjects("apply with a role and a database", present, false, "created")
	if db, err := ctx.GetDatabase(bg, "15/goapply", "goapplydb"); err != nil || db.Owner != "goapplyrole" {
		t.Fatalf("the applied database: %+v, %v", db, err)
	}
	applyObjects("the same manifest again", present, false, "<nil>")
	applyObjects("apply with them absent", absent, false, "dropped")
	if _, err := ctx.GetRole(bg, "15/goapply", "goapplyrole"); !errors.Is(err, pglift.ErrNotFound) {
		t.Fatalf("after apply absent, the role: %v", err)
	}

	newPort := freePort(t)
	dryAlter, err := ctx.AlterInstance(bg, "15/goapply", pglift.InstanceChanges{Port: &newPort, Settings: map[string]any{"work_mem": "6MB"}}, true)
	if err != nil || changeState(dryAlter) != "changed" || !dryAlter.DryRun {
		t.Fatalf("dry-run alter = %+v, %v", dryAlter, err)
	}
	if d := diffOf(dryAlter); d["settings.work_mem"] != [2]string{`"5MB"`, `"6MB"`} || d["port"] != [2]string{
		strconv.Itoa(port), strconv.Itoa(newPort)} {
		t.Fatalf("dry-run diff = %v", d)
	}
	got, err := ctx.Get(bg, "15/goapply")
	if err != nil || got.Port != port || got.Settings["work_mem"] != "5MB" {
		t.Fatalf("after a dry-run alter: %+v, %v", got, err)
	}

	// Asynchronously: stop it (then the port changes without a pending restart).
	op, err = ctx.AlterInstanceAsync("15/goapply", []byte(`{"state": "stopped"}`), false)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-op.Done():
	case <-bg.Done():
		t.Fatal("the stop did not end")
	}
	doc, err = op.Result()
	op.Free()
	var stopped pglift.ApplyResult
	if err != nil || json.Unmarshal(doc, &stopped) != nil || changeState(&stopped) != "changed" || diffOf(&stopped)["state"] != [2]string{`"started"`, `"stopped"`} {
		t.Fatalf("async alter = %s, %v", doc, err)
	}

	altered, err := ctx.AlterInstance(bg, "15/goapply", pglift.InstanceChanges{Port: &newPort, Settings: map[string]any{"work_mem": "6MB"}}, false)
	if err != nil || changeState(altered) != "changed" || altered.DryRun || len(altered.Diff) != 2 {
		t.Fatalf("alter = %+v, %v", altered, err)
	}
	got, err = ctx.Get(bg, "15/goapply")
	if err != nil || got.Port != newPort || got.Settings["work_mem"] != "6MB" || got.State != "stopped" {
		t.Fatalf("after alter: %+v, %v", got, err)
	}

	// The parameters as postgresql.conf text.
	text, err := ctx.ParametersText(bg, "15/goapply")
	if err != nil || !strings.Contains(text, "work_mem = '6MB'\n") {
		t.Fatalf("ParametersText = %q, %v", text, err)
	}
	wouldText, err := ctx.ConfigureTextWith(bg, "15/goapply", text+"maintenance_work_mem = '32MB'\n", simulate)
	if err != nil || len(wouldText.Changes) != 1 || string(wouldText.Changes["maintenance_work_mem"][1]) != `"32MB"` {
		t.Fatalf("dry-run ConfigureTextWith = %+v, %v", wouldText, err)
	}
	if now, err := ctx.ParametersText(bg, "15/goapply"); err != nil || now != text {
		t.Fatalf("after a dry-run ConfigureTextWith: %q, %v", now, err)
	}
	configured, err := ctx.ConfigureText(bg, "15/goapply", text+"maintenance_work_mem = '32MB'\n")
	if err != nil || len(configured.Changes) != 1 || string(configured.Changes["maintenance_work_mem"][0]) != "null" ||
		string(configured.Changes["maintenance_work_mem"][1]) != `"32MB"` {
		t.Fatalf("ConfigureText = %+v, %v", configured, err)
	}
	if same, err := ctx.ConfigureText(bg, "15/goapply", text+"maintenance_work_mem = '32MB'\n"); err != nil || len(same.Changes) != 0 {
		t.Fatalf("ConfigureText again = %+v, %v", same, err)
	}

	// Bad fields: InvalidSpec naming the field, nothing changed.
	var perr *pglift.Error
	if _, err := ctx.AlterInstanceJSON(bg, "15/goapply", []byte(`{"prot": 5433}`), false); !errors.As(err, &perr) ||
		!errors.Is(err, pglift.ErrInvalidSpec) || perr.Field != "prot" {
		t.Fatalf("alter with an unknown field = %v, want ErrInvalidSpec on 'prot'", err)
	}
	zero := 0
	if _, err := ctx.AlterInstance(bg, "15/goapply", pglift.InstanceChanges{Port: &zero}, false); !errors.As(err, &perr) || perr.Field != "port" {
		t.Fatalf("alter to port 0 = %v, want ErrInvalidSpec on 'port'", err)
	}
	if _, err := ctx.ConfigureText(bg, "15/goapply", "include 'x.conf'\n"); !errors.As(err, &perr) || perr.Field != "line 1" {
		t.Fatalf("ConfigureText(include) = %v, want ErrInvalidSpec on 'line 1'", err)
	}
	if _, err := ctx.AlterInstance(bg, "15/missing", pglift.InstanceChanges{State: "started"}, false); !errors.Is(err, pglift.ErrNotFound) {
		t.Fatalf("alter a missing instance = %v, want ErrNotFound", err)
	}
	if got, err := ctx.Get(bg, "15/goapply"); err != nil || got.Port != newPort {
		t.Fatalf("after the refused changes: %+v, %v", got, err)
	}

	gone, err := ctx.ApplyInstance(bg, pglift.InstanceSpec{Name: "goapply", Version: "15", State: "absent"}, false)
	if err != nil || changeState(gone) != "dropped" {
		t.Fatalf("apply absent = %+v, %v", gone, err)
	}
	dropped = true
	if _, err := ctx.Get(bg, "15/goapply"); !errors.Is(err, pglift.ErrNotFound) {
		t.Fatalf("after apply absent: %v", err)
	}
}
