package pglift_test

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"testing"

	"example.com/pglift"
)

func TestDatabases(t *testing.T) {
	prefix(t)
	ctx, err := pglift.NewContext(pglift.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	bg := context.Background()
	spec := []byte(`{"name": "godbs", "port": ` + strconv.Itoa(freePort(t)) + `}`)
	if _, err := ctx.CreateJSON(bg, spec); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := ctx.Drop(bg, "15/godbs"); err != nil {
			t.Error(err)
		}
	}()
	const inst = "15/godbs"
	workMem := "8MB"
	db, err := ctx.CreateDatabase(bg, inst, pglift.DatabaseSpec{Name: "app", Settings: map[string]*string{"work_mem": &workMem},
		Schemas: []pglift.DatabaseSchema{{Name: "s1"}}, Extensions: []pglift.DatabaseExtension{{Name: "hstore"}}})
	if err != nil {
		t.Fatal(err)
	}
	if db.Owner != "postgres" || db.Settings["work_mem"] != "8MB" || len(db.Extensions) != 1 || db.Extensions[0].Name != "hstore" {
		t.Errorf("created: %+v", db)
	}
	if _, err := ctx.CreateDatabase(bg, inst, pglift.DatabaseSpec{Name: "app"}); !errors.Is(err, pglift.ErrAlreadyExists) {
		t.Errorf("second create: %v", err)
	}
	var perr *pglift.Error
	if _, err := ctx.CreateDatabase(bg, inst, pglift.DatabaseSpec{Name: "x", Tablespace: "default"}); !errors.As(err, &perr) || perr.Field != "tablespace" {
		t.Errorf("tablespace default: %v", err)
	}
	items, err := ctx.ListDatabases(bg, inst, pglift.DatabaseSelection{Databases: []string{"app"}})
	if err != nil || len(items) != 1 || items[0].Name != "app" || items[0].Encoding != "UTF8" {
		t.Errorf("list: %+v %v", items, err)
	}
	db, err = ctx.AlterDatabase(bg, inst, pglift.DatabaseSpec{Name: "app", Settings: map[string]*string{},
		Schemas: []pglift.DatabaseSchema{{Name: "s1", State: "absent"}}})
	if err != nil || len(db.Settings) != 0 {
		t.Errorf("alter: %+v %v", db, err)
	}
	// Dry runs (the …With forms): checked, nothing created, altered or dropped.
	dry := pglift.WriteOptions{DryRun: true}
	would, err := ctx.CreateDatabaseWith(bg, inst, pglift.DatabaseSpec{Name: "godrydb", Schemas: []pglift.DatabaseSchema{{Name: "s2"}}}, dry)
	if err != nil || would.Name != "godrydb" || would.Owner != "postgres" || len(would.Schemas) != 1 || would.Schemas[0].Name != "s2" {
		t.Errorf("dry-run create: %+v %v", would, err)
	}
	if _, err := ctx.GetDatabase(bg, inst, "godrydb"); !errors.Is(err, pglift.ErrNotFound) {
		t.Errorf("get after a dry-run create: %v", err)
	}
	if _, err := ctx.CreateDatabaseWith(bg, inst, pglift.DatabaseSpec{Name: "godrydb", Owner: "gonobody"}, dry); !errors.Is(err, pglift.ErrNotFound) {
		t.Errorf("dry-run create with an unknown owner: %v", err)
	}
	before, err := ctx.GetDatabase(bg, inst, "app")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ctx.AlterDatabaseWith(bg, inst, pglift.DatabaseSpec{Name: "app", Settings: map[string]*string{"work_mem": &workMem},
		Schemas: []pglift.DatabaseSchema{{Name: "s3"}}}, dry); err != nil {
		t.Errorf("dry-run alter: %v", err)
	}
	if err := ctx.DropDatabaseWith(bg, inst, "app", true, dry); err != nil {
		t.Errorf("dry-run drop: %v", err)
	}
	if after, err := ctx.GetDatabase(bg, inst, "app"); err != nil || !reflect.DeepEqual(after, before) {
		t.Errorf("after dry runs of alter and drop: %+v %v; want %+v", after, err, before)
	}

	if _, err := ctx.RunSQL(bg, inst, "CREATE TABLE t (i int); CREATE ROLE goreader; GRANT SELECT ON t TO goreader",
		pglift.DatabaseSelection{Databases: []string{"app"}}); err != nil {
		t.Fatal(err)
	}
	rows, err := ctx.RunSQL(bg, inst, "SELECT 1 AS one, NULL AS none", pglift.DatabaseSelection{Databases: []string{"app"}})
	if err != nil || len(rows["app"]) != 1 || *rows["app"][0]["one"] != "1" || rows["app"][0]["none"] != nil {
		t.Errorf("run: %+v %v", rows, err)
	}
	privs, err := ctx.DatabasePrivileges(bg, inst, []string{"app"}, []string{"goreader"}, false)
	if err != nil || len(privs) != 1 || privs[0].ObjectName != "t" || len(privs[0].Privileges) != 1 || privs[0].Privileges[0] != "SELECT" {
		t.Errorf("privileges: %+v %v", privs, err)
	}
	if err := ctx.DropDatabase(bg, inst, "app", true); err != nil {
		t.Fatal(err)
	}
	if _, err := ctx.GetDatabase(bg, inst, "app"); !errors.Is(err, pglift.ErrNotFound) {
		t.Errorf("get after drop: %v", err)
	}
}
