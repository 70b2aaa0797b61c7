// Errors of libpglift: one hierarchy, each class with a stable ErrorCode (the C ABI exposes the codes).
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pglift {

/// Stable error codes: append only, never renumber (the C ABI's pglift_status mirrors them, negated).
enum class ErrorCode : int {
  internal = 1,
  invalid_spec = 2,      ///< a spec or argument is invalid; field() names it
  not_found = 3,
  already_exists = 4,
  command_failed = 5,    ///< a subprocess failed; argv(), exit_status(), stderr tail in message
  unsupported = 6,
  state = 7,             ///< the instance is not in a state allowing the operation
  timeout = 8,
  cancelled = 9,
  dcs = 10,
  http = 11,
  settings = 12,         ///< invalid site settings
  busy = 13,             ///< another operation is in progress on this instance
  system = 14,           ///< unexpected state of the host (I/O, permissions)
  would_lose_data = 15,  ///< refused: going on would discard committed transactions (the message says which)
  read_only = 16,        ///< a write on a read-only standby (the message names the leader when known)
};

const char* to_string(ErrorCode code) noexcept;

/// Every error's message goes through redact_secrets (below): it may quote what the library does not
/// control (a subprocess's output, a server's message), and no caller has to redact it again.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message);
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

/// How a secret is shown, when it has to be shown at all (pydantic's SecretStr form).
inline constexpr std::string_view redacted = "**********";

/// True for a field holding a secret: its name or path names a password ("surole_password",
/// "patroni.etcd.password", "PGPASSWORD"), whatever the case. Its value is never shown.
bool is_secret_field(std::string_view field) noexcept;

/// `text` with the values of password keys masked: "password=x", "password='x y'", "PGPASSWORD=x",
/// "password: x", "\"sslpassword\": \"x\"" become "password=**********"... A last line of defence for messages
/// that quote what the library does not control (conninfo strings, a subprocess's output); keys merely
/// starting with "password" (password_encryption) are left alone.
std::string redact_secrets(std::string_view text);

class InvalidSpec : public Error {
 public:
  /// "invalid value 'bad/name' for field 'name': must not contain slashes". The value of a secret field
  /// (is_secret_field) is replaced by `redacted`, in the message and in value(); control characters are
  /// shown escaped (\x1b), so that a message cannot drive the terminal it is printed on.
  InvalidSpec(std::string field, std::string value, const std::string& reason);
  /// A document that is no valid JSON: "invalid instance document: invalid JSON at offset 12 (line 1,
  /// column 13): Missing a comma...". The document's text is never quoted: it may hold secrets. The
  /// field is the path where the text went wrong when known ("patroni.cluster": a NUL byte, invalid
  /// UTF-8, too deep), else the document.
  static InvalidSpec malformed(std::string document, const std::string& reason, std::string field = {});
  /// A field the caller did not give and the operation needs: `message` says what is missing and how to
  /// get it (no "invalid value ''": nothing was given). It must not hold a secret.
  static InvalidSpec missing(std::string field, const std::string& message);
  const std::string& field() const noexcept { return field_; }
  const std::string& value() const noexcept { return value_; }
  /// The same error for a document nested at `path` in another (an instance manifest's roles, read by
  /// the role reader): field "name" becomes "roles[1].name", in field() and in the message.
  InvalidSpec within(const std::string& path) const;

 private:
  struct Malformed {};
  InvalidSpec(Malformed, std::string document, const std::string& reason, std::string field);
  struct Missing {};
  InvalidSpec(Missing, std::string field, const std::string& message);
  std::string field_, value_;
  std::string reason_;  ///< the reason of a field's error; empty for malformed and missing

};

class NotFound : public Error {
 public:
  NotFound(const std::string& kind, const std::string& name, const std::string& hint = {});
};

class AlreadyExists : public Error {
 public:
  explicit AlreadyExists(const std::string& message) : Error(ErrorCode::already_exists, message) {}
};

class CommandError : public Error {
 public:
  CommandError(std::vector<std::string> argv, int exit_status, std::string output_tail);
  const std::vector<std::string>& argv() const noexcept { return argv_; }
  /// exit code, or 128 + signal number when the process was killed by a signal
  int exit_status() const noexcept { return exit_status_; }
  const std::string& output_tail() const noexcept { return tail_; }

 private:
  std::vector<std::string> argv_;
  int exit_status_;
  std::string tail_;
};

class Unsupported : public Error {
 public:
  explicit Unsupported(const std::string& message) : Error(ErrorCode::unsupported, message) {}
};

class StateError : public Error {
 public:
  explicit StateError(const std::string& message) : Error(ErrorCode::state, message) {}
};

class Timeout : public Error {
 public:
  explicit Timeout(const std::string& message) : Error(ErrorCode::timeout, message) {}
};

class Cancelled : public Error {
 public:
  explicit Cancelled(const std::string& message = "operation cancelled") : Error(ErrorCode::cancelled, message) {}
};

class SettingsError : public Error {
 public:
  explicit SettingsError(const std::string& message) : Error(ErrorCode::settings, message) {}
};

class Busy : public Error {
 public:
  Busy() : Error(ErrorCode::busy, "another operation is in progress") {}
};

class SystemError : public Error {
 public:
  explicit SystemError(const std::string& message) : Error(ErrorCode::system, message) {}
};

/// Refused because going on would discard committed transactions: a former leader rejoining through
/// pg_rewind (the message names the LSN range, the number of commits and their time window).
class WouldLoseData : public Error {
 public:
  explicit WouldLoseData(const std::string& message) : Error(ErrorCode::would_lose_data, message) {}
};

/// A write (a role, a database, privileges...) asked of a read-only standby: the message names the
/// leader (a Patroni member's, or a plain standby's primary_conninfo host) when it is known.
class ReadOnly : public Error {
 public:
  explicit ReadOnly(const std::string& message) : Error(ErrorCode::read_only, message) {}
};

}  // namespace pglift
