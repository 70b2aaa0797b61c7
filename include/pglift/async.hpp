// Asio completion-token faces of the operations: callback, use_future, use_awaitable, deferred...
// async_<verb>(ctx, args..., token) with signature void(std::exception_ptr[, Result]).
// The completion runs on the handler's associated executor; its cancellation slot cancels the operation.
#pragma once
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include "pglift/databases.hpp"  // databases
#include "pglift/hba.hpp"
#include "pglift/apply.hpp"
#include "pglift/cluster.hpp"  // cluster
#include "pglift/operations.hpp"
#include "pglift/patroni_config.hpp"
#include "pglift/roles.hpp"

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
auto async_start_instance(Context& ctx, InstanceRef ref, StartOptions options, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, ref = std::move(ref), options](auto cb) mutable {
    return start_start_instance(ctx, std::move(ref), options, std::move(cb));
  });
}
template <class Token>
auto async_drop_instance(Context& ctx, InstanceRef ref, DropOptions options, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, ref = std::move(ref), options](auto cb) mutable {
    return start_drop_instance(ctx, std::move(ref), options, std::move(cb));
  });
}
template <class Token>
auto async_promote_instance(Context& ctx, InstanceRef ref, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, ref = std::move(ref)](auto cb) mutable {
    return start_promote_instance(ctx, std::move(ref), std::move(cb));
  });
}
/// `options` carries the tag and dry_run (configure_instance is dry-runnable).
template <class Token>
auto async_configure_instance(Context& ctx, InstanceRef ref, ParameterChanges changes, OpOptions options, Token&& token) {
  return detail::initiate<Token, ConfigurationResult>(
      std::forward<Token>(token), [&ctx, ref = std::move(ref), changes = std::move(changes), options](auto cb) mutable {
        return start_configure_instance(ctx, std::move(ref), std::move(changes), std::move(cb), options);
      });
}
template <class Token>
auto async_configure_instance(Context& ctx, InstanceRef ref, ParameterChanges changes, Token&& token) {
  return async_configure_instance(ctx, std::move(ref), std::move(changes), OpOptions{}, std::forward<Token>(token));
}
/// `options` carries the tag and dry_run, as for async_configure_instance.
template <class Token>
auto async_configure_instance_text(Context& ctx, InstanceRef ref, std::string text, OpOptions options, Token&& token) {
  return detail::initiate<Token, ConfigurationResult>(
      std::forward<Token>(token), [&ctx, ref = std::move(ref), text = std::move(text), options](auto cb) mutable {
        return start_configure_instance_text(ctx, std::move(ref), std::move(text), std::move(cb), options);
      });
}
template <class Token>
auto async_configure_instance_text(Context& ctx, InstanceRef ref, std::string text, Token&& token) {
  return async_configure_instance_text(ctx, std::move(ref), std::move(text), OpOptions{}, std::forward<Token>(token));
}
template <class Token>
auto async_instance_env(Context& ctx, InstanceRef ref, Token&& token) {
  return detail::initiate<Token, std::map<std::string, std::string>>(
      std::forward<Token>(token),
      [&ctx, ref = std::move(ref)](auto cb) mutable { return start_instance_env(ctx, std::move(ref), std::move(cb)); });
}
template <class Token>
auto async_instance_parameters(Context& ctx, InstanceRef ref, Token&& token) {
  return detail::initiate<Token, ConfParameters>(std::forward<Token>(token), [&ctx, ref = std::move(ref)](auto cb) mutable {
    return start_instance_parameters(ctx, std::move(ref), std::move(cb));
  });
}
template <class Token>
auto async_instance_parameters_text(Context& ctx, InstanceRef ref, Token&& token) {
  return detail::initiate<Token, std::string>(std::forward<Token>(token), [&ctx, ref = std::move(ref)](auto cb) mutable {
    return start_instance_parameters_text(ctx, std::move(ref), std::move(cb));
  });
}
template <class Token>
auto async_instance_log_file(Context& ctx, InstanceRef ref, Token&& token) {
  return detail::initiate<Token, std::filesystem::path>(std::forward<Token>(token), [&ctx, ref = std::move(ref)](auto cb) mutable {
    return start_instance_log_file(ctx, std::move(ref), std::move(cb));
  });
}
template <class Token>
auto async_resolve_instance(Context& ctx, std::optional<std::string> text, Token&& token) {
  return detail::initiate<Token, InstanceRef>(std::forward<Token>(token), [&ctx, text = std::move(text)](auto cb) mutable {
    return start_resolve_instance(ctx, std::move(text), std::move(cb));
  });
}
template <class Token>
auto async_instance_privileges(Context& ctx, InstanceRef ref, std::vector<std::string> roles, bool defaults, Token&& token) {
  return detail::initiate<Token, Privileges>(
      std::forward<Token>(token), [&ctx, ref = std::move(ref), roles = std::move(roles), defaults](auto cb) mutable {
        return start_instance_privileges(ctx, std::move(ref), std::move(roles), defaults, std::move(cb));
      });
}

