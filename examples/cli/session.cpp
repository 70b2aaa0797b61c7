#include "session.hpp"

namespace cli {

Session::Session(const GlobalOptions& options) : console_(options.console), interactive_(options.interactive) {}

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
