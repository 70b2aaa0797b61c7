// Role operations: SQL through ops::sql on the running instance, and the passfile.
//
// Locking: a role operation holds the instance lock shared (InstanceLock::Shared): role operations of
// one instance run together (PostgreSQL serialises what must be), but none runs while the instance is
// created, dropped, started, stopped or configured, and those wait for no role operation either: Busy.
// A stopped plain instance is started for the operation and stopped after it (ops::sql::on_running).
// The passfile, shared by every instance, is edited under its own lock ({run_prefix}/locks/passfile.lock).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "core/files.hpp"
#include "core/text.hpp"
#include "ops/context_impl.hpp"
#include "ops/lock.hpp"
#include "ops/lookup.hpp"
#include "ops/sql.hpp"
#include "ops/sql_objects.hpp"
#include "ops/transaction.hpp"
#include "pglift/roles.hpp"
#include "postgres/roles.hpp"
#include "postgres/session.hpp"

namespace pglift {
using postgres::Layout;
using postgres::Session;

namespace ops {
namespace {

const char* const log_target = "pglift.roles";

postgres::Quoter quoter(Session& s) {
  return {[&s](std::string_view n) { return s.identifier(n); }, [&s](std::string_view v) { return s.literal(v); }};
}

bool role_exists(Session& s, const std::string& name) {
  return !s.query("SELECT true FROM pg_roles WHERE rolname = $1", {name}).empty();
}

void require_roles(Session& s, const std::vector<std::string>& names) {
  for (const auto& n : names)
    if (!role_exists(s, n)) throw NotFound("role", n);
}

void check_valid_until(Session& s, const std::optional<std::string>& valid_until) {
  if (!valid_until) return;
  try {
    s.query("SELECT $1::timestamptz", {*valid_until});
  } catch (const StateError&) {
    throw InvalidSpec("valid_until", *valid_until, "expecting an ISO 8601 date and time (or 'infinity')");
  }
}

std::vector<std::string> member_of(Session& s, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& row : s.query("SELECT g.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
                                 "JOIN pg_roles g ON g.oid = m.roleid WHERE r.rolname = $1 ORDER BY 1",
                                 {name}))
    out.push_back(row.at(0).value_or(""));
  return out;
}

// --- the passfile ------------------------------------------------------------------------------------

/// The passfile's own lock: every instance's role operations share the file.
class PassfileLock {
 public:
  explicit PassfileLock(const Settings& settings) {
    auto dir = settings.run_prefix / "locks";
    core::make_dirs(dir, 0700);
    auto path = dir / "passfile.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw SystemError("cannot open lock file " + path.string() + ": " + std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0) {  // held for a read and a rename only: wait for it
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd_);
      throw_lock_error(err, path.string());
    }
  }
  ~PassfileLock() { ::close(fd_); }
  PassfileLock(const PassfileLock&) = delete;
  PassfileLock& operator=(const PassfileLock&) = delete;

 private:
  int fd_;
};

std::optional<std::string> passfile_password(const Settings& settings, int port, const std::string& role) {
  if (!settings.postgresql.auth.passfile) return std::nullopt;
  auto text = core::read_file_if_exists(*settings.postgresql.auth.passfile);
  return text ? postgres::pgpass_password(*text, port, role) : std::nullopt;
}

/// Sets (or, with nullopt, removes) the line of (port, role): 0600, atomic, sorted.
void set_passfile(const Settings& settings, int port, const std::string& role, const std::optional<std::string>& password) {
  if (!settings.postgresql.auth.passfile) return;
  const auto& path = *settings.postgresql.auth.passfile;
  PassfileLock lock(settings);
  auto text = core::read_file_if_exists(path);
  if (!text && !password) return;
  std::string updated = postgres::pgpass_with(text.value_or(""), port, role, password);
  if (text && updated == *text) return;
  if (path.has_parent_path()) core::make_dirs(path.parent_path(), 0700);
  core::write_file_atomic(path, updated, 0600);
}

