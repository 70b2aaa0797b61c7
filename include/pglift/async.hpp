// Asio completion-token faces of the operations: callback, use_future, use_awaitable, deferred...
// async_<verb>(ctx, args..., token) with signature void(std::exception_ptr[, Result]).
// The completion runs on the handler's associated executor; its cancellation slot cancels the operation.
#pragma once
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include "pglift/apply.hpp"
#include "pglift/operations.hpp"

namespace pglift {
namespace detail {

template <class... R>
struct Initiation {
  template <class Handler, class Launch>
  void operator()(Handler&& handler, Launch launch) const {
    namespace asio = boost::asio;
    auto slot = asio::get_associated_cancellation_slot(handler);
    auto work = asio::make_work_guard(asio::get_associated_executor(handler));
    Operation op = launch(Callback<R...>(
        [h = std::forward<Handler>(handler), w = std::move(work)](std::exception_ptr e, R... r) mutable {
          auto ex = w.get_executor();
          asio::dispatch(ex, [h = std::move(h), e, ... r = std::move(r)]() mutable { std::move(h)(e, std::move(r)...); });
        }));
    if (slot.is_connected()) slot.assign([op](asio::cancellation_type) { op.cancel(); });
  }
};

template <class Token, class... R, class Launch>
auto initiate(Token&& token, Launch launch) {
  return boost::asio::async_initiate<Token, void(std::exception_ptr, R...)>(Initiation<R...>{}, token, std::move(launch));
}

}  // namespace detail

template <class Token>
auto async_create_instance(Context& ctx, InstanceSpec spec, CreateOptions options, Token&& token) {
  return detail::initiate<Token, Instance>(std::forward<Token>(token), [&ctx, spec = std::move(spec), options](auto cb) mutable {
    return start_create_instance(ctx, std::move(spec), options, std::move(cb));
  });
}
template <class Token>
auto async_get_instance(Context& ctx, InstanceRef ref, Token&& token) {
  return detail::initiate<Token, Instance>(std::forward<Token>(token), [&ctx, ref = std::move(ref)](auto cb) mutable {
    return start_get_instance(ctx, std::move(ref), std::move(cb));
  });
}
template <class Token>
auto async_list_instances(Context& ctx, std::optional<std::string> version, Token&& token) {
  return detail::initiate<Token, std::vector<InstanceListItem>>(
      std::forward<Token>(token), [&ctx, version = std::move(version)](auto cb) mutable {
        return start_list_instances(ctx, std::move(version), std::move(cb));
      });
}
template <class Token>
auto async_instance_status(Context& ctx, InstanceRef ref, Token&& token) {
  return detail::initiate<Token, InstanceStatus>(std::forward<Token>(token), [&ctx, ref = std::move(ref)](auto cb) mutable {
    return start_instance_status(ctx, std::move(ref), std::move(cb));
  });
}
template <class Token>
auto async_start_instance(Context& ctx, InstanceRef ref, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, ref = std::move(ref)](auto cb) mutable {
    return start_start_instance(ctx, std::move(ref), std::move(cb));
  });
}
template <class Token>
auto async_stop_instance(Context& ctx, InstanceRef ref, StopMode mode, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, ref = std::move(ref), mode](auto cb) mutable {
    return start_stop_instance(ctx, std::move(ref), mode, std::move(cb));
  });
}
template <class Token>
auto async_restart_instance(Context& ctx, InstanceRef ref, StopMode mode, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, ref = std::move(ref), mode](auto cb) mutable {
    return start_restart_instance(ctx, std::move(ref), mode, std::move(cb));
  });
}
template <class Token>
auto async_reload_instance(Context& ctx, InstanceRef ref, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, ref = std::move(ref)](auto cb) mutable {
    return start_reload_instance(ctx, std::move(ref), std::move(cb));
  });
}
template <class Token>
auto async_drop_instance(Context& ctx, InstanceRef ref, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, ref = std::move(ref)](auto cb) mutable {
    return start_drop_instance(ctx, std::move(ref), std::move(cb));
  });
}

template <class Token>
auto async_alter_instance(Context& ctx, InstanceRef ref, InstanceChanges changes, ApplyOptions options, Token&& token) {
  return detail::initiate<Token, ApplyResult>(
      std::forward<Token>(token), [&ctx, ref = std::move(ref), changes = std::move(changes), options](auto cb) mutable {
        return start_alter_instance(ctx, std::move(ref), std::move(changes), options, std::move(cb));
      });
}
template <class Token>
auto async_apply_instance(Context& ctx, InstanceManifest manifest, ApplyOptions options, Token&& token) {
  return detail::initiate<Token, ApplyResult>(
      std::forward<Token>(token), [&ctx, manifest = std::move(manifest), options](auto cb) mutable {
        return start_apply_instance(ctx, std::move(manifest), options, std::move(cb));
      });
}

}  // namespace pglift