// --- Patroni members ---------------------------------------------------------------------------------
template <class Token>
auto async_patroni_switchover(Context& ctx, InstanceRef ref, SwitchoverOptions options, Token&& token) {
  return detail::initiate<Token, TopologyResult>(
      std::forward<Token>(token), [&ctx, ref = std::move(ref), options = std::move(options)](auto cb) mutable {
        return start_patroni_switchover(ctx, std::move(ref), std::move(options), std::move(cb));
      });
}
template <class Token>
auto async_patroni_failover(Context& ctx, InstanceRef ref, std::string candidate, Token&& token) {
  return detail::initiate<Token, TopologyResult>(
      std::forward<Token>(token), [&ctx, ref = std::move(ref), candidate = std::move(candidate)](auto cb) mutable {
        return start_patroni_failover(ctx, std::move(ref), std::move(candidate), std::move(cb));
      });
}
template <class Token>
auto async_patroni_pause(Context& ctx, InstanceRef ref, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, ref = std::move(ref)](auto cb) mutable {
    return start_patroni_pause(ctx, std::move(ref), true, std::move(cb));
  });
}
template <class Token>
auto async_patroni_resume(Context& ctx, InstanceRef ref, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, ref = std::move(ref)](auto cb) mutable {
    return start_patroni_resume(ctx, std::move(ref), std::move(cb));
  });
}
/// RETURNS SECRETS, as patroni_credentials does.
template <class Token>
auto async_patroni_credentials(Context& ctx, InstanceRef ref, Token&& token) {
  return detail::initiate<Token, PatroniCredentials>(std::forward<Token>(token), [&ctx, ref = std::move(ref)](auto cb) mutable {
    return start_patroni_credentials(ctx, std::move(ref), std::move(cb));
  });
}
template <class Token>
auto async_patroni_log_file(Context& ctx, InstanceRef ref, Token&& token) {
  return detail::initiate<Token, std::filesystem::path>(std::forward<Token>(token), [&ctx, ref = std::move(ref)](auto cb) mutable {
    return start_patroni_log_file(ctx, std::move(ref), std::move(cb));
  });
}
// exec_in_instance and exec_postgres_foreground have no token form: they replace the calling process.