void require_passfile(const Settings& settings) {
  if (!settings.postgresql.auth.passfile)
    throw InvalidSpec("pgpass", "true", "no passfile is configured (site settings: postgresql.auth.passfile)");
}

// --- the operations ----------------------------------------------------------------------------------

std::string on(const std::string& name, const Layout& l) { return "role '" + name + "' on instance " + l.display(); }

/// A dry run executes the statements in a transaction it rolls back: PostgreSQL checks them (names,
/// privileges, memberships, dependencies) and nothing changes; the passfile is not touched.
const char* const dry_run_note = " (dry run: rolled back, nothing changed)";

/// DROP ROLE's dependency error, in our words (with PostgreSQL's DETAIL on one line); other errors pass.
void throw_if_dependent(const std::string& name, const StateError& e) {
  std::string msg = e.what();
  if (msg.find("cannot be dropped because some objects depend on it") == std::string::npos) return;
  std::string detail;
  if (auto at = msg.find("DETAIL:"); at != std::string::npos) detail = " (" + core::trim(msg.substr(at + 7)) + ")";
  std::replace(detail.begin(), detail.end(), '\n', ';');
  throw StateError("role '" + name + "' cannot be dropped: objects depend on it" + detail +
                   "; drop them with drop_owned, or give them to another role with reassign_owned");
}

void rolled_back(Session& s, const std::vector<std::string>& statements) {
  s.execute("BEGIN");
  for (const auto& sql : statements) s.execute(sql);
  s.execute("ROLLBACK");
}

awaitable<void> create(const core::Op& op, const sql::Target& t, const RoleSpec& spec);

awaitable<void> create(const core::Op& op, const InstanceRef& ref, const RoleSpec& spec) {
  spec.validate();
  if (spec.pgpass) require_passfile(op.settings);
  auto body = [&](const sql::Target& t) -> awaitable<void> { co_await create(op, t, spec); };
  co_await sql::on_running(op, ref, body);
}

/// The creation proper, on a running instance whose lock the caller holds.
awaitable<void> create(const core::Op& op, const sql::Target& t, const RoleSpec& spec) {
  const Layout& l = t.layout;
  co_await sql::require_primary(op, t);
  auto check = [&](Session& s) {
    if (role_exists(s, spec.name)) throw AlreadyExists("role '" + spec.name + "' already exists");
    require_roles(s, spec.in_roles);
    check_valid_until(s, spec.valid_until);
    return 0;
  };
  co_await sql::with_session(op, t, check);
  if (op.dry_run) {
    auto simulate = [&](Session& s) {
      std::optional<std::string> encrypted = spec.encrypted_password;
      if (spec.password) encrypted = s.encrypt_password(*spec.password, spec.name);
      rolled_back(s, {postgres::create_role_sql(quoter(s), spec.name, postgres::attributes_of(spec, encrypted), spec.in_roles)});
      return 0;
    };
    co_await sql::with_session(op, t, simulate);
    op.info("creating " + on(spec.name, l) + dry_run_note, log_target);
    co_return;
  }

  bool created = false;  // only what this call created is reverted
  const auto previous_entry = spec.pgpass ? passfile_password(op.settings, t.port, spec.name) : std::nullopt;
  co_await transactional<int>(op, true, [&](Transaction& tx) -> awaitable<int> {
    Transaction::Action create_it = [&]() -> awaitable<void> {
      auto run = [&](Session& s) {
        std::optional<std::string> encrypted = spec.encrypted_password;
        if (spec.password) encrypted = s.encrypt_password(*spec.password, spec.name);
        s.execute("SET lc_messages TO 'C'");  // a concurrent creation is recognised by its text
        try {
          s.execute(postgres::create_role_sql(quoter(s), spec.name, postgres::attributes_of(spec, encrypted), spec.in_roles));
        } catch (const StateError& e) {
          // Created by someone else since the check (PostgreSQL says so, or, when both statements ran
          // at once, its unique index does): theirs, not ours to revert.
          const std::string msg = e.what();
          if (msg.find("already exists") != std::string::npos &&
              (msg.find("role \"") != std::string::npos || msg.find("pg_authid_rolname_index") != std::string::npos))
            throw AlreadyExists("role '" + spec.name + "' already exists");
          throw;
        }
        created = true;
        return 0;
      };
      co_await sql::with_session(op, t, run);
    };
    Transaction::Action drop_it = [&]() -> awaitable<void> {
      if (!created) co_return;
      auto run = [&](Session& s) {
        s.execute(postgres::drop_role_sql(quoter(s), spec.name));
        return 0;
      };
      co_await sql::with_session(op, t, run);
    };
    co_await tx.step("creating " + on(spec.name, l), std::move(create_it), "dropping " + on(spec.name, l),
                     std::move(drop_it));
    if (spec.pgpass) {
      Transaction::Action add = [&]() -> awaitable<void> {
        auto run = [&] { set_passfile(op.settings, t.port, spec.name, spec.password); };
        co_await core::blocking(op, run);
      };
      Transaction::Action restore = [&]() -> awaitable<void> {
        auto run = [&] { set_passfile(op.settings, t.port, spec.name, previous_entry); };
        co_await core::blocking(op, run);
      };
      co_await tx.step("adding a passfile entry for role '" + spec.name + "'", std::move(add), {}, std::move(restore));
    }
    co_return 0;
  });
}

