package pglift

/*
#include <stdlib.h>
#include <pglift/pglift.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"unsafe"
)

// Streams (PGLIFT_HAS_DATA_EVENTS, PGLIFT_HAS_STREAM_WINDOW): a streaming op delivers its items as
// DATA events. The context's draining goroutine takes them like every other event and hands each,
// with its C event still alive, to the stream's own goroutine, which sends the item on the stream's
// channel and frees the C event once the reader has received it. The library lets at most a window
// (Options.StreamWindow) of a stream's events be alive at once, so a stream holds at most that many
// items and the draining goroutine never waits for a reader: a stream nobody reads stops its producer
// in the library, losing nothing, while the context's other operations go on. Cancelling the stream's
// context.Context cancels the op and frees the items not yet received; the channel then closes.

// Stream is a running streaming operation. Its items arrive on C, in order, which closes when the
// operation has ended; Err then tells why.
type Stream[T any] struct {
	// C receives the items; it is closed once the operation has ended (after its last item).
	C <-chan T

	op    *Op
	ended chan struct{} // closed once err is set and the op freed
	err   error
}

// Err waits for the operation's end (read C until it closes first: the operation may be waiting for
// its reader, its window being full) and returns why it ended: nil when it ended by itself (a log read
// without following) or because the stream's context.Context was cancelled (the op is then cancelled;
// see that context's Err), else the operation's error (ErrState: not a Patroni member, ErrDCS: etcd
// gone...), or the decoding error of an item (the op is then cancelled).
func (s *Stream[T]) Err() error {
	<-s.ended
	return s.err
}

// Tag is the tag that the operation's events carry.
func (s *Stream[T]) Tag() uint64 { return s.op.Tag() }

// held is a DATA event taken from the C queue and kept alive (it counts in the op's window) until the
// stream's reader has received its item.
type held struct {
	message string
	ev      *C.pglift_event
}

// sink is a stream as the draining goroutine sees it, by tag (Context.streams).
type sink struct {
	// in holds the stream's events not yet received by its reader: its capacity is the stream's window,
	// so that the draining goroutine never waits on it (the library keeps at most a window of them
	// alive, one of which may be in the stream goroutine's hands).
	in       chan held
	stop     chan struct{} // closed: nothing more is wanted (cancelled, or an item did not decode)
	stopOnce sync.Once
}

func (s *sink) halt() { s.stopOnce.Do(func() { close(s.stop) }) }

// end closes in: the op has ended (its OP_DONE came after all its DATA events), or the context is
// closing. Only the draining goroutine, or Close once it has returned, calls it.
func (s *sink) end() { close(s.in) }

// deliver hands a DATA event, still alive, to the stream of its tag; false when no stream has the tag
// (the caller then frees it). It does not wait: the stream's window bounds what in holds. (The select
// on stop and closed only guards against a library that broke its window.)
func (ctx *Context) deliver(tag uint64, message string, ev *C.pglift_event) bool {
	ctx.mu.Lock()
	stream := ctx.streams[tag]
	ctx.mu.Unlock()
	if stream == nil {
		return false
	}
	select {
	case stream.in <- held{message, ev}:
	case <-stream.stop:
		C.pglift_event_free(ev)
	case <-ctx.closed:
		C.pglift_event_free(ev)
	}
	return true
}

// forward is a stream's goroutine: it decodes each held event, sends the item to the reader, then
// frees the event (making room in the op's window). Once the stream is halted or its context closing,
// it frees what it holds and what still comes without sending it. It closes out when in is closed.
func forward[T any](s *sink, closed <-chan struct{}, out chan<- T, decode func(string) (T, error), failed func(error)) {
	defer close(out)
	for h := range s.in {
		select {
		case <-s.stop:
		case <-closed:
		default:
			if item, err := decode(h.message); err != nil {
				failed(err)
				s.halt()
			} else {
				select {
				case out <- item:
				case <-s.stop:
				case <-closed:
				}
			}
		}
		C.pglift_event_free(h.ev)
	}
}

// openStream starts a streaming op whose DATA messages decode into T, its forwarding goroutine, and
// the goroutine that cancels it when cctx is done and records its end.
func openStream[T any](ctx *Context, cctx context.Context, decode func(string) (T, error), call asyncCall) (*Stream[T], error) {
	items := make(chan T) // unbuffered: an item is delivered when the reader has it
	var decodeMu sync.Mutex
	var decodeErr error // set by forward, read once the op has ended
	s := &sink{in: make(chan held, ctx.streamWindow), stop: make(chan struct{})}
	op, err := ctx.startStreaming(call, s)
	if err != nil {
		return nil, err
	}
	go forward(s, ctx.closed, items, decode, func(err error) {
		decodeMu.Lock()
		defer decodeMu.Unlock()
		if decodeErr == nil {
			decodeErr = err
		}
	})
	stream := &Stream[T]{C: items, op: op, ended: make(chan struct{})}
	go func() {
		byUs := false
		select {
		case <-op.Done():
		case <-cctx.Done():
			byUs = true
			s.halt() // what the stream holds is freed, the reader no longer awaited
			op.Cancel()
			<-op.Done()
		case <-s.stop: // an item that does not decode
			op.Cancel()
			<-op.Done()
		}
		_, err := op.Result()
		op.Free()
		decodeMu.Lock()
		if decodeErr != nil {
			err = decodeErr
		}
		decodeMu.Unlock()
		if byUs && errors.Is(err, ErrCancelled) {
			err = nil
		}
		stream.err = err
		close(stream.ended)
	}()
	return stream, nil
}

// Logs returns the instance's current PostgreSQL log file as text (not followed), passwords masked as
// in every message of the library. Blocking (the C ABI's streaming form is StreamLogs), run on the
// calling goroutine.
func (ctx *Context) Logs(instance string) (string, error) {
	return ctx.blockingText(instance, func(c *C.pglift_ctx, n *C.char, out **C.char, e **C.pglift_error) C.int {
		return C.pglift_instance_logs(c, n, out, e)
	})
}

// StreamLogs streams the instance's current PostgreSQL log file: each item is a chunk of whole lines
// (but a line over 64 KiB), passwords masked. follow false: the stream ends after the file's current
// content (Err nil). follow true: it goes on as PostgreSQL writes (across log rotations) until cctx is
// cancelled.
func (ctx *Context) StreamLogs(cctx context.Context, instance string, follow bool) (*Stream[string], error) {
	name, free := cstring(instance)
	defer free()
	f := C.int(0)
	if follow {
		f = 1
	}
	return openStream(ctx, cctx, func(m string) (string, error) { return m, nil },
		func(c *C.pglift_ctx, tag C.uint64_t, out **C.pglift_op, e **C.pglift_error) C.int {
			return C.pglift_instance_logs_async(c, name, f, tag, out, e)
		})
}

// FollowLogs is StreamLogs following the log until cctx is cancelled:
//
//	logs, err := ctx.FollowLogs(cctx, "15/main")
//	for chunk := range logs.C { ... } // cancel cctx to end it
func (ctx *Context) FollowLogs(cctx context.Context, instance string) (*Stream[string], error) {
	return ctx.StreamLogs(cctx, instance, true)
}

// ClusterEvent is a change of a Patroni cluster seen in its DCS.
//
//	Kind             Member           Before / After
//	leader_changed   the new leader   the leaders (nil: none); Member is the old one when none leads
//	member_added     the member       - / its role ("primary", "replica"...)
//	member_removed   the member       its role / -
//	role_changed     the member       the roles
//	state_changed    the member       the states ("running", "stopped"...)
//	paused, resumed  ""               -
type ClusterEvent struct {
	Kind     string  `json:"kind"`
	Member   string  `json:"member"`
	Before   *string `json:"before"`
	After    *string `json:"after"`
	Revision int64   `json:"revision"` // the etcd revision of the change
}

// WatchCluster watches the Patroni cluster of member instance in its DCS (etcd's watch API): first
// events describing the current state (member_added for each member, leader_changed from nil, paused
// when paused), then one per change, until cctx is cancelled. A broken etcd connection is resumed from
// the last revision seen (nothing lost or repeated); etcd gone for more than 30 s ends the stream with
// ErrDCS; not a Patroni member: ErrState.
func (ctx *Context) WatchCluster(cctx context.Context, instance string) (*Stream[ClusterEvent], error) {
	name, free := cstring(instance)
	defer free()
	decode := func(m string) (ClusterEvent, error) {
		var e ClusterEvent
		err := json.Unmarshal([]byte(m), &e)
		return e, err
	}
	return openStream(ctx, cctx, decode, func(c *C.pglift_ctx, tag C.uint64_t, out **C.pglift_op, e **C.pglift_error) C.int {
		return C.pglift_cluster_watch_async(c, name, tag, out, e)
	})
}

// blockingText runs a blocking C call giving a string (freed with pglift_free) on the calling goroutine.
func (ctx *Context) blockingText(instance string, call func(c *C.pglift_ctx, n *C.char, out **C.char, e **C.pglift_error) C.int) (string, error) {
	name, free := cstring(instance)
	defer free()
	var text string
	err := ctx.withC(func(c *C.pglift_ctx) error {
		var out *C.char
		var e *C.pglift_error
		if err := check(call(c, name, &out, &e), e); err != nil {
			return err
		}
		defer C.pglift_free(unsafe.Pointer(out))
		text = C.GoString(out)
		return nil
	})
	return text, err
}