// --- databases ---------------------------------------------------------------------------------------
template <class Token>
auto async_create_database(Context& ctx, InstanceRef ref, DatabaseSpec spec, Token&& token) {
  return detail::initiate<Token, Database>(std::forward<Token>(token), [&ctx, ref = std::move(ref), spec = std::move(spec)](auto cb) mutable {
    return start_create_database(ctx, std::move(ref), std::move(spec), std::move(cb));
  });
}
template <class Token>
auto async_alter_database(Context& ctx, InstanceRef ref, DatabaseSpec spec, Token&& token) {
  return detail::initiate<Token, Database>(std::forward<Token>(token), [&ctx, ref = std::move(ref), spec = std::move(spec)](auto cb) mutable {
    return start_alter_database(ctx, std::move(ref), std::move(spec), std::move(cb));
  });
}
template <class Token>
auto async_get_database(Context& ctx, InstanceRef ref, std::string name, Token&& token) {
  return detail::initiate<Token, Database>(std::forward<Token>(token), [&ctx, ref = std::move(ref), name = std::move(name)](auto cb) mutable {
    return start_get_database(ctx, std::move(ref), std::move(name), std::move(cb));
  });
}
template <class Token>
auto async_list_databases(Context& ctx, InstanceRef ref, DatabaseSelection selection, Token&& token) {
  return detail::initiate<Token, std::vector<DatabaseListItem>>(
      std::forward<Token>(token), [&ctx, ref = std::move(ref), selection = std::move(selection)](auto cb) mutable {
        return start_list_databases(ctx, std::move(ref), std::move(selection), std::move(cb));
      });
}
template <class Token>
auto async_drop_database(Context& ctx, InstanceRef ref, std::string name, bool force, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, ref = std::move(ref), name = std::move(name), force](auto cb) mutable {
    return start_drop_database(ctx, std::move(ref), std::move(name), force, std::move(cb));
  });
}
template <class Token>
auto async_run_sql(Context& ctx, InstanceRef ref, std::string sql, DatabaseSelection selection, Token&& token) {
  return detail::initiate<Token, SqlResults>(
      std::forward<Token>(token), [&ctx, ref = std::move(ref), sql = std::move(sql), selection = std::move(selection)](auto cb) mutable {
        return start_run_sql(ctx, std::move(ref), std::move(sql), std::move(selection), std::move(cb));
      });
}
template <class Token>
auto async_database_privileges(Context& ctx, InstanceRef ref, std::vector<std::string> databases,
                               std::vector<std::string> roles, bool defaults, Token&& token) {
  return detail::initiate<Token, Privileges>(
      std::forward<Token>(token),
      [&ctx, ref = std::move(ref), databases = std::move(databases), roles = std::move(roles), defaults](auto cb) mutable {
        return start_database_privileges(ctx, std::move(ref), std::move(databases), std::move(roles), defaults, std::move(cb));
      });
}
// --- end databases -----------------------------------------------------------------------------------
// --- roles ---------------------------------------------------------------------------------------------
template <class Token>
auto async_create_role(Context& ctx, InstanceRef ref, RoleSpec spec, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, ref = std::move(ref), spec = std::move(spec)](auto cb) mutable {
    return start_create_role(ctx, std::move(ref), std::move(spec), std::move(cb));
  });
}
template <class Token>
auto async_alter_role(Context& ctx, InstanceRef ref, std::string name, RoleChanges changes, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, ref = std::move(ref), name = std::move(name),
                                                             changes = std::move(changes)](auto cb) mutable {
    return start_alter_role(ctx, std::move(ref), std::move(name), std::move(changes), std::move(cb));
  });
}
template <class Token>
auto async_get_role(Context& ctx, InstanceRef ref, std::string name, Token&& token) {
  return detail::initiate<Token, Role>(std::forward<Token>(token), [&ctx, ref = std::move(ref), name = std::move(name)](auto cb) mutable {
    return start_get_role(ctx, std::move(ref), std::move(name), std::move(cb));
  });
}
template <class Token>
auto async_list_roles(Context& ctx, InstanceRef ref, Token&& token) {
  return detail::initiate<Token, std::vector<Role>>(std::forward<Token>(token), [&ctx, ref = std::move(ref)](auto cb) mutable {
    return start_list_roles(ctx, std::move(ref), std::move(cb));
  });
}
template <class Token>
auto async_drop_role(Context& ctx, InstanceRef ref, std::string name, RoleDropOptions options, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, ref = std::move(ref), name = std::move(name),
                                                             options = std::move(options)](auto cb) mutable {
    return start_drop_role(ctx, std::move(ref), std::move(name), std::move(options), std::move(cb));
  });
}
// --- end roles
// --- pgconf (wt-pgconf): pg_hba records ---------------------------------------------------------------
template <class Token>
auto async_add_hba_records(Context& ctx, InstanceRef ref, std::vector<HbaRecord> records, HbaOptions options, Token&& token) {
  return detail::initiate<Token, HbaResult>(
      std::forward<Token>(token), [&ctx, ref = std::move(ref), records = std::move(records), options](auto cb) mutable {
        return start_add_hba_records(ctx, std::move(ref), std::move(records), options, std::move(cb));
      });
}
template <class Token>
auto async_remove_hba_records(Context& ctx, InstanceRef ref, std::vector<HbaRecord> records, HbaOptions options, Token&& token) {
  return detail::initiate<Token, HbaResult>(
      std::forward<Token>(token), [&ctx, ref = std::move(ref), records = std::move(records), options](auto cb) mutable {
        return start_remove_hba_records(ctx, std::move(ref), std::move(records), options, std::move(cb));
      });
}
// --- end pgconf ---
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