awaitable<void> alter(const core::Op& op, const sql::Target& t, const std::string& name, const RoleChanges& changes);

awaitable<void> alter(const core::Op& op, const InstanceRef& ref, const std::string& name, const RoleChanges& changes) {
  postgres::validate_role_name("name", name);
  changes.validate();
  if (changes.pgpass == true) require_passfile(op.settings);
  auto body = [&](const sql::Target& t) -> awaitable<void> { co_await alter(op, t, name, changes); };
  co_await sql::on_running(op, ref, body);
}

/// The alter proper, on a running instance whose lock the caller holds (changes validated).
awaitable<void> alter(const core::Op& op, const sql::Target& t, const std::string& name, const RoleChanges& changes) {
  const Layout& l = t.layout;
  co_await sql::require_primary(op, t);
  const auto entry = passfile_password(op.settings, t.port, name);
  if (changes.pgpass == true && !entry && !changes.password)
    throw InvalidSpec::missing("password", "'pgpass' needs the role's 'password' (its clear text goes to the passfile)");
  op.info("altering " + on(name, l) + (op.dry_run ? dry_run_note : ""), log_target);
  // From here on the alter runs to its end: once committed it cannot be taken back, and a cancellation
  // arriving later must not report it undone.
  co_await asio::this_coro::reset_cancellation_state(core::no_cancellation);
  co_await asio::this_coro::throw_if_cancelled(false);
  auto run = [&](Session& s) {
    if (!role_exists(s, name)) throw NotFound("role", name);
    require_roles(s, changes.grant);
    require_roles(s, changes.revoke);
    check_valid_until(s, changes.valid_until);
    std::optional<std::string> encrypted = changes.encrypted_password;
    if (changes.password) encrypted = s.encrypt_password(*changes.password, name);
    auto statements = postgres::alter_role_sql(quoter(s), name, postgres::attributes_of(changes, encrypted), changes.grant,
                                               changes.revoke, member_of(s, name));
    if (statements.empty()) return 0;
    if (op.dry_run) {
      rolled_back(s, statements);
      return 0;
    }
    // One SQL transaction: all of it or nothing (a session closed mid-way rolls back).
    s.execute("BEGIN");
    for (const auto& sql : statements) s.execute(sql);
    s.execute("COMMIT");
    return 0;
  };
  co_await sql::with_session(op, t, run);
  if (op.dry_run) co_return;
  std::optional<std::optional<std::string>> passfile;  // what to write: a password, or nullopt to remove
  if (changes.pgpass == false && entry) passfile.emplace(std::nullopt);
  else if (changes.password && (changes.pgpass == true || (!changes.pgpass && entry))) passfile.emplace(changes.password);
  else if (changes.encrypted_password && entry) passfile.emplace(std::nullopt);  // the entry would be stale
  if (passfile) {
    auto write = [&] { set_passfile(op.settings, t.port, name, *passfile); };
    co_await core::blocking(op, write);
  }
}

