// The README's C++ example: a Patroni member's configuration and its cluster as values.
// Reads the member's Patroni configuration, changes a parameter, validates and saves it (then reloads),
// and switches the leader over, awaiting it with use_awaitable.
//   cluster_example INSTANCE PARAMETER=VALUE [CANDIDATE]
// Settings come from the environment, as for the pglift CLI (SETTINGS, PGLIFT_CONFIG_DIR...).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <iostream>
#include <pglift/async.hpp>
#include <pglift/cluster.hpp>
#include <pglift/errors.hpp>
#include <pglift/patroni_config.hpp>

namespace asio = boost::asio;

int main(int argc, char** argv) try {
  if (argc < 3 || std::string_view(argv[2]).find('=') == std::string_view::npos) {
    std::cerr << "usage: " << argv[0] << " INSTANCE PARAMETER=VALUE [CANDIDATE]\n";
    return 2;
  }
  const std::string assignment = argv[2];
  const std::string parameter = assignment.substr(0, assignment.find('='));
  const std::string value = assignment.substr(assignment.find('=') + 1);

  pglift::Context ctx;
  const pglift::InstanceRef member = pglift::resolve_instance(ctx, argv[1]);

  // The member's Patroni YAML as a typed value (its secrets redacted), a parameter changed.
  pglift::PatroniConfig config = pglift::PatroniConfig::load(ctx, member);
  config.set_parameter(parameter, pglift::ConfValue{value});
  // Patroni's own validation of the would-be document; nothing is written when it finds a problem.
  if (auto issues = config.validate(ctx, member); !issues.empty()) {
    for (const auto& issue : issues) std::cerr << issue.field << ": " << issue.message << '\n';
    return 1;
  }
  config.save(ctx, member);             // atomic, 0600, the file's secrets and unknown keys kept
  pglift::reload_instance(ctx, member);  // Patroni re-reads its YAML (POST /reload, confirmed)
  std::cout << "set " << parameter << " = " << value << " in " << config.scope() << "/" << config.name() << '\n';

  // The cluster, seen through this member; a switchover awaited with use_awaitable.
  pglift::Cluster cluster = pglift::Cluster::of(ctx, member);
  pglift::SwitchoverOptions options;
  if (argc > 3) options.candidate = argv[3];
  asio::io_context io;
  std::exception_ptr failure;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        pglift::TopologyResult r = co_await pglift::async_cluster_switchover(ctx, cluster, options, asio::use_awaitable);
        std::cout << "switched over: " << r.previous_leader << " -> " << r.new_leader << '\n';
      },
      [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  // The Cluster was refreshed by the action: it shows the new leader.
  std::cout << "leader now: " << cluster.leader().value_or("(none)") << '\n';
  return 0;
} catch (const pglift::Error& e) {
  std::cerr << "error: " << e.what() << '\n';
  return 1;
}
