// The in-tree fuzzing driver: main() for a target that defines LLVMFuzzerTestOneInput (libFuzzer's entry
// point, so the same target also links with clang's -fsanitize=fuzzer, see README.md). It replays the
// target's seed corpus, then mutates corpus entries until its time is up. Blind (no coverage feedback):
// bit flips, byte insertions and deletions, interesting bytes, numbers and tokens (the built-in ones and
// words taken from the seeds), chunk copies and splices between entries. Under ASan+UBSan (the CI build)
// a crash, a sanitizer report, an escaped exception or a hang leaves the input in the crash directory.
//
//   fuzz_<target> [--seconds N] [--seed S] [--corpus DIR] [--crash-dir DIR] [--max-len N] [--timeout N]
//   fuzz_<target> FILE...           replays these inputs only (to reproduce a crash)
//
// PGLIFT_FUZZ_SECONDS and PGLIFT_FUZZ_SEED override --seconds and --seed (longer runs through meson test).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cctype>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));
// ASan and UBSan call it before they end the process with a report (absent without sanitizers).
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// --- the input under test, for the crash handlers (signal context: no allocation there) -------------

const uint8_t* volatile current_data = nullptr;
volatile size_t current_size = 0;
char crash_path[4096];
std::atomic<std::uint64_t> runs{0};
std::atomic<bool> in_run{false};

void write_all(int fd, const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = ::write(fd, c, n);
    if (w <= 0) return;
    c += w;
    n -= static_cast<size_t>(w);
  }
}

void say(const char* s) { write_all(2, s, std::strlen(s)); }

/// Async-signal-safe: writes the input being run to crash_path, once.
void save_current_input() {
  static std::atomic<bool> saved{false};
  if (saved.exchange(true) || !in_run.load() || crash_path[0] == '\0') return;
  int fd = ::open(crash_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    say("fuzz: cannot write the crash input\n");
    return;
  }
  write_all(fd, current_data, current_size);
  ::close(fd);
  say("fuzz: the input is saved in ");
  say(crash_path);
  say("\nfuzz: reproduce with: <this executable> ");
  say(crash_path);
  say("\n");
}

void on_signal(int sig) {
  save_current_input();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void on_terminate() {
  say("fuzz: std::terminate (an exception escaped the target?)\n");
  if (auto e = std::current_exception()) try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      say("fuzz: exception: ");
      say(x.what());
      say("\n");
    } catch (...) {
    }
  save_current_input();
  std::abort();
}

void install_handlers() {
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTERM, SIGINT})
    if (sig != SIGSEGV || !__sanitizer_set_death_callback) ::signal(sig, on_signal);  // ASan owns SEGV
  std::set_terminate(on_terminate);
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(save_current_input);
}

/// A hang is a failure too: a run longer than `timeout_s` saves its input and aborts.
void start_watchdog(int timeout_s) {
  std::thread([timeout_s] {
    std::uint64_t last = ~0ull;
    auto since = Clock::now();
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // a watchdog's period, not a wait for an event
      std::uint64_t now_runs = runs.load();
      if (now_runs != last || !in_run.load()) {
        last = now_runs;
        since = Clock::now();
      } else if (Clock::now() - since > std::chrono::seconds(timeout_s)) {
        std::fprintf(stderr, "fuzz: one input ran for more than %d s (a hang)\n", timeout_s);
        save_current_input();
        std::abort();
      }
    }
  }).detach();
}

void run_one(const std::string& input) {
  // A copy of exactly `size` bytes on the heap: ASan sees a read past the end.
  std::vector<uint8_t> copy(input.begin(), input.end());
  const uint8_t* data = copy.empty() ? nullptr : copy.data();
  std::unique_ptr<uint8_t[]> empty;
  if (!data) {
    empty = std::make_unique<uint8_t[]>(1);
    data = empty.get();
  }
  current_data = data;
  current_size = copy.size();
  in_run.store(true);
  LLVMFuzzerTestOneInput(data, copy.size());
  in_run.store(false);
  runs.fetch_add(1);
}

