#include "spinner.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <string_view>

namespace cli {
namespace {

using namespace std::chrono_literals;

constexpr auto redraw_interval = 80ms;
constexpr std::array<std::string_view, 10> frames = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
constexpr std::string_view erase_line = "\r\x1b[K";

std::size_t terminal_columns() {
  winsize size{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

void write_stderr(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

Spinner::Spinner(std::mutex& output_lock) : lock_(output_lock), columns_(terminal_columns()), thread_([this] { run(); }) {}

Spinner::~Spinner() {
  {
    std::lock_guard lock(lock_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Spinner::begin(std::uint64_t tag, std::string title) {
  steps_.emplace_back(tag, std::move(title));
  wake_.notify_one();
}

void Spinner::end(std::uint64_t tag, const std::string& title) {
  auto it = std::find(steps_.rbegin(), steps_.rend(), std::pair{tag, title});
  if (it != steps_.rend()) steps_.erase(std::next(it).base());
  if (steps_.empty()) clear();
}

void Spinner::clear() {
  if (!drawn_) return;
  write_stderr(erase_line);
  drawn_ = false;
}

void Spinner::run() {
  std::unique_lock lock(lock_);
  while (!stopping_) {
    if (steps_.empty()) {
      wake_.wait(lock);
      continue;
    }
    draw();
    wake_.wait_for(lock, redraw_interval);
  }
  clear();
}

void Spinner::draw() {
  std::string line(erase_line);
  line += frames[frame_++ % frames.size()];
  line += ' ';
  // A wrapped line could not be erased with one carriage return: keep it within the terminal.
  line += steps_.back().second.substr(0, columns_ > 3 ? columns_ - 3 : 0);
  write_stderr(line);
  drawn_ = true;
}

}  // namespace cli
