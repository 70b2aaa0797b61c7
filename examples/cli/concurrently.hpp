// `--all`: one asynchronous operation per instance, all at once, then wait for every one of them.
#pragma once
#include <exception>
#include <functional>
#include <vector>

#include <pglift/instance.hpp>
#include <pglift/operations.hpp>

#include "interrupts.hpp"

namespace cli {

/// Starts the operation on one instance, e.g. pglift::start_start_instance.
using Launch = std::function<pglift::Operation(const pglift::InstanceRef& instance, pglift::Callback<> done,
                                               pglift::OpOptions options)>;

struct Failure {
  pglift::InstanceRef instance;
  std::exception_ptr error;
};

/// Returns when every operation has completed; the failures in the order of `instances`. An interrupt
/// cancels them all.
std::vector<Failure> run_concurrently(Interrupts& interrupts, const std::vector<pglift::InstanceRef>& instances,
                                      const Launch& launch);

}  // namespace cli
