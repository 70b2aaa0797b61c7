#include "pglift/errors.hpp"

#include <algorithm>
#include <cctype>

#include "core/files.hpp"
#include "core/text.hpp"
#include "pglift/events.hpp"
#include "pglift/version.hpp"

namespace pglift {

const char* to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::internal: return "internal";
    case ErrorCode::invalid_spec: return "invalid_spec";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::already_exists: return "already_exists";
    case ErrorCode::command_failed: return "command_failed";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::state: return "state";
    case ErrorCode::timeout: return "timeout";
    case ErrorCode::cancelled: return "cancelled";
    case ErrorCode::dcs: return "dcs";
    case ErrorCode::http: return "http";
    case ErrorCode::settings: return "settings";
    case ErrorCode::busy: return "busy";
    case ErrorCode::system: return "system";
    case ErrorCode::would_lose_data: return "would_lose_data";
    case ErrorCode::read_only: return "read_only";
  }
  return "unknown";
}

const char* to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug: return "DEBUG";
    case LogLevel::info: return "INFO";
    case LogLevel::warning: return "WARNING";
    case LogLevel::error: return "ERROR";
  }
  return "INFO";
}

namespace {

constexpr std::string_view password_word = "password";

bool same_letter(char a, char b) {
  return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
}
bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool ends_with_password(std::string_view word) {
  return word.size() >= password_word.size() &&
         std::equal(password_word.begin(), password_word.end(), word.end() - password_word.size(), same_letter);
}

/// Where the value after a password key starts ("=" or ":" and spaces skipped), or npos when `key_end`
/// is followed by no separator. A JSON key's closing '"' is allowed before the separator; a "'" is not:
/// "for field 'surole_password': expecting a string" has no value to hide.
std::size_t value_start(std::string_view text, std::size_t key_end) {
  std::size_t i = key_end;
  if (i < text.size() && text[i] == '"') ++i;
  while (i < text.size() && text[i] == ' ') ++i;
  if (i >= text.size() || (text[i] != '=' && text[i] != ':')) return std::string_view::npos;
  ++i;
  while (i < text.size() && text[i] == ' ') ++i;
  return i;
}

/// End of the value starting at `start`: after its closing quote for a quoted one (backslash escapes),
/// else at the first space or delimiter.
std::size_t value_end(std::string_view text, std::size_t start) {
  if (start >= text.size()) return start;
  const char quote = text[start];
  if (quote == '\'' || quote == '"') {
    std::size_t i = start + 1;
    while (i < text.size() && text[i] != quote) i += text[i] == '\\' ? 2 : 1;
    return std::min(i + 1, text.size());
  }
  auto is_delimiter = [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) || std::string_view(",;}]").find(c) != std::string_view::npos;
  };
  std::size_t i = start;
  while (i < text.size() && !is_delimiter(text[i])) ++i;
  return i;
}

/// The length of the valid UTF-8 sequence starting at `s[i]` (2 to 4), 0 when there is none (overlong
/// forms and surrogates are invalid too).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  std::size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  const unsigned char second = byte(i + 1);
  if ((c == 0xe0 && second < 0xa0) || (c == 0xed && second > 0x9f) || (c == 0xf0 && second < 0x90) ||
      (c == 0xf4 && second > 0x8f))
    return 0;
  return n;
}

/// Control characters and stray bytes as \xNN: a value quoted in a message must not drive the terminal
/// showing it, and messages are always valid UTF-8.
std::string printable(std::string_view value) {
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < value.size();) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80) {
      if (std::size_t n = utf8_sequence(value, i)) {
        out.append(value.substr(i, n));
        i += n;
        continue;
      }
    }
    if (c < 0x20 || c == 0x7f || c >= 0x80) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  return out;
}

/// A secret field's value as errors show it: redacted, unless there is none (an empty one says nothing).
std::string shown_value(std::string_view field, std::string value) {
  return is_secret_field(field) && !value.empty() ? std::string(redacted) : std::move(value);
}

}  // namespace