Role observed(const Settings& settings, Session& s, int port, const std::vector<std::optional<std::string>>& row) {
  Role r = postgres::role_of(row);
  r.in_roles = member_of(s, r.name);
  r.pgpass = passfile_password(settings, port, r.name).has_value();
  return r;
}

/// The role as get shows it, nullopt when there is none, on a running instance.
awaitable<std::optional<Role>> find(const core::Op& op, const sql::Target& t, const std::string& name) {
  auto run = [&](Session& s) -> std::optional<Role> {
    auto rows = s.query(std::string("SELECT ") + postgres::role_columns + " FROM pg_authid r WHERE r.rolname = $1", {name});
    if (rows.empty()) return std::nullopt;
    return observed(op.settings, s, t.port, rows.at(0));
  };
  co_return co_await sql::with_session(op, t, run);
}

awaitable<Role> get(const core::Op& op, const InstanceRef& ref, const std::string& name) {
  postgres::validate_role_name("name", name);
  auto body = [&](const sql::Target& t) -> awaitable<Role> {
    std::optional<Role> found = co_await find(op, t, name);
    if (!found) throw NotFound("role", name);
    co_return std::move(*found);
  };
  co_return co_await sql::on_running(op, ref, body);
}

awaitable<std::vector<Role>> list(const core::Op& op, const InstanceRef& ref) {
  auto body = [&](const sql::Target& t) -> awaitable<std::vector<Role>> {
    auto run = [&](Session& s) {
      std::vector<Role> roles;
      for (const auto& row : s.query(std::string("SELECT ") + postgres::role_columns +
                                     " FROM pg_authid r WHERE r.rolname !~ '^pg_' ORDER BY r.rolname"))
        roles.push_back(observed(op.settings, s, t.port, row));
      return roles;
    };
    co_return co_await sql::with_session(op, t, run);
  };
  co_return co_await sql::on_running(op, ref, body);
}

awaitable<void> drop(const core::Op& op, const sql::Target& t, const std::string& name, const RoleDropOptions& options);

awaitable<void> drop(const core::Op& op, const InstanceRef& ref, const std::string& name, const RoleDropOptions& options) {
  postgres::validate_role_name("name", name);
  options.validate();
  auto body = [&](const sql::Target& t) -> awaitable<void> { co_await drop(op, t, name, options); };
  co_await sql::on_running(op, ref, body);
}

/// The drop proper, on a running instance whose lock the caller holds (options validated).
awaitable<void> drop(const core::Op& op, const sql::Target& t, const std::string& name, const RoleDropOptions& options) {
  co_await sql::require_primary(op, t);
  auto check = [&](Session& s) {
    if (!role_exists(s, name)) throw NotFound("role", name);
    if (options.reassign_owned && !role_exists(s, *options.reassign_owned)) throw NotFound("role", *options.reassign_owned);
    std::vector<std::string> databases;
    for (const auto& row : s.query("SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1"))
      databases.push_back(row.at(0).value_or(""));
    return databases;
  };
  auto databases = co_await sql::with_session(op, t, check);
  if (op.dry_run) {
    // REASSIGN/DROP OWNED checked database by database; the DROP ROLE itself only when nothing else
    // would have removed its dependencies first (those rolled-back transactions did not).
    for (const auto& db : databases) {
      auto owned = [&](Session& s) {
        const std::string sql = postgres::owned_sql(quoter(s), name, options);
        if (!sql.empty()) rolled_back(s, {sql});
        return 0;
      };
      if (options.drop_owned || options.reassign_owned) co_await sql::with_session(op, t, owned, db);
    }
    if (!options.drop_owned && !options.reassign_owned) {
      auto trial = [&](Session& s) {
        s.execute("SET lc_messages TO 'C'");
        try {
          rolled_back(s, {postgres::drop_role_sql(quoter(s), name)});
        } catch (const StateError& e) {
          throw_if_dependent(name, e);
          throw;
        }
        return 0;
      };
      co_await sql::with_session(op, t, trial);
    }
    op.info("dropping " + on(name, t.layout) + dry_run_note, log_target);
    co_return;
  }
  op.info("dropping " + on(name, t.layout), log_target);
  // From here on the drop runs to its end: REASSIGN/DROP OWNED, database by database, cannot be reverted.
  co_await asio::this_coro::reset_cancellation_state(core::no_cancellation);
  co_await asio::this_coro::throw_if_cancelled(false);
  // REASSIGN/DROP OWNED act on the current database (and shared objects): run them in each.
  for (const auto& db : databases) {
    auto owned = [&](Session& s) {
      const std::string sql = postgres::owned_sql(quoter(s), name, options);
      if (!sql.empty()) s.execute(sql);
      return 0;
    };
    if (options.drop_owned || options.reassign_owned) co_await sql::with_session(op, t, owned, db);
  }
  auto run = [&](Session& s) {
    s.execute("SET lc_messages TO 'C'");  // the dependency error is recognised by its text
    try {
      s.execute(postgres::drop_role_sql(quoter(s), name));
    } catch (const StateError& e) {
      throw_if_dependent(name, e);
      throw;
    }
    return 0;
  };
  co_await sql::with_session(op, t, run);
  auto remove = [&] { set_passfile(op.settings, t.port, name, std::nullopt); };
  co_await core::blocking(op, remove);
}

