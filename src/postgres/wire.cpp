#include "postgres/wire.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "pglift/errors.hpp"

namespace pglift::postgres::wire {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::int32_t protocol_3_0 = 3 << 16;
// No answer of ours is anywhere near this: a larger length is a broken or hostile peer, not a row.
constexpr std::uint32_t max_message = 64u << 20;

struct Unreachable {  // nothing listens there (or it did not answer in time): ping's "no response"
  std::string reason;
};

void put_int32(std::string& out, std::int32_t v) {
  const auto u = static_cast<std::uint32_t>(v);
  out += static_cast<char>((u >> 24) & 0xff);
  out += static_cast<char>((u >> 16) & 0xff);
  out += static_cast<char>((u >> 8) & 0xff);
  out += static_cast<char>(u & 0xff);
}

void put_length(std::string& message, std::size_t at) {  // the int32 at `at`: the length from there on
  const auto len = static_cast<std::uint32_t>(message.size() - at);
  for (int i = 0; i < 4; ++i) message[at + i] = static_cast<char>((len >> (24 - 8 * i)) & 0xff);
}

std::string startup_packet(const Endpoint& e) {
  std::string p(4, '\0');
  put_int32(p, protocol_3_0);
  for (const auto& [key, value] :
       {std::pair<std::string_view, std::string_view>{"user", e.user}, {"database", e.dbname},
        {"application_name", "pglift"}}) {
    if (value.find('\0') != std::string_view::npos)
      throw StateError("cannot connect to PostgreSQL: its " + std::string(key) + " holds a NUL byte");
    p.append(key).push_back('\0');
    p.append(value).push_back('\0');
  }
  p.push_back('\0');
  put_length(p, 0);
  return p;
}

/// A message's payload, read field by field; a truncated one throws.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  std::int32_t int32() {
    need(4);
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(data_[pos_++]);
    return static_cast<std::int32_t>(v);
  }
  std::int16_t int16() {
    need(2);
    auto v = static_cast<std::uint16_t>((static_cast<unsigned char>(data_[pos_]) << 8) |
                                        static_cast<unsigned char>(data_[pos_ + 1]));
    pos_ += 2;
    return static_cast<std::int16_t>(v);
  }
  char byte() {
    need(1);
    return data_[pos_++];
  }
  std::string_view string() {  // NUL-terminated
    auto end = data_.find('\0', pos_);
    if (end == std::string_view::npos) throw StateError("PostgreSQL sent a malformed message (an unterminated string)");
    auto s = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  std::string_view bytes(std::size_t n) {
    need(n);
    auto s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  bool empty() const { return pos_ >= data_.size(); }

 private:
  void need(std::size_t n) const {
    if (data_.size() - pos_ < n) throw StateError("PostgreSQL sent a malformed message (truncated)");
  }
  std::string_view data_;
  std::size_t pos_ = 0;
};

struct Notice {  // an ErrorResponse's fields that we report
  std::string severity, sqlstate, message, detail, hint;
  std::string text() const {
    std::string t = (severity.empty() ? std::string("ERROR") : severity) + ":  " + message;
    if (!detail.empty()) t += "\nDETAIL:  " + detail;
    if (!hint.empty()) t += "\nHINT:  " + hint;
    return t;
  }
};

Notice parse_error(std::string_view payload) {
  Reader r(payload);
  Notice n;
  std::string localized_severity;
  while (!r.empty()) {
    char code = r.byte();
    if (code == '\0') break;
    auto value = std::string(r.string());
    switch (code) {
      case 'S': localized_severity = std::move(value); break;
      case 'V': n.severity = std::move(value); break;
      case 'C': n.sqlstate = std::move(value); break;
      case 'M': n.message = std::move(value); break;
      case 'D': n.detail = std::move(value); break;
      case 'H': n.hint = std::move(value); break;
      default: break;  // position, context, where...: the statement's text may be in them
    }
  }
  if (n.severity.empty()) n.severity = std::move(localized_severity);
  return n;
}

}  // namespace

