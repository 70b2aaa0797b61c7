// A one-line activity indicator on stderr ("⠋ initializing PostgreSQL") while library steps run,
// like pglift's live task display. Only for a terminal: it draws with carriage returns and erasures.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace cli {

class Spinner {
 public:
  /// `output_lock` serialises every write to stderr; callers of begin, end and clear hold it.
  explicit Spinner(std::mutex& output_lock);
  /// Stops the redraw thread and erases the line; call without holding the lock.
  ~Spinner();
  Spinner(const Spinner&) = delete;
  Spinner& operator=(const Spinner&) = delete;

  void begin(std::uint64_t tag, std::string title);
  void end(std::uint64_t tag, const std::string& title);
  /// Erases the indicator so that other output starts on a clean line; the next tick redraws it.
  void clear();

 private:
  void run();
  void draw();

  std::mutex& lock_;
  std::condition_variable wake_;
  std::vector<std::pair<std::uint64_t, std::string>> steps_;  ///< open steps; the newest is shown
  std::size_t columns_;
  std::size_t frame_ = 0;
  bool drawn_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cli
