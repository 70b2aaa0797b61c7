// Package pglift manages PostgreSQL instances through libpglift's C ABI (cgo, no dependencies).
//
// A Context owns one goroutine that drains the library's event queue: it completes the channel of
// each operation when its OP_DONE event comes, and hands log and progress events to OnEvent. No C
// code ever calls into Go, and errors are values (no thread-local state, no LockOSThread).
//
// Every operation takes a context.Context: cancelling it cancels the operation, which then reverts
// what it did (a half-created instance is removed) before the call returns ErrCancelled.
package pglift

/*
#cgo pkg-config: libpglift
#include <stdlib.h>
#include <pglift/pglift.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Log levels (thresholds for Options.LogLevel) and stop modes.
const (
	LevelDebug   = int(C.PGLIFT_LOG_DEBUG)
	LevelInfo    = int(C.PGLIFT_LOG_INFO)
	LevelWarning = int(C.PGLIFT_LOG_WARNING)
	LevelError   = int(C.PGLIFT_LOG_ERROR)
	LevelOff     = int(C.PGLIFT_LOG_OFF)

	StopSmart     = int(C.PGLIFT_STOP_SMART)
	StopFast      = int(C.PGLIFT_STOP_FAST)
	StopImmediate = int(C.PGLIFT_STOP_IMMEDIATE)
)

// Event kinds and op states.
const (
	EventOpDone   = int(C.PGLIFT_EVENT_OP_DONE)
	EventLog      = int(C.PGLIFT_EVENT_LOG)
	EventProgress = int(C.PGLIFT_EVENT_PROGRESS)
	// EventData is an item of a streaming op (StreamLogs, WatchCluster): those go to the stream's
	// channel, never to OnEvent.
	EventData = int(C.PGLIFT_EVENT_DATA)

	OpPending   = int(C.PGLIFT_OP_PENDING)
	OpSucceeded = int(C.PGLIFT_OP_SUCCEEDED)
	OpFailed    = int(C.PGLIFT_OP_FAILED)
	OpCancelled = int(C.PGLIFT_OP_CANCELLED)
)

// Version is the version of the loaded library.
func Version() string { return C.GoString(C.pglift_version()) }

// Event is a log record, a progress step or an operation's end, copied out of the library.
type Event struct {
	Kind    int    // EventOpDone, EventLog, EventProgress (EventData goes to its Stream)
	Tag     uint64 // the operation's tag (0: a blocking C call)
	Level   int    // EventLog: LevelDebug...LevelError
	Target  string // EventLog: the logger, e.g. "pglift.instances"
	Message string // EventLog: the message; EventProgress: the step title; EventOpDone: the error
	Phase   int    // EventProgress: 0 begin, 1 end
	OpState int    // EventOpDone: OpSucceeded, OpFailed, OpCancelled
	Status  Status // EventOpDone: the op's status
}

// Options of NewContext; the zero value loads settings from the environment and logs at INFO.
type Options struct {
	// SettingsJSON, when set, replaces the environment (SETTINGS, PGLIFT_CONFIG_DIR, ...).
	SettingsJSON []byte
	// LogLevel is the threshold of the log events queued (0: LevelInfo).
	LogLevel int
	// OnEvent receives log and progress events, on the context's draining goroutine: return quickly.
	OnEvent func(Event)
	// StreamWindow is the window of the streams started on this context (0: 256; negative:
	// ErrInvalidSpec, Field "StreamWindow"): the most items a stream holds that its reader has not
	// received. A stream whose window is full stops its producer in the library, losing nothing, until
	// its reader takes an item; the draining goroutine never waits for a reader, so the context's other
	// operations go on meanwhile.
	StreamWindow int
}

// Context is a libpglift context. Safe for concurrent use, Close included: calls made once Close has
// begun fail with ErrClosed.
type Context struct {
	// use guards c: a call holds it for reading while it uses the C context, Close for writing when it
	// takes the context away (then frees it). c is nil once closed.
	use     sync.RWMutex
	c       *C.pglift_ctx
	dropped uint64 // DroppedEvents, as Close found it
	closing atomic.Bool
	closeMu sync.Mutex // one Close at a time

	onEvent func(Event)
	nextTag atomic.Uint64
	drained chan struct{}
	closed  chan struct{} // closed when Close begins: the streams free what they hold

	streamWindow int // the capacity of a stream's sink: its window (streams.go)

	mu      sync.Mutex
	waiting map[uint64]chan struct{}
	streams map[uint64]*sink // the streaming ops' items, by tag (streams.go)
}

// NewContext creates a context and starts its draining goroutine. libpglift refuses root.
func NewContext(opts Options) (*Context, error) {
	var settings *C.pglift_settings
	var e *C.pglift_error
	if opts.SettingsJSON != nil {
		doc := C.CBytes(opts.SettingsJSON)
		defer C.free(doc)
		if err := check(C.pglift_settings_from_json((*C.char)(doc), C.size_t(len(opts.SettingsJSON)), &settings, &e), e); err != nil {
			return nil, err
		}
		defer C.pglift_settings_free(settings)
	}
	var c *C.pglift_ctx
	if err := check(C.pglift_ctx_new(settings, &c, &e), e); err != nil {
		return nil, err
	}
	level := opts.LogLevel
	if level == 0 {
		level = LevelInfo
	}
	if err := check(C.pglift_ctx_set_log_level(c, C.int(level), &e), e); err != nil {
		C.pglift_ctx_free(c)
		return nil, err
	}
	window := opts.StreamWindow
	if window < 0 {
		C.pglift_ctx_free(c)
		return nil, &Error{Code: StatusInvalidSpec, Message: fmt.Sprintf("StreamWindow: %d is not a window (0: 256, or at least 1)", window),
			Field: "StreamWindow", ExitStatus: -1}
	}
	if window == 0 {
		window = 256
	}
	if err := check(C.pglift_ctx_set_stream_window(c, C.size_t(window), &e), e); err != nil {
		C.pglift_ctx_free(c)
		return nil, err
	}
	ctx := &Context{c: c, onEvent: opts.OnEvent, drained: make(chan struct{}), closed: make(chan struct{}),
		streamWindow: window, waiting: map[uint64]chan struct{}{}, streams: map[uint64]*sink{}}
	go ctx.drain(c)
	return ctx, nil
}

// ErrClosed is the error of a call on a Context once its Close has begun.
var ErrClosed = &Error{Code: StatusInvalidArgument, Message: "the context is closed", ExitStatus: -1}

// withC runs use with the C context, which Close cannot free meanwhile; ErrClosed once Close began.
func (ctx *Context) withC(use func(c *C.pglift_ctx) error) error {
	ctx.use.RLock()
	defer ctx.use.RUnlock()
	if ctx.c == nil || ctx.closing.Load() {
		return ErrClosed
	}
	return use(ctx.c)
}

// drain takes every event: OP_DONE closes the operation's channel (and ends its stream), DATA goes,
// still alive, to the stream of its tag (never waiting for it), the others to OnEvent.
// It blocks in C (one OS thread) until Close wakes it. It holds no lock on c (Close would wait for
// it forever): Close frees c only after this goroutine has returned.
func (ctx *Context) drain(c *C.pglift_ctx) {
	defer close(ctx.drained)
	for {
		var ev *C.pglift_event
		if C.pglift_ctx_next_event(c, -1, &ev) != 1 {
			if ctx.closing.Load() {
				return
			}
			continue
		}
		event := Event{
			Kind:    int(C.pglift_event_kind_of(ev)),
			Tag:     uint64(C.pglift_event_tag(ev)),
			Level:   int(C.pglift_event_log_level(ev)),
			Target:  C.GoString(C.pglift_event_target(ev)),
			Message: C.GoString(C.pglift_event_message(ev)),
			Phase:   int(C.pglift_event_progress_phase(ev)),
			OpState: int(C.pglift_event_op_state(ev)),
			Status:  Status(C.pglift_event_status(ev)),
		}
		if event.Kind == EventData && ctx.deliver(event.Tag, event.Message, ev) {
			continue // kept alive by its stream until its reader has the item (streams.go)
		}
		C.pglift_event_free(ev)
		switch {
		case event.Kind == EventOpDone:
			ctx.mu.Lock()
			done := ctx.waiting[event.Tag]
			delete(ctx.waiting, event.Tag)
			stream := ctx.streams[event.Tag]
			delete(ctx.streams, event.Tag)
			ctx.mu.Unlock()
			if done != nil {
				close(done)
			}
			if stream != nil { // every DATA event of the op came before its OP_DONE
				stream.end()
			}
		case ctx.onEvent != nil:
			ctx.onEvent(event)
		}
	}
}

// Close cancels pending operations, waits for their reverts and frees the context. Operations still
// awaited then end with ErrCancelled (streams too: the items their readers have not received are
// dropped, their channels close); calls made from other goroutines once Close has begun fail with
// ErrClosed, and Close waits for those already using the C context. A second Close is a no-op. Not
// from OnEvent (Close waits for the goroutine that runs it).
func (ctx *Context) Close() {
	ctx.closeMu.Lock()
	defer ctx.closeMu.Unlock()
	if ctx.closing.Load() {
		return
	}
	ctx.closing.Store(true) // new calls fail from now on
	close(ctx.closed)       // the streams free what they hold and no longer await their readers
	c := ctx.c              // only Close changes it, and closeMu is ours
	C.pglift_ctx_wakeup(c)
	<-ctx.drained
	ctx.use.Lock() // calls still using c end first
	ctx.dropped = uint64(C.pglift_ctx_dropped_events(c))
	ctx.c = nil
	ctx.use.Unlock()
	C.pglift_ctx_free(c) // pending ops end (cancelled) before this returns
	ctx.mu.Lock()
	for tag, done := range ctx.waiting {
		close(done)
		delete(ctx.waiting, tag)
	}
	for tag, stream := range ctx.streams { // the drain has returned: nobody else sends on them
		stream.end()
		delete(ctx.streams, tag)
	}
	ctx.mu.Unlock()
}

// DroppedEvents counts the log and progress events dropped because the queue was full (after Close:
// the count at Close).
func (ctx *Context) DroppedEvents() uint64 {
	ctx.use.RLock()
	defer ctx.use.RUnlock()
	if ctx.c == nil {
		return ctx.dropped
	}
	return uint64(C.pglift_ctx_dropped_events(ctx.c))
}

// Op is an operation started asynchronously; its Done channel closes when it ends.
type Op struct {
	op   *C.pglift_op
	tag  uint64
	done chan struct{}
	once sync.Once
}

// Done is closed when the operation has ended.
func (op *Op) Done() <-chan struct{} { return op.done }

// Tag is the tag that the operation's events carry.
func (op *Op) Tag() uint64 { return op.tag }

// Cancel requests cancellation: a mutation reverts, then the op ends with ErrCancelled.
func (op *Op) Cancel() { C.pglift_op_cancel(op.op) }

// State is OpPending, OpSucceeded, OpFailed or OpCancelled.
func (op *Op) State() int { return int(C.pglift_op_state_of(op.op)) }

// Result is the result JSON of a succeeded op (nil for operations without a result), or its error.
func (op *Op) Result() ([]byte, error) {
	switch op.State() {
	case OpPending:
		return nil, &Error{Code: StatusState, Message: "the operation is still pending", ExitStatus: -1}
	case OpSucceeded:
		if r := C.pglift_op_result(op.op); r != nil {
			return []byte(C.GoString(r)), nil
		}
		return nil, nil
	default:
		return nil, errorFrom(C.pglift_op_error(op.op), C.PGLIFT_E_INTERNAL)
	}
}

// Free releases the op, cancelling it if still pending.
func (op *Op) Free() { op.once.Do(func() { C.pglift_op_free(op.op) }) }

// WriteOptions are the options of the role, database and configuration writes: the …With methods
// (CreateRoleWith, AlterDatabaseWith, ConfigureTextWith, ...) and Configure.
type WriteOptions struct {
	// DryRun checks what can be checked without making the change (names, values, existence,
	// references, a standby's read-only state, the instance's lock), logs what would be done with
	// "(dry run: nothing changed)", and changes nothing.
	DryRun bool
}

func (o WriteOptions) flags() C.uint32_t {
	if o.DryRun {
		return C.PGLIFT_OP_DRY_RUN
	}
	return C.PGLIFT_OP_DEFAULT
}

// asyncCall is a *_async function of the C ABI, bound to its arguments but the context.
type asyncCall func(c *C.pglift_ctx, tag C.uint64_t, out **C.pglift_op, e **C.pglift_error) C.int

// start registers a tag, then calls the *_async function: the channel exists before OP_DONE can come.
// Close waits for it (the op, once started, outlives the context).
func (ctx *Context) start(call asyncCall) (*Op, error) { return ctx.startStreaming(call, nil) }

// startStreaming is start for a streaming op: its sink too is registered before the call, the DATA
// events being able to come before the call returns.
func (ctx *Context) startStreaming(call asyncCall, stream *sink) (*Op, error) {
	var started *Op
	err := ctx.withC(func(c *C.pglift_ctx) error {
		tag := ctx.nextTag.Add(1)
		done := make(chan struct{})
		ctx.mu.Lock()
		ctx.waiting[tag] = done
		if stream != nil {
			ctx.streams[tag] = stream
		}
		ctx.mu.Unlock()
		var op *C.pglift_op
		var e *C.pglift_error
		if err := check(call(c, C.uint64_t(tag), &op, &e), e); err != nil {
			ctx.mu.Lock()
			delete(ctx.waiting, tag) // a failed call delivers nothing
			delete(ctx.streams, tag)
			ctx.mu.Unlock()
			return err
		}
		started = &Op{op: op, tag: tag, done: done}
		return nil
	})
	return started, err
}

// await waits for the op, cancelling it (and waiting for its revert) when cctx is cancelled.
func await(cctx context.Context, op *Op, out any) error {
	defer op.Free()
	select {
	case <-op.Done():
	case <-cctx.Done():
		op.Cancel()
		<-op.Done()
	}
	result, err := op.Result()
	if err != nil || out == nil || result == nil {
		return err
	}
	return json.Unmarshal(result, out)
}

func cstring(s string) (*C.char, func()) {
	p := C.CString(s)
	return p, func() { C.free(unsafe.Pointer(p)) }
}