// --- the pseudo-random generator: SplitMix64, the same sequence for the same seed everywhere ---------

struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return n ? static_cast<std::size_t>(next() % n) : 0; }
  bool one_in(std::size_t n) { return below(n) == 0; }
};

const char* const builtin_tokens[] = {
    // JSON
    "null", "true", "false", "{}", "[]", "\"\"", "{\"\":", "\":", "\",\"", "[[[[[[[[", "]]]]", "\\u0000", "\\ud800",
    "\\udfff\\ud800", "\\\"", "\\\\", "\\n", "\\/", "1e999", "-1e-999", "-0", "0.0", "1.5", "1E+2", "NaN", "Infinity",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "4294967296",
    "2147483647", "2147483648", "-2147483649", "18446744073709551616", "00", "0x10",
    // YAML
    "---\n", "...\n", "- ", "? ", ": ", "&a ", "*a", "<<: *a\n", "!!str ", "!!int ", "!!binary ", "!!map ", "!!seq ",
    "!custom ", "|\n  ", ">-\n  ", "'", "''", "~", "yes", "no", "on", "off", ".inf", "-.nan", "0o17", "0b1", "{a: [b, {c: d}]}",
    "\t", "  ", "\n  ", "%YAML 1.2\n", "#", "\xef\xbb\xbf",
    // postgresql.conf, pg_hba
    "=", " = ", "include ", "include_dir ", "include_if_exists ", "'\\''", "\\", "''''", "25%", "8MB", "1GB", "10s",
    "local", "host", "hostssl", "all", "samenet", "0.0.0.0/0", "::1/128", "255.255.255.0", "scram-sha-256", "peer",
    "map=", "\"a b\"", ",",
    // host:port, paths, templates, names
    "127.0.0.1:8008", "[::1]:5432", ":0", ":65536", ":-1", "host:", "/", "../", "/dev/null", "{version}", "{name}", "{",
    "}", "%", "15", "main", "15/main", "a-b", ".x", "_", "@", "**********",
    // bytes
    "\xc3\x28", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\x80", "\xe2\x80\xa8", "\x7f",
};

const uint8_t interesting_bytes[] = {0, 1, 0x7f, 0x80, 0xff, 0xfe, 0xc0, 0xe0, 0xf0, '"', '\\', '\'', '{', '}', '[', ']',
                                     ':', ',', '\n', '\r', '\t', ' ', '#', '=', '-', '.', '/', '&', '*', '!', '|', '>',
                                     '%', '@', '?', '0', '9', 'e', 'E', '+'};

class Mutator {
 public:
  Mutator(std::uint64_t seed, std::size_t max_len) : rng_{seed}, max_len_(max_len) {
    for (const char* t : builtin_tokens) tokens_.emplace_back(t);
  }

  /// Words of the seeds (identifiers, quoted strings, numbers) become tokens: the target's vocabulary.
  void learn(const std::string& seed) {
    std::set<std::string> seen(tokens_.begin(), tokens_.end());
    std::size_t i = 0;
    while (i < seed.size()) {
      unsigned char c = static_cast<unsigned char>(seed[i]);
      std::size_t j = i + 1;
      if (c == '"' || c == '\'') {
        while (j < seed.size() && seed[j] != static_cast<char>(c) && seed[j] != '\n') ++j;
        if (j < seed.size() && seed[j] == static_cast<char>(c)) ++j;
      } else if (std::isalnum(c) || c == '_') {
        while (j < seed.size() && (std::isalnum(static_cast<unsigned char>(seed[j])) || seed[j] == '_' || seed[j] == '.')) ++j;
      } else {
        ++i;
        continue;
      }
      std::string word = seed.substr(i, j - i);
      if (word.size() > 1 && word.size() <= 64 && seen.insert(word).second) tokens_.push_back(word);
      i = j;
    }
  }

