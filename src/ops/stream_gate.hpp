// The producer's side of a StreamGate: waiting, cancellably, while the consumer holds it.
#pragma once
#include "core/asio.hpp"
#include "pglift/streams.hpp"

namespace pglift::ops {

/// Returns at once when the gate is open; else when it is released. Cancelled with the awaiting
/// coroutine (Cancelled).
awaitable<void> pass(const StreamGate& gate);

}  // namespace pglift::ops