auto create_body(InstanceRef ref, RoleSpec spec) {
  return dry_runnable([ref = std::move(ref), spec = std::move(spec)](const core::Op& op) { return create(op, ref, spec); });
}
auto alter_body(InstanceRef ref, std::string name, RoleChanges changes) {
  return dry_runnable([ref = std::move(ref), name = std::move(name), changes = std::move(changes)](const core::Op& op) {
    return alter(op, ref, name, changes);
  });
}
auto get_body(InstanceRef ref, std::string name) {
  return [ref = std::move(ref), name = std::move(name)](const core::Op& op) { return get(op, ref, name); };
}
auto list_body(InstanceRef ref) {
  return [ref = std::move(ref)](const core::Op& op) { return list(op, ref); };
}
auto drop_body(InstanceRef ref, std::string name, RoleDropOptions options) {
  return dry_runnable([ref = std::move(ref), name = std::move(name), options = std::move(options)](const core::Op& op) {
    return drop(op, ref, name, options);
  });
}

}  // namespace

awaitable<void> create_role(const core::Op& op, const sql::Target& t, const RoleSpec& spec, Transaction& outer) {
  spec.validate();
  if (spec.pgpass) {
    require_passfile(op.settings);
    // The entry as it was, put back when `outer` reverts (the file is shared by every instance).
    auto previous = passfile_password(op.settings, t.port, spec.name);
    outer.on_revert("adding a passfile entry for role '" + spec.name + "'", {},
                    [&op, port = t.port, name = spec.name, previous]() -> awaitable<void> {
                      auto run = [&] { set_passfile(op.settings, port, name, previous); };
                      co_await core::blocking(op, run);
                    });
  }
  co_await create(op, t, spec);
}

namespace {

/// What get would show once `spec` is applied to `r` (a dry run's answer).
Role applied(Role r, const RoleSpec& spec) {
  r.inherit = spec.inherit;
  r.login = spec.login;
  r.superuser = spec.superuser;
  r.createdb = spec.createdb;
  r.createrole = spec.createrole;
  r.replication = spec.replication;
  r.connection_limit = spec.connection_limit;
  if (spec.valid_until) r.valid_until = spec.valid_until;
  if (spec.password || spec.encrypted_password) r.has_password = true;
  for (const auto& g : spec.in_roles)
    if (std::find(r.in_roles.begin(), r.in_roles.end(), g) == r.in_roles.end()) r.in_roles.push_back(g);
  std::sort(r.in_roles.begin(), r.in_roles.end());
  r.pgpass = spec.pgpass;
  return r;
}

}  // namespace