  std::string mutate(const std::vector<std::string>& corpus) {
    std::string s = corpus.empty() ? std::string() : corpus[rng_.below(corpus.size())];
    std::size_t n = 1 + rng_.below(rng_.one_in(4) ? 16 : 4);
    for (std::size_t k = 0; k < n; ++k) step(s, corpus);
    if (s.size() > max_len_) s.resize(max_len_);
    return s;
  }

 private:
  std::size_t pos(const std::string& s) { return rng_.below(s.size() + 1); }

  void step(std::string& s, const std::vector<std::string>& corpus) {
    switch (rng_.below(13)) {
      case 0:  // flip a bit
        if (!s.empty()) s[rng_.below(s.size())] ^= static_cast<char>(1u << rng_.below(8));
        break;
      case 1:  // replace a byte
        if (!s.empty()) s[rng_.below(s.size())] = static_cast<char>(rng_.next());
        break;
      case 2:  // an interesting byte, replacing or inserted
        if (!s.empty() && rng_.one_in(2)) s[rng_.below(s.size())] = static_cast<char>(interesting_bytes[rng_.below(sizeof interesting_bytes)]);
        else s.insert(pos(s), 1, static_cast<char>(interesting_bytes[rng_.below(sizeof interesting_bytes)]));
        break;
      case 3:  // insert random bytes
        s.insert(pos(s), rng_.below(8) + 1, static_cast<char>(rng_.next()));
        break;
      case 4:  // delete a range
        if (!s.empty()) {
          std::size_t at = rng_.below(s.size());
          s.erase(at, 1 + rng_.below(std::min<std::size_t>(s.size() - at, rng_.one_in(4) ? 256 : 8)));
        }
        break;
      case 5:
      case 6:  // insert a token
        s.insert(pos(s), tokens_[rng_.below(tokens_.size())]);
        break;
      case 7:  // replace a word (a run of letters, digits, '_') by a token
        if (!s.empty()) {
          std::size_t at = rng_.below(s.size()), end = at;
          while (end < s.size() && (std::isalnum(static_cast<unsigned char>(s[end])) || s[end] == '_')) ++end;
          s.replace(at, end - at, tokens_[rng_.below(tokens_.size())]);
        }
        break;
      case 8:  // copy a chunk elsewhere in the input
        if (!s.empty()) {
          std::size_t at = rng_.below(s.size()), len = 1 + rng_.below(std::min<std::size_t>(s.size() - at, 64));
          std::string chunk = s.substr(at, len);
          s.insert(pos(s), chunk);
        }
        break;
      case 9:  // splice: this input's head, another entry's tail
        if (!corpus.empty()) {
          const std::string& other = corpus[rng_.below(corpus.size())];
          std::size_t cut = pos(s), from = rng_.below(other.size() + 1);
          s = s.substr(0, cut) + other.substr(from);
        }
        break;
      case 10:  // insert a chunk of another entry
        if (!corpus.empty()) {
          const std::string& other = corpus[rng_.below(corpus.size())];
          if (!other.empty()) {
            std::size_t at = rng_.below(other.size()), len = 1 + rng_.below(std::min<std::size_t>(other.size() - at, 128));
            s.insert(pos(s), other.substr(at, len));
          }
        }
        break;
      case 11:  // repeat a chunk (deep nesting, long values)
        if (!s.empty()) {
          std::size_t at = rng_.below(s.size()), len = 1 + rng_.below(std::min<std::size_t>(s.size() - at, 4));
          std::string chunk = s.substr(at, len), many;
          for (std::size_t k = 0, times = 2 + rng_.below(rng_.one_in(8) ? 512 : 16); k < times && many.size() < max_len_; ++k)
            many += chunk;
          s.insert(at, many);
        }
        break;
      case 12:  // truncate
        if (!s.empty()) s.resize(rng_.below(s.size()));
        break;
    }
  }

