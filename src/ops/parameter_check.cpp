#include "ops/parameter_check.hpp"

#include <chrono>
#include <mutex>

#include "core/coro.hpp"
#include "postgres/parameter_check.hpp"
#include "postgres/session.hpp"
#include "proc/process.hpp"

namespace pglift::ops {

namespace {

using postgres::ParameterCatalog;

/// --describe-config depends on the binary only: one run per bindir for the life of the process.
std::mutex described_mutex;
std::map<std::string, std::shared_ptr<const ParameterCatalog>> described;

awaitable<std::shared_ptr<const ParameterCatalog>> describe_config(const core::Op& op, const postgres::Layout& l) {
  const std::string key = l.program("postgres").string();
  {
    std::lock_guard lock(described_mutex);
    if (auto it = described.find(key); it != described.end()) co_return it->second;
  }
  proc::Command cmd{.argv = {key, "--describe-config"}, .timeout = std::chrono::seconds(30), .log_target = "pglift.describe_config"};
  auto r = co_await proc::run(op, std::move(cmd));
  auto catalog = std::make_shared<const ParameterCatalog>(postgres::parse_describe_config(r.output));
  if (catalog->empty()) throw Error(ErrorCode::internal, key + " --describe-config described no parameter");
  std::lock_guard lock(described_mutex);
  described[key] = catalog;
  co_return catalog;
}

awaitable<std::shared_ptr<const ParameterCatalog>> pg_settings(const core::Op& op, const postgres::Layout& l, int port) {
  auto query = [&settings = op.settings, l, port] {
    postgres::Session s(postgres::conninfo(settings, l, port));
    auto rows = s.query("SELECT name, vartype, unit, min_val, max_val, array_to_string(enumvals, ',') FROM pg_settings");
    auto catalog = std::make_shared<ParameterCatalog>();
    for (const auto& row : rows) postgres::add_pg_settings_row(*catalog, row);
    return std::shared_ptr<const ParameterCatalog>(std::move(catalog));
  };
  co_return co_await core::cancellable(op, query);
}

}  // namespace

awaitable<void> check_parameters(const core::Op& op, const postgres::Layout& l, const ParameterChanges& changes) {
  bool any_set = false;
  for (const auto& [_, value] : changes) any_set = any_set || value.has_value();
  if (!any_set) co_return;
  std::shared_ptr<const ParameterCatalog> catalog;
  if (auto pm = postgres::running_postmaster(l); pm && pm->status != "starting" && pm->status != "stopping")
    catalog = co_await pg_settings(op, l, pm->port);
  else
    catalog = co_await describe_config(op, l);
  for (const auto& [name, value] : changes)
    if (value) postgres::check_parameter(*catalog, name, *value);
}

}  // namespace pglift::ops