bool is_secret_field(std::string_view field) noexcept {
  return std::search(field.begin(), field.end(), password_word.begin(), password_word.end(), same_letter) != field.end();
}

std::string redact_secrets(std::string_view text) {
  std::string out;
  std::size_t copied = 0, i = 0;
  while (i < text.size()) {
    if (!is_word_char(text[i])) {
      ++i;
      continue;
    }
    std::size_t word_end = i;
    while (word_end < text.size() && is_word_char(text[word_end])) ++word_end;
    std::size_t start = ends_with_password(text.substr(i, word_end - i)) ? value_start(text, word_end) : std::string_view::npos;
    i = word_end;
    if (start == std::string_view::npos) continue;
    std::size_t end = value_end(text, start);
    if (end == start) continue;
    const bool quoted = text[start] == '\'' || text[start] == '"';
    out.append(text.substr(copied, start - copied));
    if (quoted) out += text[start];
    out += redacted;
    if (quoted && end - start >= 2 && text[end - 1] == text[start]) out += text[start];
    copied = i = end;
  }
  out.append(text.substr(copied));
  return out;
}

Error::Error(ErrorCode code, const std::string& message) : std::runtime_error(redact_secrets(message)), code_(code) {}

InvalidSpec::InvalidSpec(std::string field, std::string value, const std::string& reason)
    : Error(ErrorCode::invalid_spec,
            "invalid value '" + printable(shown_value(field, value)) + "' for field '" + printable(field) + "': " + reason),
      field_(std::move(field)),
      value_(shown_value(field_, std::move(value))),
      reason_(reason) {}

InvalidSpec InvalidSpec::within(const std::string& path) const {
  const std::string field = field_.empty() ? path : path + "." + field_;
  if (!reason_.empty()) return InvalidSpec(field, value_, reason_);  // value_ is already shown as it may be
  return InvalidSpec(Missing{}, field, path + ": " + what());
}

InvalidSpec::InvalidSpec(Malformed, std::string document, const std::string& reason, std::string field)
    : Error(ErrorCode::invalid_spec, "invalid " + document + " document: " + reason),
      field_(field.empty() ? std::move(document) : std::move(field)) {}

InvalidSpec InvalidSpec::malformed(std::string document, const std::string& reason, std::string field) {
  return InvalidSpec(Malformed{}, std::move(document), reason, std::move(field));
}

InvalidSpec::InvalidSpec(Missing, std::string field, const std::string& message)
    : Error(ErrorCode::invalid_spec, message), field_(std::move(field)) {}

InvalidSpec InvalidSpec::missing(std::string field, const std::string& message) {
  return InvalidSpec(Missing{}, std::move(field), message);
}

NotFound::NotFound(const std::string& kind, const std::string& name, const std::string& hint)
    : Error(ErrorCode::not_found, kind + " '" + printable(name) + "' not found" + (hint.empty() ? "" : ": " + hint)) {}

namespace {
// Neither the command line nor the output of a command is ours: the message goes through
// redact_secrets (Error does it), and so does the tail kept apart.
std::string command_message(const std::vector<std::string>& argv, int status, const std::string& tail) {
  std::string msg = "command '" + core::join(argv, " ") + "' failed (" +
                    (status > 128 ? "killed by signal " + std::to_string(status - 128)
                                  : "exit status " + std::to_string(status)) +
                    ")";
  if (!tail.empty()) msg += "\n" + tail;
  return msg;
}
}  // namespace

CommandError::CommandError(std::vector<std::string> argv, int exit_status, std::string output_tail)
    : Error(ErrorCode::command_failed, command_message(argv, exit_status, output_tail)),
      argv_(std::move(argv)),
      exit_status_(exit_status),
      tail_(redact_secrets(output_tail)) {}

const char* version() noexcept { return PGLIFT_VERSION_STRING; }

}  // namespace pglift
