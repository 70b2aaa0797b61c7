#include "concurrently.hpp"

#include <atomic>
#include <latch>
#include <memory>

namespace cli {
namespace {

/// Where a completion lands. A launch that throws completes its slot itself: `done` makes sure the latch
/// is counted down once per instance whoever gets there first.
struct Slot {
  std::exception_ptr error;
  std::atomic<bool> done{false};

  void complete(std::exception_ptr e, std::latch& all_done) {
    if (done.exchange(true)) return;
    error = std::move(e);
    all_done.count_down();
  }
};

}  // namespace

std::vector<Failure> run_concurrently(Interrupts& interrupts, const std::vector<pglift::InstanceRef>& instances,
                                      const Launch& launch) {
  std::vector<Slot> slots(instances.size());
  std::latch all_done(static_cast<std::ptrdiff_t>(instances.size()));
  for (std::size_t i = 0; i < instances.size(); ++i) {
    Slot& slot = slots[i];
    try {
      // Tags tell the operations' events apart (the progress display follows each of them).
      interrupts.watch(launch(
          instances[i], [&slot, &all_done](std::exception_ptr e) { slot.complete(std::move(e), all_done); },
          pglift::OpOptions{.tag = i + 1}));
    } catch (...) {
      slot.complete(std::current_exception(), all_done);
    }
  }
  all_done.wait();
  interrupts.forget_all();

  std::vector<Failure> failures;
  for (std::size_t i = 0; i < instances.size(); ++i)
    if (slots[i].error) failures.push_back({instances[i], slots[i].error});
  return failures;
}

}  // namespace cli
