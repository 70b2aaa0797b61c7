package pglift_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/pglift"
)

// collector reads a stream's channel on its own goroutine until it closes.
type collector struct {
	mu     sync.Mutex
	chunks []string
	closed chan struct{}
}

func collect(c <-chan string) *collector {
	col := &collector{closed: make(chan struct{})}
	go func() {
		defer close(col.closed)
		for chunk := range c {
			col.mu.Lock()
			col.chunks = append(col.chunks, chunk)
			col.mu.Unlock()
		}
	}()
	return col
}

func (col *collector) text() string {
	col.mu.Lock()
	defer col.mu.Unlock()
	return strings.Join(col.chunks, "")
}

// waitFor polls cond (a stream fed by another goroutine) until the deadline: false if it never held.
func waitFor(deadline time.Duration, cond func() bool) bool {
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			return false
		}
		time.Sleep(20 * time.Millisecond) // polling what another goroutine appends
	}
	return true
}

func closedWithin(c <-chan struct{}, d time.Duration) bool {
	select {
	case <-c:
		return true
	case <-time.After(d):
		return false
	}
}

// TestLogsAndAsyncForms: on a plain instance logging every statement, FollowLogs sees a statement's
// line and ends (Err nil) when its context is cancelled; StreamLogs without following ends by itself;
// Logs and LogFile give the file; a stream whose channel is full holds its producer back and loses no
// line; Close ends a stream nobody reads; WatchCluster on a plain instance ends with ErrState; the
// reads and configure_text through their async twins.
func TestLogsAndAsyncForms(t *testing.T) {
	ctx, err := pglift.NewContext(pglift.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	bg, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const inst = "15/golog"
	if _, err := ctx.Create(bg, pglift.InstanceSpec{Name: "golog", Version: "15", Port: freePort(t),
		Settings: map[string]any{"log_statement": "all"}}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := ctx.Drop(context.Background(), inst); err != nil {
			t.Error(err)
		}
	}()
	sql := func(ctx *pglift.Context, statement string) {
		t.Helper()
		if _, err := ctx.RunSQL(bg, inst, statement, pglift.DatabaseSelection{Databases: []string{"postgres"}}); err != nil {
			t.Fatalf("%s: %v", statement, err)
		}
	}

	// Following: the statement run after the stream began shows, then cancelling ends the stream.
	followCtx, stopFollowing := context.WithCancel(bg)
	defer stopFollowing()
	logs, err := ctx.FollowLogs(followCtx, inst)
	if err != nil {
		t.Fatalf("FollowLogs: %v", err)
	}
	col := collect(logs.C)
	sql(ctx, "SELECT 'go-follow-marker'")
	if !waitFor(30*time.Second, func() bool { return strings.Contains(col.text(), "statement: SELECT 'go-follow-marker'") }) {
		t.Fatalf("the followed log has no line of the statement after 30 s: %q", col.text())
	}
	stopFollowing()
	if !closedWithin(col.closed, 30*time.Second) {
		t.Fatal("the stream's channel is still open 30 s after its context was cancelled")
	}
	if err := logs.Err(); err != nil {
		t.Fatalf("Err of a stream ended by its context: %v, want nil", err)
	}

	// Not following: the current content, then the end by itself.
	whole, err := ctx.StreamLogs(bg, inst, false)
	if err != nil {
		t.Fatalf("StreamLogs: %v", err)
	}
	col = collect(whole.C)
	if !closedWithin(col.closed, 60*time.Second) {
		t.Fatal("a log stream without following did not end in 60 s")
	}
	if err := whole.Err(); err != nil || !strings.Contains(col.text(), "statement: SELECT 'go-follow-marker'") {
		t.Fatalf("StreamLogs(follow false): %v, %d bytes without the statement", err, len(col.text()))
	}
	text, err := ctx.Logs(inst)
	if err != nil || !strings.Contains(text, "statement: SELECT 'go-follow-marker'") {
		t.Fatalf("Logs: %v, %d bytes without the statement", err, len(text))
	}
	path, err := ctx.LogFile(bg, inst)
	if err != nil {
		t.Fatalf("LogFile: %v", err)
	}
	if info, err := os.Stat(path); err != nil || info.Size() == 0 {
		t.Fatalf("LogFile %s: %v, %v", path, info, err)
	}
	if _, err := ctx.LogFile(bg, "15/nosuch"); !errors.Is(err, pglift.ErrNotFound) {
		t.Fatalf("LogFile(nosuch) = %v, want ErrNotFound", err)
	}

	// Back-pressure: a stream with a window of one item, unread while another context logs 30 statements;
	// then every one arrives, once, in order. Close then ends a stream nobody reads.
	slow, err := pglift.NewContext(pglift.Options{StreamWindow: 1})
	if err != nil {
		t.Fatal(err)
	}
	slowClosed := false
	defer func() {
		if !slowClosed {
			slow.Close()
		}
	}()
	held, err := slow.FollowLogs(bg, inst)
	if err != nil {
		t.Fatalf("FollowLogs (window 1): %v", err)
	}
	for i := 0; i < 30; i++ {
		sql(ctx, fmt.Sprintf("SELECT 'go-held-%02d'", i))
	}
	col = collect(held.C)
	last := "statement: SELECT 'go-held-29'"
	if !waitFor(30*time.Second, func() bool { return strings.Contains(col.text(), last) }) {
		t.Fatalf("the held stream never delivered %q: %q", last, col.text())
	}
	got := col.text()
	at := -1
	for i := 0; i < 30; i++ {
		line := fmt.Sprintf("statement: SELECT 'go-held-%02d'", i)
		if strings.Count(got, line) != 1 {
			t.Fatalf("%q appears %d times in the held stream", line, strings.Count(got, line))
		}
		next := strings.Index(got, line)
		if next < at {
			t.Fatalf("%q out of order in the held stream", line)
		}
		at = next
	}
	unread, err := slow.FollowLogs(bg, inst) // never read: its producer waits in the library
	if err != nil {
		t.Fatalf("FollowLogs (unread): %v", err)
	}
	for i := 0; i < 5; i++ {
		sql(ctx, fmt.Sprintf("SELECT 'go-unread-%02d'", i))
	}
	closed := make(chan struct{})
	go func() { slow.Close(); close(closed) }()
	if !closedWithin(closed, 60*time.Second) {
		t.Fatal("Close did not return in 60 s with a stream nobody reads")
	}
	slowClosed = true
	for range unread.C { // closed by Close
	}
	if err := unread.Err(); !errors.Is(err, pglift.ErrCancelled) {
		t.Fatalf("Err of a stream ended by Close: %v, want ErrCancelled", err)
	}
	if !closedWithin(col.closed, 10*time.Second) || !errors.Is(held.Err(), pglift.ErrCancelled) {
		t.Fatalf("the read stream after Close: %v, want closed and ErrCancelled", held.Err())
	}

	// The window: a follow stream with a window of 4, unread while 30 statements are logged, each
	// statement over 20 KB so that the log gives it more than 4 items whatever the chunking (an item is
	// at most about 64 KiB of whole lines). Its producer waits in the library, and the context's other
	// operations complete meanwhile (a Get, under a deadline); then reading gives every marker once, in
	// order. A stream whose window is full and that nobody reads ends when its context is cancelled.
	windowed, err := pglift.NewContext(pglift.Options{StreamWindow: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer windowed.Close()
	heldCtx, stopHeld := context.WithCancel(bg)
	defer stopHeld()
	full, err := windowed.FollowLogs(heldCtx, inst)
	if err != nil {
		t.Fatalf("FollowLogs (window 4): %v", err)
	}
	pad := strings.Repeat("w", 20000)
	for i := 0; i < 30; i++ {
		sql(ctx, fmt.Sprintf("SELECT 'go-window-%02d' /* %s */", i, pad))
	}
	// Awaited on its own goroutine under an outer deadline: if the context were stalled, the Get's own
	// cancellation could not complete either.
	got2 := make(chan error, 1)
	go func() {
		getCtx, cancelGet := context.WithTimeout(bg, 20*time.Second)
		defer cancelGet()
		_, err := windowed.Get(getCtx, inst)
		got2 <- err
	}()
	select {
	case err := <-got2:
		if err != nil {
			t.Fatalf("Get on a context whose stream's window is full: %v, want it done", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Get on a context whose stream's window is full has not completed in 30 s: the context is stalled")
	}
	col = collect(full.C)
	last = "SELECT 'go-window-29'"
	if !waitFor(60*time.Second, func() bool { return strings.Contains(col.text(), last) }) {
		t.Fatalf("the windowed stream never delivered %q (%d bytes)", last, len(col.text()))
	}
	got = col.text()
	at = -1
	for i := 0; i < 30; i++ {
		marker := fmt.Sprintf("statement: SELECT 'go-window-%02d'", i)
		if n := strings.Count(got, marker); n != 1 {
			t.Fatalf("%q appears %d times in the windowed stream", marker, n)
		}
		next := strings.Index(got, marker)
		if next < at {
			t.Fatalf("%q out of order in the windowed stream", marker)
		}
		at = next
	}
	stopHeld()
	if !closedWithin(col.closed, 30*time.Second) {
		t.Fatal("the windowed stream's channel is still open 30 s after its context was cancelled")
	}
	if err := full.Err(); err != nil {
		t.Fatalf("Err of the windowed stream ended by its context: %v, want nil", err)
	}
	// Unread from the start: the log now holds well over 4 items, so its window fills at once.
	unreadCtx, stopUnread := context.WithCancel(bg)
	defer stopUnread()
	stuck, err := windowed.FollowLogs(unreadCtx, inst)
	if err != nil {
		t.Fatalf("FollowLogs (window 4, unread): %v", err)
	}
	if _, err := windowed.Get(bg, inst); err != nil { // the context goes on
		t.Fatalf("Get beside an unread stream: %v", err)
	}
	stopUnread()
	ended := make(chan struct{})
	go func() { _ = stuck.Err(); close(ended) }()
	if !closedWithin(ended, 30*time.Second) {
		t.Fatal("an unread stream whose window is full did not end 30 s after its context was cancelled")
	}
	if err := stuck.Err(); err != nil {
		t.Fatalf("Err of the unread stream ended by its context: %v, want nil", err)
	}
	for range stuck.C { // closes: what it held was dropped
	}
	var werr *pglift.Error
	if bad, err := pglift.NewContext(pglift.Options{StreamWindow: -1}); !errors.As(err, &werr) ||
		werr.Code != pglift.StatusInvalidSpec || werr.Field != "StreamWindow" {
		if bad != nil {
			bad.Close()
		}
		t.Fatalf("NewContext(StreamWindow -1) = %v, want ErrInvalidSpec on StreamWindow", err)
	}

	// A watch of a plain instance: the stream ends with ErrState.
	watch, err := ctx.WatchCluster(bg, inst)
	if err != nil {
		t.Fatalf("WatchCluster (plain): %v", err)
	}
	for e := range watch.C {
		t.Errorf("WatchCluster on a plain instance: %+v", e)
	}
	if err := watch.Err(); !errors.Is(err, pglift.ErrState) {
		t.Fatalf("WatchCluster on a plain instance: %v, want ErrState", err)
	}
	if _, err := ctx.FollowLogs(bg, "15//x"); !errors.Is(err, pglift.ErrInvalidSpec) {
		t.Fatalf("FollowLogs(bad name) = %v, want ErrInvalidSpec", err)
	}

	// The async twins: Parameters, ParametersText, ConfigureText(With).
	params, err := ctx.Parameters(bg, inst)
	if err != nil || params["log_statement"] != "all" {
		t.Fatalf("Parameters = %v, %v, want log_statement all", params, err)
	}
	paramsText, err := ctx.ParametersText(bg, inst)
	if err != nil || !strings.Contains(paramsText, "log_statement = 'all'\n") {
		t.Fatalf("ParametersText = %q, %v", paramsText, err)
	}
	var kept []string
	for _, line := range strings.SplitAfter(paramsText, "\n") {
		if !strings.HasPrefix(line, "work_mem ") {
			kept = append(kept, line)
		}
	}
	withWorkMem := strings.Join(kept, "") + "work_mem = '6MB'\n"
	dry, err := ctx.ConfigureTextWith(bg, inst, withWorkMem, pglift.WriteOptions{DryRun: true})
	if err != nil || len(dry.Changes) != 1 || dry.Reloaded {
		t.Fatalf("ConfigureTextWith(dry run) = %+v, %v", dry, err)
	}
	if now, err := ctx.Parameters(bg, inst); err != nil || now["work_mem"] != params["work_mem"] {
		t.Fatalf("after a dry run: work_mem %v, %v, want %v", now["work_mem"], err, params["work_mem"])
	}
	done, err := ctx.ConfigureText(bg, inst, withWorkMem)
	if err != nil || string(done.Changes["work_mem"][1]) != `"6MB"` || !done.Reloaded {
		t.Fatalf("ConfigureText = %+v, %v", done, err)
	}
	if now, err := ctx.Parameters(bg, inst); err != nil || now["work_mem"] != "6MB" {
		t.Fatalf("after ConfigureText: work_mem %v, %v, want 6MB", now["work_mem"], err)
	}
	var perr *pglift.Error
	if _, err := ctx.ConfigureText(bg, inst, "include 'x.conf'\n"); !errors.As(err, &perr) || perr.Field != "line 1" {
		t.Fatalf("ConfigureText(include) = %v, want ErrInvalidSpec on 'line 1'", err)
	}
	if _, err := ctx.PatroniCredentials(bg, inst); !errors.Is(err, pglift.ErrState) {
		t.Fatalf("PatroniCredentials(plain) = %v, want ErrState", err)
	}
	if _, err := ctx.PatroniConfig(bg, inst); !errors.Is(err, pglift.ErrState) {
		t.Fatalf("PatroniConfig(plain) = %v, want ErrState", err)
	}
	if c, err := ctx.GetCluster(bg, inst); err == nil {
		t.Fatalf("GetCluster(plain) = %+v, want an error", c)
	}
}
