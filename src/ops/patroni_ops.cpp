#include "ops/patroni_ops.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "core/coro.hpp"
#include "core/files.hpp"
#include "core/system.hpp"
#include "core/test_hooks.hpp"
#include "core/text.hpp"
#include "ops/configure.hpp"
#include "ops/patroni_view.hpp"
#include "ops/patroni_rejoin.hpp"
#include "ops/sql_objects.hpp"
#include "ops/transaction.hpp"
#include "patroni/config.hpp"
#include "patroni/fence.hpp"
#include "patroni/member.hpp"
#include "patroni/rest.hpp"
#include "postgres/conf.hpp"
#include "postgres/control.hpp"
#include "postgres/session.hpp"

namespace pglift::ops::patroni_member {
namespace fs = std::filesystem;
using postgres::Layout;
using namespace std::chrono_literals;
using patroni::Files;
using patroni::Rest;
using patroni::key_value;
using patroni::member_data;

namespace {

const PatroniSettings& patroni_settings(const core::Op& op) {
  if (!op.settings.patroni) throw Unsupported("Patroni is not enabled in site settings ('patroni' key)");
  return *op.settings.patroni;
}

/// Everything about an existing member that its configuration file tells.
struct Existing {
  Files files;
  core::Value config;
  patroni::Member member;
  Rest rest;
};

Existing existing(const core::Op& op, const Layout& l) {
  const auto& ps = patroni_settings(op);
  Files files = Files::of(ps, l);
  core::Value config = patroni::read(files.config);
  patroni::Member member = patroni::member_of(config);
  Rest rest(ps, member);
  return {std::move(files), std::move(config), std::move(member), std::move(rest)};
}

/// The members of `cluster` on this host, as their configuration files tell (unreadable ones skipped).
struct LocalMember {
  Files files;
  core::Value config;
  patroni::Member member;
};
std::vector<LocalMember> local_members(const Settings& settings, const std::string& cluster) {
  std::vector<LocalMember> out;
  for (const auto& other : postgres::find_instances(settings)) {
    if (!patroni::is_member(settings, other)) continue;
    try {
      Files files = Files::of(*settings.patroni, other);
      core::Value config = patroni::read(files.config);
      patroni::Member member = patroni::member_of(config);
      if (member.cluster == cluster) out.push_back({std::move(files), std::move(config), std::move(member)});
    } catch (const std::exception&) {
    }
  }
  return out;
}

/// The other local members' configuration of `cluster`, to join it with the same credentials. Only the
/// configurations of existing instances count: the backup a drop leaves behind belongs to a cluster
/// that is gone, and a new cluster of the same name gets new credentials.
std::optional<patroni::Credentials> local_cluster_credentials(const Settings& settings, const std::string& cluster) {
  auto members = local_members(settings, cluster);
  if (members.empty()) return std::nullopt;
  return patroni::credentials_of(members.front().config);
}

/// The passwords a member joining an existing cluster needs and the spec does not give.
std::vector<std::string> missing_passwords(const InstanceSpec& spec) {
  std::vector<std::string> missing;
  if (!spec.surole_password) missing.emplace_back("surole_password");
  if (!spec.replrole_password) missing.emplace_back("replrole_password");
  if (!spec.rewind_password) missing.emplace_back("rewind_password");
  return missing;
}

/// Every member of a cluster has the same superuser, replication and rewind credentials (pg_rewind and
/// pg_basebackup of one member log in to another): the spec's, else a local member's, else new ones for
/// a new cluster. A member joining an existing cluster from another host must be given all three.
patroni::Credentials cluster_credentials(const Settings& settings, const InstanceSpec& spec, const std::string& cluster,
                                         bool cluster_exists) {
  patroni::Credentials creds;
  if (auto local = local_cluster_credentials(settings, cluster)) creds = *local;
  else if (auto missing = missing_passwords(spec); cluster_exists && !missing.empty())
    throw InvalidSpec::missing(
        missing.front(),
        "joining cluster '" + cluster + "' needs its credentials (missing: " + core::join(missing, ", ") +
            "): run `pglift patroni -i <member> credentials --output FILE` on a member's host, then give "
            "--patroni-credentials FILE (library: InstanceSpec's surole_password, replrole_password and "
            "rewind_password, from patroni_credentials())");
  else creds = patroni::Credentials::generate();
  if (spec.surole_password) creds.superuser = *spec.surole_password;
  if (spec.replrole_password) creds.replication = *spec.replrole_password;
  if (spec.rewind_password) creds.rewind = *spec.rewind_password;
  return creds;
}

/// "postgres://127.0.1.1:55432/postgres" -> ("127.0.1.1", "55432")
std::pair<std::string, std::string> host_port_of(const std::string& conn_url) {
  auto start = conn_url.find("://");
  std::string rest = conn_url.substr(start == std::string::npos ? 0 : start + 3);
  rest = rest.substr(0, rest.find('/'));
  if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  auto colon = rest.rfind(':');
  std::string host = rest.substr(0, colon), port = colon == std::string::npos ? "5432" : rest.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return {host, port};
}

std::string replication_conninfo(const std::string& host, const std::string& port, const std::string& user,
                                 const std::string& password) {
  using postgres::kv;
  return kv("host", host) + " " + kv("port", port) + " " + kv("user", user) + " " + kv("password", password) +
         " dbname=replication replication=true connect_timeout=5 application_name=pglift";
}

void check_bind(const std::string& field, const std::string& host, int port) {
  // The addresses we are about to listen on: a second listener there would make Patroni or
  // PostgreSQL fail late, after a bootstrap.
  if (!core::tcp_port_free_on(host, port))
    throw InvalidSpec(field, host + ":" + std::to_string(port), "port " + std::to_string(port) + " already in use on " + host);
}

/// What a failed create removes from the DCS: this member's key, always; the `leader` key only while it
/// names this member. `initialize` and the keys of a bootstrap only when ours: our Patroni took
/// `initialize` (it logged "trying to bootstrap a new cluster": the loser of a bootstrap race never
/// does) and it still holds what ours wrote (empty while bootstrapping, then our system identifier); or,
/// when that log line did not make it (Patroni stopped right after taking the key), it is still empty
/// and no other member is registered (a bootstrapper registers before it races). Always while nobody
/// leads, in compare-and-delete transactions: a concurrent bootstrap elsewhere never loses its keys,
/// and a bootstrap cancelled half-way does not leave the cluster locked forever.
awaitable<void> remove_own_keys(dcs::Etcd& etcd, const std::string& prefix, const std::string& node, bool bootstrapping,
                                bool took_initialize, std::optional<std::string> sysid) {
  co_await etcd.delete_key(prefix + "members/" + node);
  std::vector<dcs::Etcd::Condition> leader_is_us{{prefix + "leader", node}};
  std::vector<std::string> leader_key{prefix + "leader"};
  co_await etcd.delete_if(std::move(leader_is_us), std::move(leader_key));
  if (!bootstrapping) co_return;
  std::vector<std::string> bootstrap_keys;
  for (const char* key : {"initialize", "config", "status", "history", "failover", "sync", "optime/leader"})
    bootstrap_keys.push_back(prefix + key);
  std::vector<std::string> ours{std::string()};  // what our Patroni wrote: empty while bootstrapping, then its sysid
  if (took_initialize && sysid) ours.push_back(*sysid);
  for (const auto& value : ours) {
    std::vector<dcs::Etcd::Condition> conditions{{prefix + "initialize", value}, {prefix + "leader", std::nullopt}};
    if (!took_initialize) conditions.push_back({prefix + "members/", std::nullopt, true});
    if (co_await etcd.delete_if(std::move(conditions), bootstrap_keys)) co_return;
  }
}

/// Whether this member's Patroni won the race for `initialize` (see Ha.bootstrap in Patroni 3.0).
bool took_initialize(const Files& files) {
  try {
    auto log = core::read_file_if_exists(files.log());
    return log && log->find("trying to bootstrap a new cluster") != std::string::npos;
  } catch (const std::exception&) {
    return false;
  }
}

void remove_member_files(const Settings& settings, const Layout& l, const Files& files) {
  // A bootstrap that failed makes Patroni rename the data directory and the WAL directory it points to
  // (`<dir>.failed`, Postgresql.move_data_directory): they are this member's too.
  for (const fs::path& dir : {l.datadir, l.waldir}) core::remove_tree(fs::path(dir.string() + ".failed"));
  postgres::remove_files(settings, l);
  std::error_code ec;
  fs::remove(files.config, ec);
  fs::remove(files.passfile, ec);
  fs::remove(files.pidfile, ec);
  core::remove_tree(files.logdir);
}

/// Stops Patroni, then a postmaster that outlived it (killed or crashed Patroni): never leave one
/// running with the port and the data. False when nothing ran.
awaitable<bool> stop_member(const core::Op& op, const Layout& l, const Files& files, const Rest& rest) {
  bool stopped = co_await patroni::stop(op, l, files, rest);
  if (postgres::running_postmaster(l)) {
    op.warning("PostgreSQL " + l.display() + " still runs without Patroni; stopping it", "pglift.patroni");
    co_await postgres::stop(op, l, StopMode::fast);
    stopped = true;
  }
  co_return stopped;
}

awaitable<std::string> leader_of(const Rest& rest, const std::string& cluster) {
  for (const auto& m : co_await rest.cluster())
    if (m.role == "leader" || m.role == "standby_leader") co_return m.name;
  throw StateError("cluster '" + cluster + "' has no leader at the moment (" + rest.url() + "/cluster)");
}

/// core::wait_until for this member: fails fast when its Patroni, running when the wait began, exits
/// (nothing would then move), and a deadline shows `details` (default: the tails of its logs).
template <class Ready>
awaitable<void> wait_on_member(const Layout& l, const Files& files, std::chrono::milliseconds timeout, std::string reason,
                               Ready ready, core::Clock::duration max_interval = 50ms,
                               std::function<std::string()> details = {}) {
  std::function<void()> exited;
  if (patroni::running(files))
    exited = [&l, &files] {
      if (!patroni::running(files))
        throw StateError("Patroni " + l.qualname() + " exited while waiting\n" + patroni::log_tails(l, files));
    };
  if (!details) details = [&l, &files] { return patroni::log_tails(l, files); };
  co_await core::wait_until(core::Clock::now() + timeout, std::move(reason), std::move(ready), std::move(exited),
                            std::move(details), max_interval);
}

/// Waits until `node` answers GET /primary 200 through its own API.
awaitable<void> wait_leader(const PatroniSettings& ps, const Layout& l, const Existing& e, const std::string& node,
                            std::chrono::seconds timeout) {
  auto is_leader = [&]() -> awaitable<bool> {
    for (const auto& m : co_await e.rest.cluster(1s))
      if (m.name == node && m.api_url && co_await Rest::from_api_url(ps, *m.api_url).probe("/primary", 1s) == 200) co_return true;
    co_return false;
  };
  co_await wait_on_member(l, e.files, timeout, "leadership of member '" + node + "'", is_leader);
}

/// Whether `node` of `cluster` is an instance of this host whose Patroni does not run (nullopt: not ours).
std::optional<bool> local_member_stopped(const Settings& settings, const std::string& cluster, const std::string& node) {
  for (const auto& other : local_members(settings, cluster))
    if (other.member.node == node) return !patroni::running(other.files).has_value();
  return std::nullopt;
}

/// Until `candidate` may take over: it streams from the leader, on its timeline, within the lag limit
/// (patroni/health.hpp). A member that has just been demoted gets there by itself: wait for it, bounded.
/// With `refuse_at_once`, what waiting cannot cure (stopped, unreachable, diverged, not a member, the
/// DCS unreachable) fails at once; the deadline fails with the last reason seen.
awaitable<void> wait_candidate(const core::Op& op, const Layout& l, const Existing& e, const std::string& candidate,
                               bool refuse_at_once = true, std::chrono::seconds timeout = 60s) {
  const std::string& cluster = e.member.cluster;
  const ViewSource source{patroni_settings(op), e.files, e.config, e.member, e.rest};
  std::string last_reason;
  auto refuse = [&](const std::string& reason) {
    if (refuse_at_once) throw StateError("cannot make '" + candidate + "' the leader of cluster '" + cluster + "': " + reason);
    last_reason = reason;
  };
  auto healthy = [&]() -> awaitable<bool> {
    ClusterView view = co_await view_cluster(op, source);
    if (view.dcs_error) {
      if (refuse_at_once)
        throw Error(ErrorCode::dcs, "cannot check candidate '" + candidate + "' of cluster '" + cluster +
                                        "': the DCS cannot be reached (" + *view.dcs_error + ")");
      last_reason = "the DCS cannot be reached (" + *view.dcs_error + ")";
      co_return false;
    }
    const int i = view.index_of(candidate);
    if (i < 0) {
      if (local_member_stopped(op.settings, cluster, candidate).value_or(false)) refuse("member '" + candidate + "' is stopped");
      else if (refuse_at_once) throw InvalidSpec("candidate", candidate, "not a member of cluster '" + cluster + "'");
      else last_reason = "member '" + candidate + "' is not in the cluster";
      co_return false;
    }
    const patroni::Assessment& a = view.assessments[static_cast<size_t>(i)];
    if (a.health == patroni::Health::streaming) co_return true;
    // Nobody leads (a failover): nothing to stream from; running and reachable is all one can ask.
    if (a.health == patroni::Health::unknown && !view.leader()) co_return true;
    last_reason = a.reason;
    if (a.lasting()) refuse(a.reason);
    co_return false;
  };
  std::function<std::string()> why = [&last_reason] { return last_reason; };  // named: g++ 12 (no class temporary in a co_await)
  co_await wait_on_member(l, e.files, timeout, "member '" + candidate + "' of cluster '" + cluster + "' as a healthy replica",
                          healthy, 250ms, std::move(why));
}

/// The supervisor's fence record, when there is one, with a warning: the member's PostgreSQL was stopped
/// because its Patroni died, and stays stopped until a start.
std::optional<PatroniFence> reported_fence(const core::Op& op, const Layout& l, const Files& files) {
  auto fence = patroni::fence_record(files);
  if (fence) op.warning(patroni::fence_message(l.display(), *fence), "pglift.patroni");
  return fence;
}

/// After a start: the fence is acknowledged, its record archived (kept for the operator).
void archive_fence(const core::Op& op, const Files& files) {
  if (!patroni::fence_record(files)) return;
  try {
    op.info("fence record archived as " + patroni::archive_fence_record(files).string(), "pglift.patroni");
  } catch (const std::exception& err) {
    op.warning(std::string("could not archive the fence record: ") + err.what(), "pglift.patroni");
  }
}

/// The record of what Patroni's own pg_rewind discarded (or was refused to), with a warning, until a
/// start acknowledges it.
std::optional<PatroniRejoin> reported_rejoin(const core::Op& op, const Layout& l, const Files& files) {
  auto rejoin = patroni::rejoin_record(files);
  if (rejoin) op.warning(patroni::rejoin_message(l.display(), *rejoin), "pglift.patroni");
  return rejoin;
}

/// A start acknowledges the rejoin record: archived (kept for the operator).
void archive_rejoin(const core::Op& op, const Files& files) {
  try {
    op.info("rejoin record archived as " + patroni::archive_rejoin_record(files).string(), "pglift.patroni");
  } catch (const std::exception& err) {
    op.warning(std::string("could not archive the rejoin record: ") + err.what(), "pglift.patroni");
  }
}

/// Patroni's 412 answers: an unknown candidate is the caller's mistake, the rest is the cluster's state.
[[noreturn]] void topology_failure(const char* what, const std::string& candidate, int status, const std::string& text) {
  if (status == 412 && (text.find("does not exist") != std::string::npos || text.find("not exists") != std::string::npos))
    throw InvalidSpec("candidate", candidate, text);
  throw StateError(std::string(what) + " failed: HTTP " + std::to_string(status) + ": " + text);
}

/// A postmaster running while its Patroni does not: nothing fences it, nobody manages it.
bool orphan_postmaster(const Layout& l, const std::string& patroni_state) {
  return patroni_state == "not_running" && postgres::running_postmaster(l).has_value();
}

/// get and status say what is wrong, not only in their values.
void warn_untruths(const core::Op& op, const Layout& l, const patroni::Member& member, const std::string& patroni_state,
                   bool orphan, const std::optional<std::string>& dcs_error) {
  if (orphan)
    op.warning("PostgreSQL " + l.display() + " runs without its Patroni (orphan postmaster): nothing fences it; stop it, "
                   "or start the instance to have Patroni manage it again",
               "pglift.patroni");
  else if (patroni_state == "unreachable")
    op.warning("Patroni " + l.qualname() + " runs, but its REST API does not answer", "pglift.patroni");
  if (dcs_error)
    op.warning("the DCS of cluster '" + member.cluster + "' cannot be reached (" + *dcs_error +
                   "): the members' states are unknown",
               "pglift.patroni");
}

}  // namespace

awaitable<void> create(const core::Op& op, const InstanceSpec& spec, const CreateOptions& options, const Layout& l, int port,
                       const ConfParameters& parameters) {
  const auto& ps = patroni_settings(op);
  const Files files = Files::of(ps, l);
  patroni::Member member = patroni::resolve_member(*spec.patroni, port, spec.settings);
  if (fs::exists(files.config)) {
    // Under the instance's lock, and its data and WAL directories absent (checked by our caller): a
    // create interrupted after writing the configuration, before Patroni made anything (killed, a
    // power cut). No instance to drop: this create takes its place, unless its Patroni runs.
    if (patroni::running(files))
      throw AlreadyExists("Patroni configuration " + files.config.string() + " already exists, and its Patroni runs");
    op.warning("Patroni configuration " + files.config.string() +
                   " is left from an interrupted create of this member (no data directory): replacing it",
               "pglift.patroni");
    remove_member_files(op.settings, l, files);
  }
  const auto rest_listen = net::Endpoint::parse(member.restapi_listen);
  check_bind("patroni.restapi.listen", rest_listen.host, rest_listen.port);
  if (member.listen_host.find(',') == std::string::npos && member.listen_host != "*")
    check_bind("port", member.listen_host, port);

  // The DCS first: is it there, does the cluster exist, is this node new to it?
  auto etcd = patroni::etcd(ps);
  const std::string prefix = patroni::dcs_prefix(member.cluster);
  if (!co_await etcd.healthy())
    throw Error(ErrorCode::dcs, "etcd is not reachable at " + core::join(ps.etcd.hosts, ", ") +
                                    ": cannot create a member of Patroni cluster '" + member.cluster + "'");
  dcs::KeyValues keys = co_await etcd.get_prefix(prefix);
  const bool cluster_exists = key_value(keys, prefix + "initialize").has_value() || key_value(keys, prefix + "leader").has_value();
  if (auto data = member_data(keys, prefix, member.node)) {
    const auto* api = data->find("api_url");
    if (api && api->is_string() && co_await Rest::from_api_url(ps, api->as_string()).probe("/liveness", 1s) != 0)
      throw AlreadyExists("node '" + member.node + "' is already a running member of cluster '" + member.cluster + "'");
  }

  patroni::Credentials creds = cluster_credentials(op.settings, spec, member.cluster, cluster_exists);

  patroni::BootstrapOptions boot{spec.locale.value_or(op.settings.postgresql.initdb.locale),
                                 spec.encoding.value_or(op.settings.postgresql.initdb.encoding),
                                 spec.data_checksums.value_or(op.settings.postgresql.initdb.data_checksums.value_or(false))};
  boot.synchronous_mode = spec.patroni->synchronous_mode.value_or(ps.synchronous_mode);
  // Strict only means something with synchronous_mode: the spec's mode off turns the site's strict off.
  boot.synchronous_mode_strict =
      boot.synchronous_mode && spec.patroni->synchronous_mode_strict.value_or(ps.synchronous_mode_strict);
  if (cluster_exists && (spec.patroni->synchronous_mode || spec.patroni->synchronous_mode_strict))
    op.warning("cluster '" + member.cluster + "' exists: its own synchronous_mode applies, not the spec's "
               "(change it with PATCH /config or patronictl edit-config)",
               "pglift.patroni");
  else if (spec.patroni->synchronous_mode_strict.value_or(false) && !boot.synchronous_mode)
    throw InvalidSpec("patroni.synchronous_mode_strict", "true",
                      "requires synchronous_mode (off in the spec or the site's patroni settings)");
  core::Value config = patroni::build(op.settings, l, member, parameters, creds, boot);
  Rest rest(ps, patroni::member_of(config));  // its own address and credentials, as written

  // Patroni's validator, run by the launcher in the process that becomes Patroni, before Patroni does
  // anything: a second Python start and import of Patroni saved (a quarter of a second here). Else
  // `patroni --validate-config` first.
  const bool launcher_validates = patroni::launcher_validates(ps);
  co_await transactional<bool>(op, options.drop_on_error, [&](Transaction& tx) -> awaitable<bool> {
    co_await tx.step(
        "setting up Patroni service",
        [&]() -> awaitable<void> {
          core::make_dirs(l.datadir.parent_path(), 0750);
          core::make_dirs(l.waldir.parent_path(), 0750);
          core::make_dirs(files.logdir, 0700);
          patroni::write(files.config, config);
          // Before Patroni starts, never beside it: the validator checks that nothing listens on the
          // REST API's and PostgreSQL's ports yet.
          if (!launcher_validates) co_await patroni::validate(op, ps, files);
        },
        "deconfiguring Patroni service",
        [&]() -> awaitable<void> {
          remove_member_files(op.settings, l, files);
          co_return;
        });

    if (cluster_exists) {
      // The slot exists on the leader before the clone starts streaming: no wait for the leader's
      // next HA loop plus wal_retrieve_retry_interval (11 s with bare Patroni here).
      auto leader = key_value(keys, prefix + "leader");
      auto data = leader ? member_data(keys, prefix, *leader) : std::nullopt;
      const auto* conn_url = data ? data->find("conn_url") : nullptr;
      if (conn_url && conn_url->is_string()) {
        auto [host, lport] = host_port_of(conn_url->as_string());
        const std::string slot = patroni::slot_name(member.node);
        const std::string ci = replication_conninfo(host, lport, *op.settings.postgresql.replrole, creds.replication);
        // The undo owns copies (it runs after this block, whose locals are gone by then), and is a named
        // closure: g++ 12 destroys a lambda temporary with class-type captures twice in a co_await.
        auto drop_slot = [&op, ci, slot]() -> awaitable<void> {
          co_await core::blocking(op, [&] {
            try {
              postgres::Session s(ci);
              s.execute_simple("DROP_REPLICATION_SLOT " + s.identifier(slot));
            } catch (const std::exception&) {
            }
            return 0;
          });
        };
        co_await tx.step(
            "creating replication slot '" + slot + "' on leader " + *leader,
            [&]() -> awaitable<void> {
              co_await core::blocking(op, [&] {
                try {
                  postgres::Session s(ci);
                  s.execute_simple("CREATE_REPLICATION_SLOT " + s.identifier(slot) + " PHYSICAL RESERVE_WAL");
                } catch (const StateError& e) {
                  if (std::string(e.what()).find("already exists") == std::string::npos)
                    op.warning("could not create replication slot '" + slot + "' on the leader in advance: " + e.what(),
                               "pglift.patroni");
                }
                return 0;
              });
            },
            "dropping replication slot '" + slot + "' on leader " + *leader, drop_slot);
      }
    }

    // Titles are locals: g++ 12 destroys the temporaries of a conditional expression inside a
    // co_await expression twice.
    const std::string title = cluster_exists ? "creating replica of cluster '" + member.cluster + "' with Patroni"
                                             : std::string("bootstrapping PostgreSQL with Patroni");
    const std::string undo_title = "stopping Patroni " + l.qualname();
    // Bootstrapping: another member may bootstrap the same new cluster at the same moment. Patroni
    // lets one take the `initialize` key; the other would wait, then clone. Ours was asked to be the
    // leader of a new cluster: when someone else leads it, fail now rather than at the deadline.
    auto bootstrapped_elsewhere = [&]() -> awaitable<void> {
      auto leader = key_value(co_await etcd.get_prefix(prefix + "leader"), prefix + "leader");
      if (leader && *leader != member.node)
        throw StateError("cluster '" + member.cluster + "' was bootstrapped concurrently by member '" + *leader +
                         "'; this member was not created");
    };
    co_await tx.step(
        title,
        [&]() -> awaitable<void> {
          proc::Watched patroni_process = patroni::spawn(op, ps, l, files, std::nullopt, launcher_validates);
          op.info("waiting for instance " + l.display() + " creation by Patroni", "pglift.patroni");
          std::function<awaitable<void>()> check;
          if (!cluster_exists) check = bootstrapped_elsewhere;
          std::exception_ptr failure;
          try {
            co_await patroni::wait_ready(op, l, files, rest, patroni_process,
                                         cluster_exists ? patroni::Readiness::replica : patroni::Readiness::leader,
                                         std::chrono::seconds(ps.create_timeout), check);
          } catch (...) {
            failure = std::current_exception();
          }
          // An invalid configuration stopped the launcher before Patroni ran: its validator's words
          // rather than "Patroni exited".
          if (launcher_validates) patroni::check_validation_report(op, files);
          if (failure) std::rethrow_exception(failure);
        },
        undo_title,
        [&]() -> awaitable<void> {
          // Read before the files go: what our `initialize` key would hold, and whether we took it.
          const auto sysid = postgres::system_identifier(l);
          co_await stop_member(op, l, files, rest);
          try {
            co_await remove_own_keys(etcd, prefix, member.node, !cluster_exists, took_initialize(files), sysid);
          } catch (const Error& e) {
            if (e.code() == ErrorCode::cancelled) throw;
            op.warning(std::string("could not clean the DCS up: ") + e.what(), "pglift.patroni");
          }
        });
    op.info("instance " + l.display() + " successfully created by Patroni", "pglift.patroni");
    if (!cluster_exists)
      co_await create_manifest_objects(op, tx, l, port, spec);
    else if (!spec.roles.empty() || !spec.databases.empty())
      op.info("instance " + l.display() + " is a replica: the roles and databases of its manifest are not created on it "
              "(those of the leader are replicated)",
              "pglift.patroni");
    if (spec.state == InstanceState::stopped) co_await stop_member(op, l, files, rest);
    co_return true;
  });
}

awaitable<void> observe(const core::Op& op, const Layout& l, Instance& instance) {
  auto e = existing(op, l);
  PatroniInfo info;
  info.cluster = e.member.cluster;
  info.node = e.member.node;
  info.restapi_connect_address = e.member.restapi_connect_address;
  info.restapi_listen = e.member.restapi_listen;
  info.postgresql_connect_host = e.member.connect_host;
  info.fenced = reported_fence(op, l, e.files);
  info.discarded_on_rejoin = reported_rejoin(op, l, e.files);
  const ViewSource source{patroni_settings(op), e.files, e.config, e.member, e.rest};
  ClusterView view = co_await view_cluster(op, source);
  info.state = view.state;
  info.cluster_members = std::move(view.members);
  if (view.own_status) {
    const auto* pause = view.own_status->find("pause");
    info.is_paused = pause && pause->is_bool() && pause->as_bool();
  }
  info.orphan_postmaster = orphan_postmaster(l, view.state);
  info.dcs_error = view.dcs_error;
  if (view.dynamic_config && view.dynamic_config->is_object()) {  // Patroni's default for an absent key: off
    const auto* sync = view.dynamic_config->find("synchronous_mode");
    const auto* strict = view.dynamic_config->find("synchronous_mode_strict");
    info.synchronous_mode = sync && sync->is_bool() && sync->as_bool();
    info.synchronous_mode_strict = strict && strict->is_bool() && strict->as_bool();
  }
  warn_untruths(op, l, e.member, view.state, info.orphan_postmaster, view.dcs_error);
  // Patroni renames initdb's file to postgresql.base.conf and includes it: show both, like pglift.
  ConfParameters merged;
  if (auto base = core::read_file_if_exists(l.base_conf())) merged = postgres::parse_conf(*base);
  for (auto& [k, v] : instance.settings) merged[k] = v;
  merged.erase("port");
  instance.settings = std::move(merged);
  instance.patroni = std::move(info);
}

awaitable<void> status(const core::Op& op, const Layout& l, InstanceStatus& st) {
  auto e = existing(op, l);
  reported_fence(op, l, e.files);
  reported_rejoin(op, l, e.files);
  const bool process = patroni::running(e.files).has_value();
  auto ask_api = [&]() -> awaitable<void> {
    if (auto s = co_await e.rest.status()) {
      if (const auto* role = s->find("role"); role && role->is_string()) st.patroni_role = role->as_string();
      if (const auto* state = s->find("state"); state && state->is_string()) st.patroni_state = state->as_string();
      st.patroni = "running";
    }
  };
  auto ask_dcs = [&]() -> awaitable<void> { st.dcs_error = co_await dcs_error(patroni_settings(op), e.member.cluster); };
  co_await (ask_api() && ask_dcs());
  st.patroni_api = st.patroni ? RunStatus::running : RunStatus::not_running;
  if (!st.patroni) st.patroni = process ? "unreachable" : "not_running";
  st.dcs_reachable = !st.dcs_error;
  st.orphan_postmaster = orphan_postmaster(l, *st.patroni);
  warn_untruths(op, l, e.member, *st.patroni, st.orphan_postmaster, st.dcs_error);
}

awaitable<void> start(const core::Op& op, const Layout& l, const StartOptions& options) {
  auto e = existing(op, l);
  const auto rejoin = reported_rejoin(op, l, e.files);
  if (patroni::running(e.files)) {
    op.warning("instance " + l.display() + " is already started", "pglift.instances");
    // A rewind that went on is acknowledged by this start; a refused one stays until Patroni is started
    // again (stop, then start): its member is still held out.
    if (rejoin && rejoin->outcome == "rejoined") archive_rejoin(op, e.files);
    co_return;
  }
  reported_fence(op, l, e.files);
  std::optional<std::string> accepted;
  if (!postgres::running_postmaster(l)) accepted = co_await check_rejoin(op, l, e.member, options.accept_data_loss);
  // The record was said above; this start acknowledges it (archived before Patroni may write another).
  if (rejoin) archive_rejoin(op, e.files);
  op.info("starting Patroni " + l.qualname(), "pglift.patroni");
  proc::Watched process = patroni::spawn(op, *op.settings.patroni, l, e.files, accepted);
  co_await patroni::wait_ready(op, l, e.files, e.rest, process, patroni::Readiness::running,
                               std::chrono::seconds(op.settings.patroni->create_timeout));
  archive_fence(op, e.files);
  // One Patroni's own rewind wrote during this start: said here (the caller does not read Patroni's
  // log) and so acknowledged.
  if (reported_rejoin(op, l, e.files)) archive_rejoin(op, e.files);
}

awaitable<void> stop(const core::Op& op, const Layout& l) {
  auto e = existing(op, l);
  if (!co_await stop_member(op, l, e.files, e.rest))
    op.warning("instance " + l.display() + " is already stopped", "pglift.instances");
}

awaitable<void> restart(const core::Op& op, const Layout& l) {
  auto e = existing(op, l);
  auto before = co_await e.rest.status();
  if (!before) throw StateError("REST API of Patroni " + l.qualname() + " is unreachable at " + e.rest.url() + "; is the instance running?");
  op.info("restarting Patroni " + l.qualname(), "pglift.patroni");
  auto started = [](const core::Value& s) {
    const auto* t = s.find("postmaster_start_time");
    return t && t->is_string() ? t->as_string() : std::string();
  };
  auto r = co_await e.rest.call("POST", "/restart", core::Object{}, std::chrono::minutes(5));
  if (r.status != 200) throw StateError("restart of " + l.display() + " through Patroni failed: HTTP " + std::to_string(r.status) + " " + core::trim(r.body));
  // POST /restart answers when PostgreSQL is back; confirm with a new postmaster start time and no
  // pending restart left.
  const std::string old_start = started(*before);
  auto restarted = [&]() -> awaitable<bool> {
    auto now = co_await e.rest.status();
    const core::Value* pending = now ? now->find("pending_restart") : nullptr;
    co_return now && started(*now) != old_start && !started(*now).empty() && !(pending && pending->is_bool() && pending->as_bool());
  };
  co_await wait_on_member(l, e.files, 60s, "a restarted PostgreSQL " + l.display() + " reported by Patroni", restarted);
}

awaitable<void> reload(const core::Op& op, const Layout& l) {
  auto e = existing(op, l);
  op.info("reloading Patroni " + l.qualname(), "pglift.patroni");
  auto pm = postgres::running_postmaster(l);
  std::string before;
  if (pm) before = (co_await reload_state(op, l, pm->port)).first;
  auto r = co_await e.rest.call("POST", "/reload", core::Object{}, 10s);
  if (r.status != 202 && r.status != 200)
    throw StateError("reload of " + l.display() + " through Patroni failed: HTTP " + std::to_string(r.status) + " " + core::trim(r.body));
  if (!pm) co_return;
  // Patroni re-reads its YAML and signals PostgreSQL only when parameters changed; a reload is
  // asked for everything: have PostgreSQL re-read its files too, and confirm that it did.
  const int port = pm->port;
  co_await core::blocking(op, [&] {
    postgres::query_once(op.settings, l, port, "SELECT pg_reload_conf()");
    return 0;
  });
  auto reloaded = [&]() -> awaitable<bool> { co_return (co_await reload_state(op, l, port)).first != before; };
  co_await wait_on_member(l, e.files, 10s, "configuration reload of PostgreSQL " + l.display(), reloaded, 10ms);
}

// --- cluster ---
awaitable<std::vector<std::string>> alive_members(const PatroniSettings& ps, const std::string& cluster, const std::string& except) {
  auto etcd = patroni::etcd(ps);
  const std::string prefix = patroni::dcs_prefix(cluster) + "members/";
  std::vector<std::string> alive;
  for (const auto& [key, value] : co_await etcd.get_prefix(prefix)) {
    std::string node = key.substr(prefix.size());
    if (node == except) continue;
    try {
      auto data = core::parse_json(value);
      const auto* api = data.find("api_url");
      if (!api || !api->is_string()) continue;
      const Rest member_api = Rest::from_api_url(ps, api->as_string());  // named: no class temporary in a co_await
      if (co_await member_api.probe("/liveness", 1s) != 0) alive.push_back(node);
    } catch (const core::ParseError&) {
    }
  }
  co_return alive;
}
// --- end cluster ---

awaitable<void> drop(const core::Op& op, const Layout& l, const DropOptions& options) {
  const auto& ps = patroni_settings(op);
  auto e = existing(op, l);
  op.info("dropping instance " + l.display(), "pglift.instances");
  // Who else is alive? Ask the DCS (the API of this member may be down), then each member's own API.
  auto etcd = patroni::etcd(ps);
  const std::string prefix = patroni::dcs_prefix(e.member.cluster);
  std::vector<std::string> others_alive;
  bool dcs_reachable = true;
  try {
    others_alive = co_await alive_members(ps, e.member.cluster, e.member.node);
  } catch (const Error& err) {
    if (err.code() == ErrorCode::cancelled) throw;
    dcs_reachable = false;
    op.warning(std::string("cannot reach the DCS: ") + err.what(), "pglift.patroni");
  }
  co_await core::test_hook(op, "drop.dcs_checked");
  if (options.remove_cluster) {
    if (!dcs_reachable) throw Error(ErrorCode::dcs, "cannot remove cluster '" + e.member.cluster + "': the DCS is unreachable");
    if (!others_alive.empty())
      throw StateError("cannot remove cluster '" + e.member.cluster + "': member(s) " + core::join(others_alive, ", ") +
                       " still alive");
  }
  if (!dcs_reachable && !options.dcs_unreachable_ok)
    throw Error(ErrorCode::dcs, "cannot tell whether '" + e.member.node + "' is the last member of cluster '" + e.member.cluster +
                                    "': the DCS cannot be reached; instance " + l.display() +
                                    " was not dropped (confirm to drop it anyway: dcs_unreachable_ok)");
  if (others_alive.empty()) {
    // Secrets are in there: the copy is 0600, and we say where it is.
    const auto stamp = std::to_string(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
    fs::path backup = e.files.config.parent_path() / (e.member.cluster + "-" + e.member.node + "-" + stamp + ".yaml");
    // Only the DCS knows the other members: without it, nobody can say this one is the last.
    const std::string why = dcs_reachable ? "'" + e.member.node + "' appears to be the last member of cluster '" + e.member.cluster + "'"
                                          : "the DCS cannot be reached: nobody can tell whether '" + e.member.node +
                                                "' is the last member of cluster '" + e.member.cluster + "'";
    op.warning(why + ", saving Patroni configuration file to " + backup.string(), "pglift.patroni");
    core::write_file_atomic(backup, core::read_file(e.files.config), 0600);
    if (auto pgpass = core::read_file_if_exists(e.files.passfile)) {
      fs::path pgpass_backup = backup;
      pgpass_backup.replace_extension(".pgpass");
      core::write_file_atomic(pgpass_backup, *pgpass, 0600);
    }
  }
  core::crash_point(op, "drop: DCS checked, backup written");
  if (!co_await stop_member(op, l, e.files, e.rest))
    op.warning("instance " + l.display() + " is already stopped", "pglift.instances");
  core::crash_point(op, "drop: member stopped");
  // The DCS before the files: a drop interrupted between the two is found again by the next drop (its
  // files name the member and its cluster), which finishes it; the other way round, the cluster's keys
  // would be left with nothing to find them by.
  if (options.remove_cluster) {  // the DCS was reachable a moment ago (checked above): a failure now fails the drop
    auto n = co_await etcd.delete_prefix(prefix);
    op.info("removed cluster '" + e.member.cluster + "' from the DCS (" + std::to_string(n) + " keys)", "pglift.patroni");
  } else if (dcs_reachable) {
    // Patroni leaves a stopped member's key until its lease expires (ttl): meanwhile the leader keeps
    // its slot and asks its API at shutdown. A dropped member is gone: say so now.
    try {
      co_await etcd.delete_key(prefix + "members/" + e.member.node);
    } catch (const Error& err) {
      if (err.code() == ErrorCode::cancelled) throw;
      op.warning(std::string("could not remove member '") + e.member.node + "' from the DCS: " + err.what(), "pglift.patroni");
    }
  }
  core::crash_point(op, "drop: DCS cleaned");
  op.info("deleting PostgreSQL cluster", "pglift.instances");
  remove_member_files(op.settings, l, e.files);
}

awaitable<TopologyResult> switchover(const core::Op& op, const Layout& l, const SwitchoverOptions& options) {
  const auto& ps = patroni_settings(op);
  auto e = existing(op, l);
  const ViewSource source{ps, e.files, e.config, e.member, e.rest};
  ClusterView view = co_await view_cluster(op, source);
  if (view.state != "running")
    throw StateError("REST API of Patroni " + l.qualname() + " is unreachable at " + e.rest.url() + "; is the instance running?");
  if (view.dcs_error)
    throw Error(ErrorCode::dcs, "cannot switch over cluster '" + e.member.cluster + "': the DCS cannot be reached (" + *view.dcs_error + ")");
  const ClusterMember* leading = view.leader();
  if (!leading) throw StateError("cluster '" + e.member.cluster + "' has no leader at the moment");
  const std::string leader = leading->name;
  std::string candidate = options.candidate.value_or("");
  if (candidate.empty()) {
    std::vector<std::string> reasons;
    for (size_t i = 0; i < view.members.size() && candidate.empty(); ++i) {
      if (view.members[i].name == leader) continue;
      if (view.assessments[i].health == patroni::Health::streaming) candidate = view.members[i].name;
      else reasons.push_back(view.assessments[i].reason);
    }
    if (candidate.empty())
      throw StateError("cluster '" + e.member.cluster + "' has no healthy replica to switch over to" +
                       (reasons.empty() ? std::string() : ": " + core::join(reasons, "; ")));
  }
  if (candidate == leader) throw InvalidSpec("candidate", candidate, "already the leader of cluster '" + e.member.cluster + "'");
  co_await wait_candidate(op, l, e, candidate);
  core::Object body{{"leader", leader}, {"candidate", candidate}};
  if (options.scheduled_at) body.emplace_back("scheduled_at", *options.scheduled_at);
  co_await core::test_hook(op, "switchover.requesting");
  op.info("switching over cluster '" + e.member.cluster + "' from " + leader + " to " + candidate, "pglift.patroni");
  auto r = co_await e.rest.call("POST", "/switchover", body, 2min);
  const std::string text = core::trim(r.body);
  if (r.status == 202) co_return TopologyResult{leader, "", true};
  if (r.status != 200) topology_failure("switchover", candidate, r.status, text);
  co_await wait_leader(ps, l, e, candidate, 60s);
  op.info("switchover done: " + candidate + " is the leader", "pglift.patroni");
  // Return with a settled cluster: the former leader rejoins as a replica (a clean demotion needs no
  // rewind); if it does not within the deadline, say so and leave it to Patroni.
  op.info("waiting for " + leader + " to rejoin as a replica", "pglift.patroni");
  try {
    co_await wait_candidate(op, l, e, leader, false);
  } catch (const Timeout& t) {
    op.warning(t.what(), "pglift.patroni");
  }
  co_return TopologyResult{leader, candidate, false};
}

awaitable<TopologyResult> failover(const core::Op& op, const Layout& l, const std::string& candidate) {
  const auto& ps = patroni_settings(op);
  auto e = existing(op, l);
  std::string leader;
  try {
    leader = co_await leader_of(e.rest, e.member.cluster);
  } catch (const StateError&) {
  }
  if (leader == candidate) throw InvalidSpec("candidate", candidate, "already the leader of cluster '" + e.member.cluster + "'");
  co_await wait_candidate(op, l, e, candidate);
  op.info("failing over cluster '" + e.member.cluster + "' to " + candidate, "pglift.patroni");
  // Bodies are built outside co_await expressions: g++ 12 mishandles initializer lists there.
  const core::Value body = core::Object{{"candidate", candidate}};
  auto r = co_await e.rest.call("POST", "/failover", body, 2min);
  const std::string text = core::trim(r.body);
  if (r.status != 200) topology_failure("failover", candidate, r.status, text);
  co_await wait_leader(ps, l, e, candidate, 60s);
  co_return TopologyResult{leader, candidate, false};
}

awaitable<void> pause(const core::Op& op, const Layout& l, bool pause) {
  auto e = existing(op, l);
  op.info(std::string(pause ? "pausing" : "resuming") + " automatic failover of cluster '" + e.member.cluster + "'", "pglift.patroni");
  const core::Value body = core::Object{{"pause", pause}};
  auto r = co_await e.rest.call("PATCH", "/config", body, 10s);
  if (r.status != 200) throw StateError("PATCH /config failed: HTTP " + std::to_string(r.status) + ": " + core::trim(r.body));
  // Done when every running member says so (each learns it at its next HA loop): a `get` on any member
  // right after this returns sees the new state.
  const auto& ps = patroni_settings(op);
  auto reports = [pause](const std::optional<core::Value>& status) {
    const core::Value* p = status ? status->find("pause") : nullptr;
    return status && (p && p->is_bool() && p->as_bool()) == pause;
  };
  auto reported = [&]() -> awaitable<bool> {
    if (!reports(co_await e.rest.status())) co_return false;
    for (const auto& m : co_await e.rest.cluster(1s)) {
      if (m.name == e.member.node || !m.api_url || (m.state != "running" && m.state != "streaming")) continue;
      const Rest other = Rest::from_api_url(ps, *m.api_url);  // named: no class temporary in a co_await
      auto status = co_await other.status(1s);
      if (status && !reports(status)) co_return false;  // an unreachable member reports nothing
    }
    co_return true;
  };
  co_await wait_on_member(l, e.files, 30s, std::string("pause=") + (pause ? "true" : "false") + " reported by every member of cluster '" +
                                e.member.cluster + "'", reported);
}

awaitable<void> promote(const core::Op& op, const Layout& l) {
  auto e = existing(op, l);
  if (co_await leader_of(e.rest, e.member.cluster) == e.member.node) {
    op.warning("instance " + l.display() + " is already the leader of cluster '" + e.member.cluster + "'", "pglift.patroni");
    co_return;
  }
  SwitchoverOptions options;
  options.candidate = e.member.node;
  co_await switchover(op, l, options);
}

ConfParameters parameters(const Settings& settings, const Layout& l) {
  if (!settings.patroni) throw Unsupported("Patroni is not enabled in site settings ('patroni' key)");
  return patroni::parameters_of(patroni::read(Files::of(*settings.patroni, l).config));
}

awaitable<ConfigurationResult> configure(const core::Op& op, const Layout& l, const ParameterChanges& changes) {
  auto e = existing(op, l);
  ConfParameters params = patroni::parameters_of(e.config);
  ConfigurationResult result;
  result.changes = apply_changes(params, changes);
  if (result.changes.empty()) co_return result;
  if (op.dry_run) {
    co_await simulated(op, l, result);
    co_return result;
  }
  // The YAML is the single source of truth: never read Patroni-injected values back into it.
  patroni::write_parameters(e.files.config, params);
  core::crash_point(op, "configure: Patroni's YAML written");
  auto pm = postgres::running_postmaster(l);
  if (!patroni::running(e.files) || !pm) co_return result;
  std::vector<std::string> names;
  for (const auto& [k, _] : result.changes) names.push_back(k);
  const int port = pm->port;
  auto before = co_await reload_state(op, l, port);
  result.needs_restart = co_await restart_only(op, l, port, names);
  op.info("reloading Patroni " + l.qualname(), "pglift.patroni");
  auto r = co_await e.rest.call("POST", "/reload", core::Object{}, 10s);
  if (r.status != 202 && r.status != 200)
    throw StateError("reload through Patroni failed: HTTP " + std::to_string(r.status) + ": " + core::trim(r.body));
  std::vector<std::string> reloadable;
  for (const auto& n : names)
    if (std::find(result.needs_restart.begin(), result.needs_restart.end(), n) == result.needs_restart.end()) reloadable.push_back(n);
  if (!reloadable.empty())
    op.info("instance " + l.display() + " needs reload due to parameter changes: " + core::join(reloadable, ", "), "pglift.instances");
  // Confirmed when PostgreSQL re-read its files, or reports the pending restart; not confirmed in
  // time is an error (Timeout): the change is in the YAML, but nobody can say it is in effect.
  auto applied = [&]() -> awaitable<bool> {
    auto now = co_await reload_state(op, l, port);
    result.reloaded = now.first != before.first;
    result.pending_restart = now.second;
    co_return result.reloaded || (!result.needs_restart.empty() && now.second);
  };
  co_await wait_on_member(l, e.files, 30s, "the new configuration of " + l.display() + " applied by Patroni", applied);
  if (!result.needs_restart.empty())
    op.warning("instance " + l.display() + " needs restart due to parameter changes: " + core::join(result.needs_restart, ", "),
               "pglift.instances");
  co_return result;
}

}  // namespace pglift::ops::patroni_member