awaitable<ChangeState> apply_role(const core::Op& op, const sql::Target& t, const RoleSpec& spec) {
  spec.validate();
  if (spec.pgpass) require_passfile(op.settings);
  const std::optional<Role> before = co_await find(op, t, spec.name);
  if (!before) {
    co_await create(op, t, spec);
    co_return ChangeState::created;
  }
  RoleChanges c;
  c.password = spec.password;
  c.encrypted_password = spec.encrypted_password;
  c.inherit = spec.inherit;
  c.login = spec.login;
  c.superuser = spec.superuser;
  c.createdb = spec.createdb;
  c.createrole = spec.createrole;
  c.replication = spec.replication;
  c.connection_limit = spec.connection_limit.value_or(-1);  // the manifest is the whole role: none is no limit
  c.valid_until = spec.valid_until;                         // not given: left as it is
  c.pgpass = spec.pgpass;
  for (const auto& g : spec.in_roles)
    if (std::find(before->in_roles.begin(), before->in_roles.end(), g) == before->in_roles.end()) c.grant.push_back(g);
  c.validate();
  co_await alter(op, t, spec.name, c);
  std::optional<Role> after;
  if (op.dry_run) after = applied(*before, spec);
  else after = co_await find(op, t, spec.name);
  co_return after && to_json(*after) == to_json(*before) ? ChangeState::unchanged : ChangeState::changed;
}

awaitable<ChangeState> apply_absent_role(const core::Op& op, const sql::Target& t, const std::string& name) {
  postgres::validate_role_name("name", name);
  const std::optional<Role> found = co_await find(op, t, name);
  if (!found) co_return ChangeState::unchanged;
  const RoleDropOptions none;
  co_await drop(op, t, name, none);
  co_return ChangeState::dropped;
}

}  // namespace ops

namespace {
Context::Impl& impl(Context& ctx) { return ctx.impl(); }
}  // namespace

void create_role(Context& ctx, const InstanceRef& ref, const RoleSpec& spec, const OpOptions& options) {
  impl(ctx).run<void>(ops::create_body(ref, spec), options);
}
void alter_role(Context& ctx, const InstanceRef& ref, const std::string& name, const RoleChanges& changes,
                const OpOptions& options) {
  impl(ctx).run<void>(ops::alter_body(ref, name, changes), options);
}
Role get_role(Context& ctx, const InstanceRef& ref, const std::string& name) {
  return impl(ctx).run<Role>(ops::get_body(ref, name));
}
std::vector<Role> list_roles(Context& ctx, const InstanceRef& ref) {
  return impl(ctx).run<std::vector<Role>>(ops::list_body(ref));
}
void drop_role(Context& ctx, const InstanceRef& ref, const std::string& name, const RoleDropOptions& options,
               const OpOptions& op) {
  impl(ctx).run<void>(ops::drop_body(ref, name, options), op);
}

Operation start_create_role(Context& ctx, InstanceRef ref, RoleSpec spec, Callback<> done, OpOptions op) {
  return impl(ctx).launch<void>(op, ops::create_body(std::move(ref), std::move(spec)), std::move(done));
}
Operation start_alter_role(Context& ctx, InstanceRef ref, std::string name, RoleChanges changes, Callback<> done,
                           OpOptions op) {
  return impl(ctx).launch<void>(op, ops::alter_body(std::move(ref), std::move(name), std::move(changes)), std::move(done));
}
Operation start_get_role(Context& ctx, InstanceRef ref, std::string name, Callback<Role> done, OpOptions op) {
  return impl(ctx).launch<Role>(op, ops::get_body(std::move(ref), std::move(name)), std::move(done));
}
Operation start_list_roles(Context& ctx, InstanceRef ref, Callback<std::vector<Role>> done, OpOptions op) {
  return impl(ctx).launch<std::vector<Role>>(op, ops::list_body(std::move(ref)), std::move(done));
}
Operation start_drop_role(Context& ctx, InstanceRef ref, std::string name, RoleDropOptions options, Callback<> done,
                          OpOptions op) {
  return impl(ctx).launch<void>(op, ops::drop_body(std::move(ref), std::move(name), std::move(options)), std::move(done));
}

}  // namespace pglift