class Connection {
 public:
  Connection(const std::string& path, Clock::time_point deadline) : deadline_(deadline), path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) throw SystemError(std::string("socket(AF_UNIX): ") + std::strerror(errno));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);  // socket_path() checked the size
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      const int err = errno;
      ::close(fd_);
      fd_ = -1;
      // ENOENT: no server there; ECONNREFUSED: a stale socket file; EAGAIN: its listen queue is full.
      throw Unreachable{failed() + std::strerror(err)};
    }
  }
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  std::string failed() const { return "connection to server on socket \"" + path_ + "\" failed: "; }

  void send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        wait(POLLOUT);
      } else {
        throw StateError(failed() + "server closed the connection unexpectedly (" + std::strerror(errno) + ")");
      }
    }
  }

  /// The next message: its type and payload. Throws Unreachable on end of file or deadline.
  std::pair<char, std::string_view> next() {
    fill(5);
    const char type = buf_[pos_];
    std::uint32_t len = 0;
    for (int i = 1; i <= 4; ++i) len = (len << 8) | static_cast<unsigned char>(buf_[pos_ + i]);
    if (len < 4 || len > max_message)
      throw StateError(failed() + "the server sent a message of an invalid length (" + std::to_string(len) + ")");
    fill(1 + len);
    std::string_view payload(buf_.data() + pos_ + 5, len - 4);
    pos_ += 1 + len;
    return {type, payload};
  }

  void terminate() noexcept {  // 'X': a polite end, so that the server logs no lost client
    static constexpr char bye[] = {'X', 0, 0, 0, 4};
    [[maybe_unused]] auto n = ::send(fd_, bye, sizeof bye, MSG_NOSIGNAL);
  }

  void set_deadline(Clock::time_point deadline) { deadline_ = deadline; }

  /// Nothing unread, nothing pending on the socket, no hang-up.
  bool quiet() const {
    if (pos_ < buf_.size()) return false;
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    return ::poll(&p, 1, 0) == 0;
  }

 private:
  void wait(short events) {
    for (;;) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
      if (left <= 0) throw Unreachable{failed() + "timeout expired"};
      pollfd p{.fd = fd_, .events = events, .revents = 0};
      int r = ::poll(&p, 1, static_cast<int>(left));
      if (r > 0) return;
      if (r < 0 && errno != EINTR) throw SystemError(std::string("poll: ") + std::strerror(errno));
    }
  }

  void fill(std::size_t n) {  // at least n unread bytes in buf_
    if (pos_ > 0 && buf_.size() - pos_ < n) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    while (buf_.size() - pos_ < n) {
      char chunk[8192];
      ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
      if (got > 0) {
        buf_.append(chunk, static_cast<std::size_t>(got));
      } else if (got == 0) {
        throw Unreachable{failed() + "server closed the connection unexpectedly"};
      } else if (errno == EAGAIN || errno == EINTR) {
        wait(POLLIN);
      } else {
        throw Unreachable{failed() + std::strerror(errno)};
      }
    }
  }

  int fd_ = -1;
  Clock::time_point deadline_;
  std::string path_, buf_;
  std::size_t pos_ = 0;
};

