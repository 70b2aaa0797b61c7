package pglift_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"example.com/pglift"
)

func TestHbaRecords(t *testing.T) {
	ctx, err := pglift.NewContext(pglift.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	bg, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := ctx.Create(bg, pglift.InstanceSpec{Name: "gohba", Version: "15", Port: freePort(t)}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ctx.Drop(bg, "15/gohba") }()
	record := pglift.HbaRecord{
		Connection: &pglift.HbaConnection{Type: "host", Address: "10.0.0.0/8"},
		Database:   []string{"app"},
		Method:     "scram-sha-256",
	}
	dry, err := ctx.AddHbaRecords(bg, "15/gohba", []pglift.HbaRecord{record}, pglift.HbaOptions{DryRun: true})
	if err != nil || !dry.Changed || dry.Reloaded || !strings.Contains(dry.Diff, "+host    app") {
		t.Fatalf("dry run = %+v, %v", dry, err)
	}
	added, err := ctx.AddHbaRecords(bg, "15/gohba", []pglift.HbaRecord{record}, pglift.HbaOptions{})
	if err != nil || len(added.Added) != 1 || !added.Reloaded {
		t.Fatalf("add = %+v, %v", added, err)
	}
	bad := record
	bad.Method = "nope"
	var perr *pglift.Error
	if _, err := ctx.AddHbaRecords(bg, "15/gohba", []pglift.HbaRecord{bad}, pglift.HbaOptions{}); !errors.As(err, &perr) ||
		!errors.Is(err, pglift.ErrInvalidSpec) || perr.Field != "method" {
		t.Fatalf("bad method = %v, want ErrInvalidSpec on 'method'", err)
	}
	removed, err := ctx.RemoveHbaRecords(bg, "15/gohba", []pglift.HbaRecord{record}, pglift.HbaOptions{})
	if err != nil || len(removed.Removed) != 1 {
		t.Fatalf("remove = %+v, %v", removed, err)
	}
	if _, err := ctx.RemoveHbaRecords(bg, "15/gohba", []pglift.HbaRecord{record}, pglift.HbaOptions{}); !errors.Is(err, pglift.ErrNotFound) {
		t.Fatalf("remove again = %v, want ErrNotFound", err)
	}
}
