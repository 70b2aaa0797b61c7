// Asio for the coroutine TUs (not Beast: that stays in src/net). Include only from .cpp files.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace pglift {
namespace asio = boost::asio;
template <class T = void>
using awaitable = asio::awaitable<T>;
using namespace asio::experimental::awaitable_operators;
}  // namespace pglift