  Rng rng_;
  std::size_t max_len_;
  std::vector<std::string> tokens_;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<fs::path> corpus_files(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());  // the same order every run
  return files;
}

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--seconds N] [--seed S] [--corpus DIR] [--crash-dir DIR] [--max-len N] [--timeout N]\n"
               "       %s FILE...   (replay these inputs only)\n",
               argv0, argv0);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  double seconds = 20;
  std::uint64_t seed = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
                       (static_cast<std::uint64_t>(::getpid()) << 32);
  std::vector<fs::path> corpus_dirs, replay;
  fs::path crash_dir = ".";
  std::size_t max_len = 64 * 1024;
  int timeout_s = 10;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(argv[0]);
      return argv[++i];
    };
    if (a == "--seconds") seconds = std::atof(value().c_str());
    else if (a == "--seed") seed = std::strtoull(value().c_str(), nullptr, 10);
    else if (a == "--corpus") corpus_dirs.emplace_back(value());
    else if (a == "--crash-dir") crash_dir = value();
    else if (a == "--max-len") max_len = std::strtoull(value().c_str(), nullptr, 10);
    else if (a == "--timeout") timeout_s = std::atoi(value().c_str());
    else if (a.starts_with("-")) usage(argv[0]);
    else replay.emplace_back(a);
  }
  if (const char* e = std::getenv("PGLIFT_FUZZ_SECONDS"); e && *e) seconds = std::atof(e);
  if (const char* e = std::getenv("PGLIFT_FUZZ_SEED"); e && *e) seed = std::strtoull(e, nullptr, 10);
  const std::string target = fs::path(argv[0]).filename().string();

  std::error_code ec;
  fs::create_directories(crash_dir, ec);
  std::snprintf(crash_path, sizeof crash_path, "%s/crash-%s-%" PRIu64, fs::absolute(crash_dir).c_str(), target.c_str(), seed);
  install_handlers();
  start_watchdog(timeout_s);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  if (!replay.empty()) {  // reproduce: these inputs, nothing else (they are saved already)
    crash_path[0] = '\0';
    for (const auto& f : replay) {
      std::printf("fuzz: %s: replaying %s\n", target.c_str(), f.c_str());
      run_one(read_file(f));
    }
    std::printf("fuzz: %s: %zu input(s) replayed, no failure\n", target.c_str(), replay.size());
    return 0;
  }

  std::printf("fuzz: %s: seed %" PRIu64 " (PGLIFT_FUZZ_SEED=%" PRIu64 " repeats this run), %g s\n", target.c_str(), seed,
              seed, seconds);
  Mutator mutator(seed, max_len);
  std::vector<std::string> corpus;
  for (const auto& dir : corpus_dirs)
    for (const auto& f : corpus_files(dir)) {
      corpus.push_back(read_file(f));
      mutator.learn(corpus.back());
      run_one(corpus.back());
    }
  const std::uint64_t replayed = runs.load();
  if (replayed == 0) std::printf("fuzz: %s: no seed (--corpus): mutating the empty input\n", target.c_str());
  std::printf("fuzz: %s: %" PRIu64 " corpus file(s) replayed\n", target.c_str(), replayed);

  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  auto next_report = start + std::chrono::seconds(10);
  for (;;) {
    // The clock every 64 runs: cheap enough, and a slow target still stops within a few runs.
    if ((runs.load() & 63) == 0) {
      auto now = Clock::now();
      if (now >= end) break;
      if (now >= next_report) {
        double t = std::chrono::duration<double>(now - start).count();
        std::printf("fuzz: %s: %" PRIu64 " runs in %.0f s\n", target.c_str(), runs.load() - replayed, t);
        next_report += std::chrono::seconds(10);
      }
    }
    run_one(mutator.mutate(corpus));
  }
  double t = std::chrono::duration<double>(Clock::now() - start).count();
  std::uint64_t mutated = runs.load() - replayed;
  std::printf("fuzz: %s: done: %" PRIu64 " mutated runs in %.1f s (%.0f runs/s), seed %" PRIu64 ", no failure\n",
              target.c_str(), mutated, t, t > 0 ? mutated / t : 0.0, seed);
  return 0;
}