// --- config: a Patroni member's configuration ----------------------------------------------------------
template <class Token>
auto async_load_patroni_config(Context& ctx, InstanceRef ref, Token&& token) {
  return detail::initiate<Token, PatroniConfig>(std::forward<Token>(token), [&ctx, ref = std::move(ref)](auto cb) mutable {
    return start_load_patroni_config(ctx, std::move(ref), std::move(cb));
  });
}
template <class Token>
auto async_save_patroni_config(Context& ctx, InstanceRef ref, PatroniConfig config, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, ref = std::move(ref), config = std::move(config)](auto cb) mutable {
    return start_save_patroni_config(ctx, std::move(ref), std::move(config), std::move(cb));
  });
}
template <class Token>
auto async_validate_patroni_config(Context& ctx, InstanceRef ref, PatroniConfig config, Token&& token) {
  return detail::initiate<Token, std::vector<PatroniConfigIssue>>(
      std::forward<Token>(token), [&ctx, ref = std::move(ref), config = std::move(config)](auto cb) mutable {
        return start_validate_patroni_config(ctx, std::move(ref), std::move(config), std::move(cb));
      });
}
// --- end config ---
// --- cluster ---------------------------------------------------------------------------------------
// Completion signatures: void(std::exception_ptr[, Cluster | TopologyResult]). The actions update
// `cluster` on success, before the completion runs: it must outlive the operation (pglift/cluster.hpp).
template <class Token>
auto async_cluster_of(Context& ctx, InstanceRef member, Token&& token) {
  return detail::initiate<Token, Cluster>(std::forward<Token>(token), [&ctx, member = std::move(member)](auto cb) mutable {
    return start_cluster_of(ctx, std::move(member), std::move(cb));
  });
}
template <class Token>
auto async_cluster_from_dcs(Context& ctx, std::string name, Token&& token) {
  return detail::initiate<Token, Cluster>(std::forward<Token>(token), [&ctx, name = std::move(name)](auto cb) mutable {
    return start_cluster_from_dcs(ctx, std::move(name), std::move(cb));
  });
}
template <class Token>
auto async_cluster_refresh(Context& ctx, Cluster& cluster, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, &cluster](auto cb) { return cluster.start_refresh(ctx, std::move(cb)); });
}
template <class Token>
auto async_cluster_switchover(Context& ctx, Cluster& cluster, SwitchoverOptions options, Token&& token) {
  return detail::initiate<Token, TopologyResult>(std::forward<Token>(token), [&ctx, &cluster, options = std::move(options)](auto cb) mutable {
    return cluster.start_switchover(ctx, std::move(options), std::move(cb));
  });
}
template <class Token>
auto async_cluster_failover(Context& ctx, Cluster& cluster, std::string candidate, Token&& token) {
  return detail::initiate<Token, TopologyResult>(std::forward<Token>(token), [&ctx, &cluster, candidate = std::move(candidate)](auto cb) mutable {
    return cluster.start_failover(ctx, std::move(candidate), std::move(cb));
  });
}
template <class Token>
auto async_cluster_pause(Context& ctx, Cluster& cluster, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, &cluster](auto cb) { return cluster.start_pause(ctx, true, std::move(cb)); });
}
template <class Token>
auto async_cluster_resume(Context& ctx, Cluster& cluster, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, &cluster](auto cb) { return cluster.start_pause(ctx, false, std::move(cb)); });
}
template <class Token>
auto async_cluster_restart(Context& ctx, Cluster& cluster, std::string member, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, &cluster, member = std::move(member)](auto cb) mutable {
    return cluster.start_restart(ctx, std::move(member), std::move(cb));
  });
}
template <class Token>
auto async_cluster_restart_all(Context& ctx, Cluster& cluster, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, &cluster](auto cb) { return cluster.start_restart_all(ctx, std::move(cb)); });
}
template <class Token>
auto async_cluster_reinit(Context& ctx, Cluster& cluster, std::string member, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, &cluster, member = std::move(member)](auto cb) mutable {
    return cluster.start_reinit(ctx, std::move(member), std::move(cb));
  });
}
template <class Token>
auto async_cluster_remove(Context& ctx, Cluster& cluster, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, &cluster](auto cb) { return cluster.start_remove(ctx, std::move(cb)); });
}
/// The cluster's changes until the operation is cancelled (its completion then gets Cancelled); `on_event`
/// runs on a library thread (pglift/cluster_watch.hpp). `cluster` is not needed once it has started.
template <class Token>
auto async_cluster_watch(Context& ctx, const Cluster& cluster, std::function<void(const ClusterEvent&)> on_event,
                         Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, &cluster, on_event = std::move(on_event)](auto cb) mutable {
    return cluster.start_watch(ctx, std::move(on_event), std::move(cb));
  });
}
// --- end cluster -----------------------------------------------------------------------------------

}  // namespace pglift
// --- stream ---------------------------------------------------------------------------------------------
#include "pglift/cluster_watch.hpp"
#include "pglift/streams.hpp"

