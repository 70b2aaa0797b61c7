// A real etcd for the Patroni tests: free loopback ports, a clean environment (etcd reads every ETCD_*
// variable as a flag), fast election flags; stopped by PID at the end, even on failure.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <cstdio>
#include <string>
#include <thread>

#include "fixture.hpp"

/// A minimal blocking HTTP request without credentials to `host` (an IPv4 literal): the status code, 0 when
/// the server cannot be reached. `response`, when given, receives the body.
inline int http_request(const std::string& host, int port, const std::string& method, const std::string& path,
                        const std::string& body = "", std::string* response = nullptr) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return 0;
  }
  std::string req = method + " " + path + " HTTP/1.0\r\nHost: " + host + "\r\nContent-Type: application/json\r\n" +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  (void)!::write(fd, req.data(), req.size());
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) resp.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (response) {
    auto start = resp.find("\r\n\r\n");
    *response = start == std::string::npos ? std::string() : resp.substr(start + 4);
  }
  return resp.size() > 12 ? std::atoi(resp.c_str() + 9) : 0;
}

/// A minimal blocking HTTP GET on 127.0.0.1 (the test must not depend on the library it tests): the
/// body; `status`, when given, receives the status code (0 when the server cannot be reached).
inline std::string http_get(int port, const std::string& path, int* status = nullptr) {
  std::string body;
  int code = http_request("127.0.0.1", port, "GET", path, "", &body);
  if (status) *status = code;
  return body;
}

/// Runs a command, returning its stdout (popen: test code only).
inline std::string command_output(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

struct EtcdServer {
  fs::path dir;
  int client_port = 0, peer_port = 0;
  pid_t pid = -1;

  EtcdServer() {
    std::string t = (fs::temp_directory_path() / "pglift-etcd-XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()));
    dir = t;
    start();
  }
  ~EtcdServer() {
    stop();
    fs::remove_all(dir);
  }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(client_port); }

  void start() {
    if (!client_port) {
      client_port = free_port();
      peer_port = free_port();
    }
    const std::string client = "http://127.0.0.1:" + std::to_string(client_port);
    const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port);
    std::vector<std::string> args = {"/usr/bin/etcd", "--name", "t", "--data-dir", (dir / "data").string(),
                                     "--listen-client-urls", client, "--advertise-client-urls", client,
                                     "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                                     "--initial-cluster", "t=" + peer, "--heartbeat-interval=10",
                                     "--election-timeout=100", "--logger", "zap", "--log-outputs", "stderr",
                                     "--log-level", "warn"};
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    char* envp[] = {const_cast<char*>("PATH=/usr/bin:/bin"), nullptr};
    std::string log = (dir / "etcd.log").string();
    pid = ::fork();
    if (pid == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execve(argv[0], argv.data(), envp);
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    for (auto interval = std::chrono::milliseconds(5);; interval = std::min(interval * 2, std::chrono::milliseconds(100))) {
      int ws;
      if (::waitpid(pid, &ws, WNOHANG) == pid) {
        pid = -1;
        FAIL("etcd exited at start: " << command_output("tail -n 20 " + log));
      }
      if (http_get(client_port, "/health").find("true") != std::string::npos) return;
      if (std::chrono::steady_clock::now() > deadline) FAIL("etcd not healthy after 15s: " << command_output("tail -n 20 " + log));
      std::this_thread::sleep_for(interval);
    }
  }
  void stop() {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    int ws;
    for (int i = 0; i < 200 && ::waitpid(pid, &ws, WNOHANG) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    if (::waitpid(pid, &ws, WNOHANG) == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &ws, 0);
    }
    pid = -1;
  }
  /// Keys under a prefix, through etcdctl.
  std::string keys(const std::string& prefix) const {
    return command_output("env -i ETCDCTL_API=3 /usr/bin/etcdctl --endpoints=http://" + endpoint() + " get --prefix --keys-only " +
                          prefix + " 2>&1");
  }
};

/// Settings enabling Patroni on this etcd with the fast test timings; `top_level` adds other keys.
inline std::string patroni_settings(const EtcdServer& etcd, const std::string& top_level = "") {
  return R"({"patroni": {"etcd": {"hosts": [")" + etcd.endpoint() +
         R"("]}, "loop_wait": 2, "ttl": 10, "retry_timeout": 3, "create_timeout": 120})" +
         (top_level.empty() ? "" : ", " + top_level) + "}";
}

/// `base` with a random suffix: a cluster name no other run on this etcd uses.
inline std::string unique(const std::string& base) {
  static std::mt19937 rng{std::random_device{}()};
  return base + std::to_string(rng() % 100000);
}

/// A member of Patroni cluster `cluster`, node `name`, its REST API and PostgreSQL on `address` (a
/// loopback address), on `port` (default: a free one).
inline pglift::InstanceSpec member(const std::string& name, const std::string& cluster, const std::string& address,
                                   int port = 0) {
  pglift::InstanceSpec s = spec(name, port ? port : free_port());
  pglift::PatroniSpec p;
  p.cluster = cluster;
  p.node = name;
  p.restapi_connect_address = address + ":" + std::to_string(free_port());
  p.postgresql_connect_host = address;
  s.patroni = p;
  return s;
}
