#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/files.hpp"
#include "net/base64.hpp"
#include "patroni/address.hpp"
#include "patroni/config.hpp"
#include "patroni/rest.hpp"
#include "pglift/errors.hpp"
#include "run_coroutine.hpp"

using namespace pglift;
namespace fs = std::filesystem;

#ifndef PGLIFT_UNIT_SOURCE_DIR
#error "PGLIFT_UNIT_SOURCE_DIR must name tests/unit (set by meson)"
#endif

namespace {
core::Value fixture(const std::string& name) {
  return core::parse_json(core::read_file(fs::path(PGLIFT_UNIT_SOURCE_DIR) / "fixtures" / name));
}

Settings settings_with_patroni(const std::string& extra = "") {
  return Settings::from_documents({R"({"prefix": "/p", "run_prefix": "/r", "patroni": {"etcd": {"hosts": ["127.0.0.1:2379"]}}})",
                                   extra.empty() ? "{}" : extra});
}

/// A loopback HTTP server on its own thread: answers every request 200 "{}" and records the request
/// heads (request line and headers), to see what a client sent. Stopped and joined on destruction.
class RecordingServer {
 public:
  RecordingServer() {
    REQUIRE(::pipe2(wake_, O_CLOEXEC) == 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~RecordingServer() {
    (void)!::write(wake_[1], "x", 1);
    thread_.join();
    for (int fd : {fd_, wake_[0], wake_[1]}) ::close(fd);
  }
  RecordingServer(const RecordingServer&) = delete;
  RecordingServer& operator=(const RecordingServer&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> requests() {
    std::lock_guard l(mutex_);
    return requests_;
  }

 private:
  void serve() {
    for (;;) {
      pollfd p[2] = {{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (::poll(p, 2, -1) < 0 || p[1].revents) return;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string head = read_head(c);
      {
        std::lock_guard l(mutex_);
        requests_.push_back(head);
      }
      const std::string reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
      (void)!::write(c, reply.data(), reply.size());
      ::close(c);
    }
  }
  /// Up to the blank line (bodies are small and ignored), 2 s at most.
  static std::string read_head(int c) {
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) break;
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      head.append(buf, static_cast<std::size_t>(n));
    }
    return head.substr(0, head.find("\r\n\r\n"));
  }

  int fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

/// The Authorization header of a request head, "" when absent.
std::string authorization(const std::string& head) {
  auto at = head.find("\r\nAuthorization: ");
  if (at == std::string::npos) at = head.find("\r\nauthorization: ");
  if (at == std::string::npos) return {};
  at += 17;
  return head.substr(at, head.find("\r\n", at) - at);
}

template <class T>
T run(awaitable<T> a) {
  asio::io_context io;
  return testing::run_coroutine(io, std::move(a));
}
}  // namespace

TEST_CASE("patroni settings: defaults, paths, and the DCS timing rule") {
  auto s = settings_with_patroni();
  REQUIRE(s.patroni);
  CHECK(s.patroni->execpath == "/usr/bin/patroni");
  CHECK(s.patroni->configpath == "/p/etc/patroni/{name}.yaml");
  CHECK(s.patroni->pid_file == "/r/patroni/{name}.pid");
  CHECK(s.patroni->logpath == "/p/log/patroni");
  CHECK(s.patroni->loop_wait == 10);
  CHECK(s.patroni->ttl == 30);
  CHECK_THROWS_WITH_AS(settings_with_patroni(R"({"patroni": {"loop_wait": 10, "ttl": 20, "retry_timeout": 10}})"),
                       doctest::Contains("loop_wait + 2*retry_timeout must not exceed ttl"), SettingsError);
  CHECK_THROWS_WITH_AS(settings_with_patroni(R"({"patroni": {"etcd": {"cacert": "/etc/hostname"}}})"),
                       doctest::Contains("'https' protocol is required"), SettingsError);
  CHECK_THROWS_WITH_AS(settings_with_patroni(R"({"postgresql": {"replrole": null}})"),
                       doctest::Contains("'postgresql.replrole' must be provided"), SettingsError);
  CHECK_THROWS_WITH_AS(settings_with_patroni(R"({"patroni": {"restapi": {"verify_client": "required"}}})"),
                       doctest::Contains("requires 'certfile'"), SettingsError);
  CHECK_THROWS_WITH_AS(settings_with_patroni(R"({"patroni": {"bogus": 1}})"), "unknown setting 'patroni.bogus'", SettingsError);
  CHECK_FALSE(Settings::from_documents({R"({"prefix": "/p", "run_prefix": "/r"})"}).patroni);
}

TEST_CASE("patroni spec: validation and JSON") {
  auto spec = InstanceSpec::from_json(
      R"({"name": "pg1", "patroni": {"cluster": "pgdemo", "node": "pg1", "restapi": {"connect_address": "127.0.1.1:8008"},
          "postgresql": {"connect_host": "127.0.1.1"}}})");
  REQUIRE(spec.patroni);
  CHECK(spec.patroni->cluster == "pgdemo");
  CHECK(spec.patroni->restapi_connect_address == std::optional<std::string>("127.0.1.1:8008"));
  CHECK(InstanceSpec::from_json(spec.to_json()).patroni->postgresql_connect_host == std::optional<std::string>("127.0.1.1"));
  auto bad = [](const char* json) {
    try {
      InstanceSpec::from_json(json);
    } catch (const InvalidSpec& e) {
      return e.field();
    }
    return std::string("ok");
  };
  CHECK(bad(R"({"name": "pg1", "patroni": {"cluster": ""}})") == "patroni.cluster");
  CHECK(bad(R"({"name": "pg1", "patroni": {"cluster": "a/b"}})") == "patroni.cluster");
  CHECK(bad(R"({"name": "pg1", "patroni": {"cluster": "c", "restapi": {"listen": "nohost"}}})") == "patroni.restapi.listen");
  CHECK(bad(R"({"name": "pg1", "patroni": {"cluster": "c", "restapi": {"connect_address": "::1:8008"}}})") ==
        "patroni.restapi.connect_address");
  CHECK(bad(R"({"name": "pg1", "patroni": {"cluster": "c", "restapi": {"connect_address": "[::1]:8008"}}})") == "ok");
  // connect_host: a host name or an IP address, nothing that would add a line to the YAML or a conninfo key.
  auto with_host = [](const std::string& host) {
    return std::string(R"({"name": "pg1", "patroni": {"cluster": "c", "postgresql": {"connect_host": ")") + host + R"("}}})";
  };
  for (const char* host : {"127.0.1.1", "db-1.example.com", "::1", "fe80::1%eth0"})
    CHECK_MESSAGE(bad(with_host(host).c_str()) == "ok", host);
  for (const char* host : {"", "127.0.0.1\\nfoo: bar", "a b", "h'ost", "host=evil", "a#b"})
    CHECK_MESSAGE(bad(with_host(host).c_str()) == "patroni.postgresql.connect_host", host);
}

TEST_CASE("patroni config: the generated YAML, unmanaged keys kept, parameters the single source of truth") {
  auto s = settings_with_patroni();
  auto l = postgres::Layout::of(s, "pg1", s.default_version());
  PatroniSpec ps{.cluster = "pgdemo", .node = "pg1", .restapi_connect_address = "127.0.1.1:8008",
                 .postgresql_connect_host = "127.0.1.1"};
  auto member = patroni::resolve_member(ps, 5433, {});
  CHECK(member.restapi_listen == "127.0.1.1:8008");  // defaults to the connect address
  CHECK(member.listen_host == "127.0.1.1");           // never '*' by default
  auto creds = patroni::Credentials::generate();
  CHECK(creds.superuser.size() == 24);
  CHECK(creds.superuser != creds.replication);
  auto doc = patroni::build(s, l, member, {{"work_mem", std::string("8MB")}, {"port", std::int64_t{5433}}}, creds,
                            {"C", "UTF8", true});
  std::string t = (fs::temp_directory_path() / "pglift-patroni-XXXXXX").string();
  REQUIRE(::mkdtemp(t.data()));
  struct Removed {  // even when a REQUIRE fails below
    fs::path dir;
    ~Removed() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } removed{t};
  fs::path file = fs::path(t) / "15-pg1.yaml";
  patroni::write(file, doc);
  CHECK((fs::status(file).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  auto back = patroni::read(file);
  CHECK(back.find("scope")->as_string() == "pgdemo");
  CHECK(back.find("etcd3")->find("hosts")->as_array().at(0).as_string() == "127.0.0.1:2379");
  CHECK(back.find("postgresql")->find("listen")->as_string() == "127.0.1.1:5433");
  CHECK(back.find("postgresql")->find("parameters")->find("port") == nullptr);  // Patroni's own
  CHECK(back.find("bootstrap")->find("dcs")->find("loop_wait")->as_int() == 10);
  auto m = patroni::member_of(back);
  CHECK(m.node == "pg1");
  CHECK(m.port == 5433);
  CHECK(m.connect_host == "127.0.1.1");
  CHECK(patroni::credentials_of(back).replication == creds.replication);
  // The REST API is never open: with no site credentials, generated ones, in the 0600 YAML only.
  const core::Value* api_auth = back.find("restapi")->find("authentication");
  REQUIRE(api_auth);
  CHECK_FALSE(api_auth->find("username")->as_string().empty());
  CHECK(api_auth->find("password")->as_string().size() >= 24);
  std::string yaml = core::read_file(file);
  CHECK(yaml.find("trust") == std::string::npos);
  CHECK(yaml.find("hot_standby: \"on\"") != std::string::npos);  // a string for PyYAML, not a boolean

  // A user's own key and a changed timing survive a rewrite; parameters are replaced whole.
  auto edited = back;
  edited.set("tags", core::Object{{"nofailover", true}});
  core::write_file_atomic(file, core::to_yaml(edited), 0600);
  patroni::write(file, doc);
  CHECK(patroni::read(file).find("tags") != nullptr);
  patroni::write_parameters(file, {{"shared_buffers", std::string("1GB")}});
  auto params = patroni::parameters_of(patroni::read(file));
  CHECK(params.size() == 1);
  CHECK(std::get<std::string>(params.at("shared_buffers")) == "1GB");
  CHECK(patroni::read(file).find("tags") != nullptr);
}

TEST_CASE("patroni config: no site credentials for the REST API, defaults secure") {
  auto s = settings_with_patroni();
  REQUIRE_FALSE(s.patroni->restapi.username);
  auto l = postgres::Layout::of(s, "pg1", s.default_version());
  PatroniSpec ps{.cluster = "pgdemo", .node = "pg1"};

  // Nothing listens on a wildcard by default: not the REST API, not PostgreSQL.
  auto member = patroni::resolve_member(ps, 5432, {});
  for (const std::string& host : {net::Endpoint::parse(member.restapi_listen).host, member.listen_host}) {
    CHECK(host != "*");
    CHECK(host != "0.0.0.0");
    CHECK(host != "::");
    CHECK_FALSE(host.empty());
  }

  // Generated, per cluster: a new cluster gets new ones, a member joining reuses its cluster's.
  auto first = patroni::build(s, l, member, {}, patroni::Credentials::generate(), {"C", "UTF8", false});
  auto other = patroni::build(s, l, member, {}, patroni::Credentials::generate(), {"C", "UTF8", false});
  auto auth = patroni::member_of(first).restapi_auth;
  REQUIRE(auth);
  CHECK(auth->password.size() >= 24);
  REQUIRE(patroni::member_of(other).restapi_auth);
  CHECK(patroni::member_of(other).restapi_auth->password != auth->password);
  auto cluster = patroni::credentials_of(first);
  CHECK(cluster.restapi == auth);
  auto joining = patroni::build(s, l, member, {}, cluster, {"C", "UTF8", false});
  CHECK(patroni::member_of(joining).restapi_auth == auth);

  // The site's, when it gives some, whatever the cluster had.
  auto site = settings_with_patroni(R"({"patroni": {"restapi": {"authentication": {"username": "api", "password": "s3cret"}}}})");
  auto with_site = patroni::build(site, l, member, {}, cluster, {"C", "UTF8", false});
  CHECK(patroni::member_of(with_site).restapi_auth == std::optional(patroni::RestAuth{"api", "s3cret"}));
  CHECK_THROWS_WITH_AS(settings_with_patroni(R"({"patroni": {"restapi": {"authentication": {"username": "a:b", "password": "x"}}}})"),
                       doctest::Contains("without ':'"), SettingsError);
}

TEST_CASE("patroni config: the watchdog is configured when the site asks for it and its device exists") {
  auto s = settings_with_patroni();
  auto l = postgres::Layout::of(s, "pg1", s.default_version());
  auto member = patroni::resolve_member(PatroniSpec{.cluster = "pgdemo", .node = "pg1"}, 5432, {});
  auto watchdog_of = [&](const std::string& mode, std::optional<fs::path> device) {
    s.patroni->watchdog_mode = mode;
    s.patroni->watchdog_device = device;
    auto doc = patroni::build(s, l, member, {}, patroni::Credentials::generate(), {"C", "UTF8", false});
    return core::to_json(*doc.find("watchdog"));
  };
  CHECK(watchdog_of("off", std::nullopt) == R"({"mode":"off"})");
  // A device that exists: /dev/null stands for one (Patroni opens it when it starts, not us).
  CHECK(watchdog_of("automatic", "/dev/null") == R"({"mode":"automatic","device":"/dev/null"})");
  CHECK(watchdog_of("required", "/dev/null") == R"({"mode":"required","device":"/dev/null"})");
  // No device: automatic is off; required is a clear error naming the setting and the device.
  CHECK(watchdog_of("automatic", "/nonexistent/watchdog") == R"({"mode":"off"})");
  CHECK_THROWS_WITH_AS(watchdog_of("required", "/nonexistent/watchdog"),
                       doctest::Contains("patroni.watchdog.mode is 'required', but the watchdog device /nonexistent/watchdog does not exist"),
                       SettingsError);
  // The default device is /dev/watchdog.
  if (fs::exists("/dev/watchdog")) CHECK(watchdog_of("automatic", std::nullopt) == R"({"mode":"automatic","device":"/dev/watchdog"})");
  else CHECK_THROWS_AS(watchdog_of("required", std::nullopt), SettingsError);
}

TEST_CASE("Patroni REST client: credentials to our own member only, never to an address from the DCS") {
  RecordingServer server;
  auto site = settings_with_patroni(R"({"patroni": {"restapi": {"authentication": {"username": "api", "password": "site"}}}})");
  const auto basic = [](const std::string& user, const std::string& password) {
    return "Basic " + net::base64_encode(user + ":" + password);
  };

  SUBCASE("our own member: its YAML's credentials on unsafe calls") {
    patroni::Member own;
    own.restapi_connect_address = server.address();
    own.restapi_auth = patroni::RestAuth{"pglift", "generated"};
    auto r = run(patroni::Rest(*site.patroni, own).call("POST", "/restart", core::Object{}, std::chrono::seconds(5)));
    CHECK(r.status == 200);
    REQUIRE(server.requests().size() == 1);
    CHECK(server.requests()[0].starts_with("POST /restart "));
    CHECK(authorization(server.requests()[0]) == basic("pglift", "generated"));
  }
  SUBCASE("our own member without credentials in its YAML (made before): the site's") {
    patroni::Member own;
    own.restapi_connect_address = server.address();
    run(patroni::Rest(*site.patroni, own).call("POST", "/reload", core::Object{}, std::chrono::seconds(5)));
    REQUIRE(server.requests().size() == 1);
    CHECK(authorization(server.requests()[0]) == basic("api", "site"));
  }
  SUBCASE("an api_url from the DCS, over http: reads without credentials, refuses unsafe calls") {
    auto peer = patroni::Rest::from_api_url(*site.patroni, "http://" + server.address() + "/patroni");
    CHECK(run(peer.probe("/liveness")) == 200);
    REQUIRE(server.requests().size() == 1);
    CHECK(authorization(server.requests()[0]).empty());
    CHECK_THROWS_WITH_AS(run(peer.call("POST", "/switchover", core::Object{{"leader", "pg1"}}, std::chrono::seconds(5))),
                         doctest::Contains("refusing to send POST /switchover"), StateError);
    CHECK(server.requests().size() == 1);  // nothing sent
  }
}

TEST_CASE("REST payloads recorded from Patroni 3.0.2 parse into cluster members") {
  auto two = fixture("cluster-two-members.json");
  std::vector<ClusterMember> members;
  for (const auto& m : two.find("members")->as_array()) members.push_back(patroni::parse_member(m));
  REQUIRE(members.size() == 2);
  CHECK(members[0].role == "leader");
  CHECK(members[1].role == "replica");
  REQUIRE(members[1].lag);
  CHECK(std::holds_alternative<std::int64_t>(*members[1].lag));
  auto after = fixture("cluster-after-switchover-lag-unknown.json");
  bool unknown = false;
  for (const auto& m : after.find("members")->as_array()) {
    auto member = patroni::parse_member(m);
    if (member.lag && std::holds_alternative<std::string>(*member.lag)) unknown = std::get<std::string>(*member.lag) == "unknown";
  }
  CHECK(unknown);
  CHECK(patroni::is_leader_role(fixture("patroni-leader-alone.json").find("role")->as_string()));  // "master"
  CHECK(patroni::is_leader_role("primary"));
  CHECK_FALSE(patroni::is_leader_role(fixture("patroni-replica.json").find("role")->as_string()));
  // And the instance JSON keeps the members' extra keys.
  Instance i{.name = "pg1", .version = "15"};
  i.patroni = PatroniInfo{.cluster = "pgdemo", .node = "pg1", .cluster_members = members};
  auto doc = core::parse_json(i.to_json());
  CHECK(doc.find("patroni")->find("cluster_members")->as_array().size() == 2);
  CHECK(Instance::from_json(i.to_json()).patroni->cluster_members.at(1).lag == members[1].lag);
}

#include "patroni/health.hpp"

namespace {
std::vector<ClusterMember> members_of(const core::Value& cluster) {
  std::vector<ClusterMember> out;
  for (const auto& m : cluster.find("members")->as_array()) out.push_back(patroni::parse_member(m));
  return out;
}
const ClusterMember& named(const std::vector<ClusterMember>& ms, const std::string& name) {
  for (const auto& m : ms)
    if (m.name == name) return m;
  throw std::runtime_error("no member " + name);
}
}  // namespace

TEST_CASE("candidate health: streaming from the leader on its timeline within the lag limit, else why not") {
  const auto members = members_of(fixture("cluster-two-members.json"));
  const ClusterMember& leader = named(members, "pg1");
  ClusterMember replica = named(members, "pg2");
  const auto history = patroni::parse_history(fixture("history-after-switchovers.json"));
  REQUIRE(history.size() >= 2);
  CHECK(history[0].timeline == 1);
  CHECK(history[0].end == 117441312);
  const std::int64_t max_lag = patroni::max_lag_of(fixture("config-dcs.json"));
  CHECK(max_lag == 1048576);
  CHECK(patroni::max_lag_of(std::nullopt) == 1048576);
  CHECK(postgres::format_lsn(117441312) == "0/7000320");

  patroni::MemberObservation seen{.api_answers = true, .status = fixture("patroni-replica.json")};
  seen.walreceiver = patroni::WalReceiver{"streaming", 1, leader.host, leader.port};
  CHECK(patroni::assess(leader, &leader, seen, {}, max_lag).health == patroni::Health::leader);
  auto a = patroni::assess(replica, &leader, seen, {}, max_lag);
  CHECK(a.health == patroni::Health::streaming);
  CHECK(a.reason.empty());

  SUBCASE("a walreceiver waiting") {
    seen.walreceiver->status = "waiting";
    a = patroni::assess(replica, &leader, seen, {}, max_lag);
    CHECK(a.health == patroni::Health::not_streaming);
    CHECK(a.reason == "member 'pg2' does not stream from leader 'pg1' (walreceiver: waiting)");
    CHECK_FALSE(a.lasting());
  }
  SUBCASE("streaming from another member") {
    seen.walreceiver->sender_host = "127.0.1.9";
    CHECK(patroni::assess(replica, &leader, seen, {}, max_lag).health == patroni::Health::not_streaming);
  }
  SUBCASE("ahead of the leader's timeline: diverged") {
    // the fixture's replica reports timeline 1; the leader says 0 here
    ClusterMember old_leader = leader;
    old_leader.timeline = 0;
    seen.walreceiver.reset();
    a = patroni::assess(replica, &old_leader, seen, {}, max_lag);
    CHECK(a.health == patroni::Health::diverged);
    CHECK(a.reason == "member 'pg2' is on timeline 1 while leader 'pg1' is on timeline 0 (diverged; it needs a rewind or a reinit)");
    CHECK(a.lasting());
  }
  SUBCASE("behind the leader's timeline, past the fork: diverged; not past it: catching up") {
    ClusterMember new_leader = leader;
    new_leader.timeline = 2;
    seen.walreceiver.reset();
    // patroni-replica.json: timeline 1, received/replayed 117440608, below the fork at 117441312.
    a = patroni::assess(replica, &new_leader, seen, history, max_lag);
    CHECK(a.health == patroni::Health::not_streaming);
    CHECK_FALSE(a.lasting());
    std::vector<patroni::HistoryEntry> earlier_fork{{1, 117440000}};
    a = patroni::assess(replica, &new_leader, seen, earlier_fork, max_lag);
    CHECK(a.health == patroni::Health::diverged);
    CHECK(a.reason.find("past the fork at 0/6FFFE00") != std::string::npos);
  }
  SUBCASE("lag unknown, or over maximum_lag_on_failover") {
    replica.lag = std::string("unknown");
    CHECK(patroni::assess(replica, &leader, seen, {}, max_lag).health == patroni::Health::lagging);
    replica.lag = std::int64_t{2 * 1048576};
    a = patroni::assess(replica, &leader, seen, {}, max_lag);
    CHECK(a.health == patroni::Health::lagging);
    CHECK(a.reason.find("maximum_lag_on_failover: 1048576") != std::string::npos);
  }
  SUBCASE("stopped, or its API unreachable: lasting") {
    const auto after = members_of(fixture("cluster-after-switchover-lag-unknown.json"));
    a = patroni::assess(named(after, "pg1"), &named(after, "pg2"), seen, history, max_lag);
    CHECK(a.health == patroni::Health::stopped);
    CHECK(a.reason == "member 'pg1' is stopped");
    CHECK(a.lasting());
    seen.api_answers = false;
    a = patroni::assess(replica, &leader, seen, {}, max_lag);
    CHECK(a.health == patroni::Health::unreachable);
    CHECK(a.lasting());
  }
}

TEST_CASE("instance JSON: the truth fields of a Patroni member round-trip") {
  Instance i;
  i.name = "pg1";
  i.version = "15";
  PatroniInfo p;
  p.cluster = "c";
  p.node = "pg1";
  p.state = "not_running";
  p.orphan_postmaster = true;
  p.dcs_error = "etcd at http://127.0.0.1:2379: Connection refused";
  ClusterMember m;
  m.name = "pg1";
  m.state = "unknown";
  m.patroni_api = "unreachable";
  m.health = "diverged";
  m.health_reason = "why";
  p.cluster_members.push_back(m);
  i.patroni = p;
  const std::string json = i.to_json();
  CHECK(json.find("\"orphan_postmaster\":true") != std::string::npos);
  Instance back = Instance::from_json(json);
  CHECK(back.patroni->state == std::optional<std::string>("not_running"));
  CHECK(back.patroni->orphan_postmaster);
  CHECK(back.patroni->dcs_error == p.dcs_error);
  REQUIRE(back.patroni->cluster_members.size() == 1);
  CHECK(back.patroni->cluster_members[0].health == std::optional<std::string>("diverged"));
  CHECK(back.patroni->cluster_members[0].patroni_api == std::optional<std::string>("unreachable"));
  CHECK(back.patroni->cluster_members[0].health_reason == std::optional<std::string>("why"));
  CHECK(back.patroni->cluster_members[0].extra.empty());
}

TEST_CASE("patroni config: an isolated leader's shutdown is bounded well within ttl (wal_sender_timeout, primary_stop_timeout)") {
  auto s = settings_with_patroni();
  auto l = postgres::Layout::of(s, "pg1", s.default_version());
  auto member = patroni::resolve_member(PatroniSpec{.cluster = "pgdemo", .node = "pg1"}, 5432, {});
  auto dcs_of = [&](int loop_wait, int ttl, int retry_timeout) {
    s.patroni->loop_wait = loop_wait;
    s.patroni->ttl = ttl;
    s.patroni->retry_timeout = retry_timeout;
    auto doc = patroni::build(s, l, member, {}, patroni::Credentials::generate(), {"C", "UTF8", false});
    return *doc.find("bootstrap")->find("dcs");
  };
  auto defaults = dcs_of(10, 30, 10);  // Patroni's defaults: demotion starts <= 20 s after the last renewal
  CHECK(defaults.find("postgresql")->find("parameters")->find("wal_sender_timeout")->as_string() == "5000ms");
  CHECK(defaults.find("primary_stop_timeout")->as_int() == 10);
  // A member stuck on a forked timeline is never elected (Patroni compares positions across timelines).
  CHECK(defaults.find("check_timeline")->as_bool());
  auto fast = dcs_of(2, 10, 3);  // the test suites' timing
  CHECK(fast.find("postgresql")->find("parameters")->find("wal_sender_timeout")->as_string() == "2000ms");
  CHECK(fast.find("primary_stop_timeout")->as_int() == 3);
  // Whatever the timing the settings allow, the shutdown's wait fits in the margin the leader key leaves.
  for (int retry : {1, 3, 5, 10, 30}) {
    s.patroni->retry_timeout = retry;
    auto bounds = patroni::partition_bounds(*s.patroni);
    CHECK(bounds.wal_sender_timeout_ms <= std::max(2000, retry * 1000));
    CHECK(bounds.primary_stop_timeout_s <= std::max(1, retry));
  }
}

TEST_CASE("synchronous_mode(_strict): site default, the spec per cluster, into bootstrap.dcs; strict needs the mode") {
  auto s = settings_with_patroni();
  CHECK_FALSE(s.patroni->synchronous_mode);
  CHECK_FALSE(s.patroni->synchronous_mode_strict);
  auto on = settings_with_patroni(R"({"patroni": {"synchronous_mode": true, "synchronous_mode_strict": true}})");
  CHECK(on.patroni->synchronous_mode);
  CHECK(on.patroni->synchronous_mode_strict);
  CHECK_THROWS_WITH_AS(settings_with_patroni(R"({"patroni": {"synchronous_mode_strict": true}})"),
                       doctest::Contains("'patroni.synchronous_mode_strict': requires 'patroni.synchronous_mode'"), SettingsError);

  auto spec = InstanceSpec::from_json(R"({"name": "pg1", "patroni": {"cluster": "c", "synchronous_mode": true}})");
  CHECK(spec.patroni->synchronous_mode == std::optional<bool>(true));
  CHECK_FALSE(spec.patroni->synchronous_mode_strict);
  CHECK(InstanceSpec::from_json(spec.to_json()).patroni->synchronous_mode == std::optional<bool>(true));
  CHECK_THROWS_WITH_AS(
      InstanceSpec::from_json(R"({"name": "pg1", "patroni": {"cluster": "c", "synchronous_mode": false, "synchronous_mode_strict": true}})"),
      doctest::Contains("'patroni.synchronous_mode_strict': requires synchronous_mode"), InvalidSpec);
  CHECK_THROWS_WITH_AS(InstanceSpec::from_json(R"({"name": "pg1", "patroni": {"cluster": "c", "synchronous_mode": "yes"}})"),
                       doctest::Contains("'patroni.synchronous_mode': expecting a boolean"), InvalidSpec);

  auto l = postgres::Layout::of(s, "pg1", s.default_version());
  auto member = patroni::resolve_member(PatroniSpec{.cluster = "c", .node = "pg1"}, 5432, {});
  patroni::BootstrapOptions boot{"C", "UTF8", false};
  auto dcs = [&] { return *patroni::build(s, l, member, {}, patroni::Credentials::generate(), boot).find("bootstrap")->find("dcs"); };
  CHECK_FALSE(dcs().find("synchronous_mode")->as_bool());
  boot.synchronous_mode = boot.synchronous_mode_strict = true;
  CHECK(dcs().find("synchronous_mode")->as_bool());
  CHECK(dcs().find("synchronous_mode_strict")->as_bool());

  // get: the cluster's dynamic configuration, when known.
  Instance i{.name = "pg1", .version = "15"};
  i.patroni = PatroniInfo{.cluster = "c", .node = "pg1", .synchronous_mode = true, .synchronous_mode_strict = false};
  auto back = Instance::from_json(i.to_json());
  CHECK(back.patroni->synchronous_mode == std::optional<bool>(true));
  CHECK(back.patroni->synchronous_mode_strict == std::optional<bool>(false));
}

namespace {
/// What `ambiguous` throws, or the address.
std::string address_or_error(const patroni::HostTables& t) {
  try {
    return patroni::choose_host_address(t);
  } catch (const InvalidSpec& e) {
    return std::string("error[") + e.field() + "]: " + e.what();
  }
}
}  // namespace

TEST_CASE("default address: /proc/net/route's default routes (up, 0.0.0.0/0), whatever else it lists") {
  const std::string table =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      "eth1\t00000000\t8200A8C6\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
      "eth0\t000012C6\t00000000\t0001\t0\t0\t0\t80FFFFFF\t0\t0\t0\n"
      "eth0\t00000000\t0200A8C6\t0003\t0\t0\t50\t00000000\t0\t0\t0\n"
      "eth2\t00000000\t0200A8C6\t0002\t0\t0\t10\t00000000\t0\t0\t0\n"  // not up
      "garbage line\n";
  auto routes = patroni::default_routes_of(table);
  REQUIRE(routes.size() == 2);
  CHECK(routes[0].interface == "eth1");
  CHECK(routes[0].metric == 100);
  CHECK(routes[1].interface == "eth0");
  CHECK(routes[1].metric == 50);
  CHECK(patroni::default_routes_of("").empty());
  CHECK(patroni::default_routes_of("Iface\tDestination\n").empty());
}

TEST_CASE("default address: the default route's interface, else the host name's, else the only one; else an error asking for the options") {
  const std::vector<patroni::LocalAddress> two{{"eth0", "198.18.0.1"}, {"eth1", "198.18.0.129"}};
  // The interface of the default route wins, whatever getifaddrs lists first; the lowest metric's.
  CHECK(address_or_error({two, {{"eth1", 0}}, "h", {}}) == "198.18.0.129");
  CHECK(address_or_error({two, {{"eth0", 0}}, "h", {"198.18.0.129"}}) == "198.18.0.1");
  CHECK(address_or_error({two, {{"eth0", 200}, {"eth1", 100}}, "h", {}}) == "198.18.0.129");
  // No default route: the host name's address, when it is one of ours (Debian's 127.0.1.1 is not).
  CHECK(address_or_error({two, {}, "h", {"127.0.1.1", "198.18.0.129"}}) == "198.18.0.129");
  // A default route through an interface without IPv4 (a tunnel): no help; the host name decides.
  CHECK(address_or_error({two, {{"tun0", 0}}, "h", {"198.18.0.1"}}) == "198.18.0.1");
  // One candidate: it (the hosts suite's hosts: one NIC, no default route).
  CHECK(address_or_error({{{"eth0", "198.18.0.2"}}, {}, "h", {"127.0.1.1"}}) == "198.18.0.2");
  // None: the host name, as before (a loopback-only host).
  CHECK(address_or_error({{}, {}, "h", {"127.0.1.1"}}) == "h");

  // Several and nothing to choose: an error naming them and the options, never a guess.
  const std::string error = address_or_error({two, {}, "h", {"127.0.1.1"}});
  CHECK(error.starts_with("error[patroni.postgresql.connect_host]: cannot choose this host's address"));
  CHECK(error.find("eth0 198.18.0.1, eth1 198.18.0.129") != std::string::npos);
  CHECK(error.find("--patroni-restapi-connect-address and --patroni-postgresql-connect-host") != std::string::npos);
  CHECK(error.find("invalid value") == std::string::npos);
  // The default route's interface with two addresses: the host name may pick one, else the error.
  const std::vector<patroni::LocalAddress> aliased{{"eth0", "198.18.0.1"}, {"eth0", "198.18.0.5"}, {"eth1", "198.18.0.129"}};
  CHECK(address_or_error({aliased, {{"eth0", 0}}, "h", {"198.18.0.5"}}) == "198.18.0.5");
  CHECK(address_or_error({aliased, {{"eth0", 0}}, "h", {}}).find("the interface of the default route, eth0, has several addresses (eth0 198.18.0.1, eth0 198.18.0.5)") != std::string::npos);

  // Given addresses need no choice: no error on an ambiguous host.
  auto member = patroni::resolve_member(PatroniSpec{.cluster = "c", .node = "n", .restapi_connect_address = "198.18.0.1:8008",
                                                    .postgresql_connect_host = "198.18.0.1"},
                                        5432, {});
  CHECK(member.connect_host == "198.18.0.1");
}