namespace pglift {
/// start_read_instance_logs() with a token: completes (void(std::exception_ptr)) when `chunk` returns
/// false, the (not followed) file is read, or the token's cancellation slot fires (Cancelled). The
/// form with a StreamGate lets the consumer hold the stream back.
template <class Token>
auto async_read_instance_logs(Context& ctx, InstanceRef ref, bool follow, std::function<bool(std::string_view)> chunk,
                              StreamGate gate, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, ref = std::move(ref), follow, chunk = std::move(chunk),
                                                             gate = std::move(gate)](auto cb) mutable {
    return start_read_instance_logs(ctx, std::move(ref), follow, std::move(chunk), std::move(cb), {}, std::move(gate));
  });
}
template <class Token>
auto async_read_instance_logs(Context& ctx, InstanceRef ref, bool follow, std::function<bool(std::string_view)> chunk,
                              Token&& token) {
  return async_read_instance_logs(ctx, std::move(ref), follow, std::move(chunk), StreamGate{}, std::forward<Token>(token));
}
/// start_watch_cluster() with a token: completes on an error, or Cancelled through the token's
/// cancellation slot (use_awaitable: cancelling the awaiting coroutine).
template <class Token>
auto async_watch_cluster(Context& ctx, InstanceRef member, std::function<void(const ClusterEvent&)> on_event,
                         StreamGate gate, Token&& token) {
  return detail::initiate<Token>(std::forward<Token>(token), [&ctx, member = std::move(member), on_event = std::move(on_event),
                                                             gate = std::move(gate)](auto cb) mutable {
    return start_watch_cluster(ctx, std::move(member), std::move(on_event), std::move(cb), {}, std::move(gate));
  });
}
template <class Token>
auto async_watch_cluster(Context& ctx, InstanceRef member, std::function<void(const ClusterEvent&)> on_event,
                         Token&& token) {
  return async_watch_cluster(ctx, std::move(member), std::move(on_event), StreamGate{}, std::forward<Token>(token));
}
}  // namespace pglift
// --- end stream -----------------------------------------------------------------------------------------