namespace {

/// Startup, authentication, then the parameters and the key, until the server is ready for a query.
/// False when it asks for a password.
bool authenticate(Connection& c, const Endpoint& e) {
  c.send(startup_packet(e));
  for (;;) {
    auto [type, payload] = c.next();
    switch (type) {
      case 'R':
        if (Reader(payload).int32() != 0) return false;  // a password (or GSS, SSPI): libpq's job
        break;
      case 'E': throw StateError(c.failed() + parse_error(payload).text());
      case 'Z': return true;
      default: break;  // 'S' ParameterStatus, 'K' BackendKeyData, 'N' NoticeResponse, 'v' NegotiateProtocolVersion
    }
  }
}

/// The rows, or the server's error (the connection is then ready for the next statement all the same).
std::pair<std::vector<Row>, std::optional<std::string>> run_query(Connection& c, const std::string& sql) {
  std::string message(1, 'Q');
  put_int32(message, 0);
  message.append(sql).push_back('\0');
  put_length(message, 1);
  c.send(message);
  std::vector<Row> rows;
  std::optional<std::string> error;
  for (;;) {
    auto [type, payload] = c.next();
    if (type == 'D') {
      Reader r(payload);
      Row row;
      for (int i = 0, n = r.int16(); i < n; ++i) {
        std::int32_t len = r.int32();
        if (len < 0) {
          row.emplace_back(std::nullopt);
        } else {
          row.emplace_back(std::string(r.bytes(static_cast<std::size_t>(len))));
        }
      }
      rows.push_back(std::move(row));
    } else if (type == 'E') {
      if (!error) error = parse_error(payload).text();
    } else if (type == 'Z') {
      break;
    }  // 'T' RowDescription, 'C' CommandComplete, 'I' EmptyQueryResponse, 'N', 'S': nothing to keep
  }
  return {std::move(rows), std::move(error)};
}

}  // namespace

std::string socket_path(const Endpoint& e) {
  std::string path = (e.socket_directory / (".s.PGSQL." + std::to_string(e.port))).string();
  if (path.size() + 1 > sizeof(sockaddr_un::sun_path))
    throw StateError("Unix-domain socket path \"" + path + "\" is too long (maximum " +
                     std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes)");
  return path;
}

PingResult ping(const Endpoint& e, std::chrono::milliseconds timeout) {
  const std::string path = socket_path(e);
  const std::string startup = startup_packet(e);
  try {
    Connection c(path, Clock::now() + timeout);
    c.send(startup);
    auto [type, payload] = c.next();
    if (type == 'E') {
      // 57P03, cannot_connect_now: "the database system is starting up", "... is shutting down",
      // "... is not yet accepting connections" (recovery without hot standby). Any other refusal (an
      // unknown role, too many clients) comes from a server that runs: libpq calls that OK too.
      return parse_error(payload).sqlstate == "57P03" ? PingResult::rejecting : PingResult::ok;
    }
    if (type == 'R' && Reader(payload).int32() == 0) c.terminate();
    return PingResult::ok;  // an authentication request (or anything else): the server is up
  } catch (const Unreachable&) {
    return PingResult::no_response;
  } catch (const StateError&) {  // a malformed answer: something listens, which is not a server we know
    return PingResult::no_response;
  }
}

Session::Session(std::unique_ptr<Connection> c) : c_(std::move(c)) {}
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;
Session::~Session() {
  if (c_ && !broken_) c_->terminate();
}

std::optional<Session> Session::open(const Endpoint& e, std::chrono::milliseconds timeout) {
  const std::string path = socket_path(e);
  try {
    auto c = std::make_unique<Connection>(path, Clock::now() + timeout);
    if (!authenticate(*c, e)) return std::nullopt;
    return Session(std::move(c));
  } catch (const Unreachable& u) {
    throw StateError(u.reason);
  }
}

std::vector<Row> Session::query(const std::string& sql, std::chrono::milliseconds timeout) {
  if (broken_) throw StateError("the connection to PostgreSQL was lost");
  if (sql.find('\0') != std::string::npos) throw StateError("a query holds a NUL byte");
  c_->set_deadline(Clock::now() + timeout);
  std::pair<std::vector<Row>, std::optional<std::string>> result;
  try {
    result = run_query(*c_, sql);
  } catch (const Unreachable& u) {
    broken_ = true;
    throw StateError(u.reason);
  } catch (...) {  // a malformed answer, a failed poll: nothing more to expect of this connection
    broken_ = true;
    throw;
  }
  if (result.second) throw StateError(*result.second);
  return std::move(result.first);
}

bool Session::usable() const { return c_ && !broken_ && c_->quiet(); }

std::optional<std::vector<Row>> query_without_password(const Endpoint& e, const std::string& sql,
                                                       std::chrono::milliseconds timeout) {
  auto session = Session::open(e, timeout);
  if (!session) return std::nullopt;
  return session->query(sql, timeout);
}

}  // namespace pglift::postgres::wire
