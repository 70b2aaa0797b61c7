// The command table: what each leaf of the command tree does once the command line is parsed.
#pragma once
#include <functional>
#include <map>

#include "session.hpp"

namespace CLI {
class App;
}

namespace cli {

/// Runs a command; returns the process exit status. Errors are thrown (see main.cpp for their statuses).
using Action = std::function<int(Session&)>;

class Commands {
 public:
  void add(const CLI::App& command, Action action) { actions_[&command] = std::move(action); }
  /// The action registered for `command`, or null (a group such as `instance` has none).
  const Action* find(const CLI::App& command) const {
    auto it = actions_.find(&command);
    return it == actions_.end() ? nullptr : &it->second;
  }

 private:
  std::map<const CLI::App*, Action> actions_;
};

}  // namespace cli
