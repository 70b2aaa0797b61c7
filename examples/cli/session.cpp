#include "session.hpp"

#include <cstdlib>
#include <cstring>

namespace cli {

namespace {
/// The value, then blanked where the kernel shows it (/proc/PID/environ reads the initial environment
/// block, which unsetenv leaves as it is) and removed from the environment children inherit.
std::optional<std::string> take_variable(const char* name) {
  char* value = std::getenv(name);
  if (!value) return std::nullopt;
  std::string copy = value;
  std::memset(value, 'x', copy.size());
  ::unsetenv(name);
  return copy;
}
}  // namespace

EnvironmentPasswords take_environment_passwords() {
  EnvironmentPasswords passwords;
  passwords.surole = take_variable(EnvironmentPasswords::surole_variable);
  passwords.replrole = take_variable(EnvironmentPasswords::replrole_variable);
  return passwords;
}

Session::Session(const GlobalOptions& options)
    : console_(options.console), interactive_(options.interactive), environment_passwords_(options.environment_passwords) {}

Session::~Session() = default;

pglift::Context& Session::context() {
  if (!context_) context_ = std::make_unique<pglift::Context>(console_.sink());
  return *context_;
}

Interrupts& Session::interrupts() {
  if (!interrupts_) interrupts_ = std::make_unique<Interrupts>();
  return *interrupts_;
}

}  // namespace cli
