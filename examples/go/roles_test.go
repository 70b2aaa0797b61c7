package pglift_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"example.com/pglift"
)

const roleSecret = "go-Role-Secret-9"

// TestRoles: create, get, list, alter, dry runs of create, alter and drop, drop on one real instance;
// errors; the password in no event and in no formatted spec.
func TestRoles(t *testing.T) {
	p := prefix(t)
	passfile := p + "/go-roles.pgpass"
	var seen events
	ctx, err := pglift.NewContext(pglift.Options{
		SettingsJSON: []byte(fmt.Sprintf(`{"prefix": %q, "run_prefix": %q, "postgresql": {"auth": {"passfile": %q}}}`, p, p+"/run", passfile)),
		LogLevel:     pglift.LevelDebug,
		OnEvent:      seen.add,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	bg := context.Background()
	spec := fmt.Sprintf(`{"name": "goroles", "port": %d}`, freePort(t))
	if _, err := ctx.CreateJSON(bg, []byte(spec)); err != nil {
		t.Fatal(err)
	}
	defer ctx.Drop(bg, "goroles")

	bob := pglift.RoleSpec{Name: "bob", Password: roleSecret, Login: true, InRoles: []string{"pg_monitor"}, Pgpass: true}
	if s := fmt.Sprintf("%v %+v %#v", bob, bob, bob); strings.Contains(s, roleSecret) {
		t.Errorf("a formatted spec shows the password: %s", s)
	}
	if err := ctx.CreateRole(bg, "goroles", bob); err != nil {
		t.Fatal(err)
	}
	if err := ctx.CreateRole(bg, "goroles", bob); !errors.Is(err, pglift.ErrAlreadyExists) {
		t.Errorf("a second create: %v", err)
	}
	role, err := ctx.GetRole(bg, "goroles", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if !role.HasPassword || !role.Login || !role.Inherit || !role.Pgpass || len(role.InRoles) != 1 || role.InRoles[0] != "pg_monitor" {
		t.Errorf("get: %+v", role)
	}
	if info, err := os.Stat(passfile); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("passfile: %v %v", info, err)
	}
	roles, err := ctx.ListRoles(bg, "goroles")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range roles {
		found = found || r.Name == "bob"
		if strings.HasPrefix(r.Name, "pg_") {
			t.Errorf("list shows %s", r.Name)
		}
	}
	if !found {
		t.Errorf("list: no bob in %+v", roles)
	}

	no := false
	if err := ctx.AlterRole(bg, "goroles", "bob", pglift.RoleChanges{Login: &no, Grant: []string{"pg_read_all_stats"}, Revoke: []string{"pg_monitor"}}); err != nil {
		t.Fatal(err)
	}
	role, _ = ctx.GetRole(bg, "goroles", "bob")
	if role.Login || len(role.InRoles) != 1 || role.InRoles[0] != "pg_read_all_stats" {
		t.Errorf("after alter: %+v", role)
	}

	// Dry runs (the …With forms): checked, logged, nothing changed.
	dry := pglift.WriteOptions{DryRun: true}
	if err := ctx.CreateRoleWith(bg, "goroles", pglift.RoleSpec{Name: "godryrole", Password: roleSecret, Login: true}, dry); err != nil {
		t.Fatal(err)
	}
	if _, err := ctx.GetRole(bg, "goroles", "godryrole"); !errors.Is(err, pglift.ErrNotFound) {
		t.Errorf("get after a dry-run create: %v", err)
	}
	if seen.find(func(ev pglift.Event) bool {
		return strings.Contains(ev.Message, "godryrole") && strings.Contains(ev.Message, "dry run")
	}) == nil {
		t.Errorf("no log event of the dry-run create")
	}
	if err := ctx.CreateRoleWith(bg, "goroles", bob, dry); !errors.Is(err, pglift.ErrAlreadyExists) {
		t.Errorf("a dry-run create of an existing role: %v", err)
	}
	yes := true
	if err := ctx.AlterRoleWith(bg, "goroles", "bob", pglift.RoleChanges{Superuser: &yes, Login: &yes, Revoke: []string{"pg_read_all_stats"}}, dry); err != nil {
		t.Fatal(err)
	}
	op, err := ctx.AlterRoleWithAsync("goroles", "bob", []byte(`{"createdb": true}`), dry)
	if err != nil {
		t.Fatal(err)
	}
	<-op.Done()
	if _, err := op.Result(); err != nil {
		t.Errorf("a dry-run async alter: %v", err)
	}
	op.Free()
	if err := ctx.DropRoleWith(bg, "goroles", "bob", pglift.RoleDropOptions{DropOwned: true}, dry); err != nil {
		t.Fatal(err)
	}
	if after, err := ctx.GetRole(bg, "goroles", "bob"); err != nil || !reflect.DeepEqual(after, role) {
		t.Errorf("after dry runs of alter and drop: %+v, %v; want %+v", after, err, role)
	}

	var e *pglift.Error
	err = ctx.CreateRole(bg, "goroles", pglift.RoleSpec{Name: "carol", Password: roleSecret, EncryptedPassword: roleSecret})
	if !errors.As(err, &e) || e.Code != pglift.StatusInvalidSpec || e.Field != "encrypted_password" || strings.Contains(e.Message, roleSecret) {
		t.Errorf("exclusive passwords: %v", err)
	}
	if err := ctx.DropRole(bg, "goroles", "bob", pglift.RoleDropOptions{DropOwned: true, ReassignOwned: "postgres"}); !errors.Is(err, pglift.ErrInvalidSpec) {
		t.Errorf("exclusive drop options: %v", err)
	}
	if err := ctx.DropRole(bg, "goroles", "bob", pglift.RoleDropOptions{DropOwned: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := ctx.GetRole(bg, "goroles", "bob"); !errors.Is(err, pglift.ErrNotFound) {
		t.Errorf("get after drop: %v", err)
	}
	if ev := seen.find(func(ev pglift.Event) bool { return strings.Contains(ev.Message, roleSecret) }); ev != nil {
		t.Errorf("an event shows the password: %+v", *ev)
	}
	if pglift.StatusReadOnly.String() != "read_only" {
		t.Errorf("read_only: %s", pglift.StatusReadOnly)
	}
}
