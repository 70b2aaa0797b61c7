#include <doctest/doctest.h>

#include "core/diff.hpp"
#include "pglift/errors.hpp"
#include "pglift/hba.hpp"
#include "postgres/hba.hpp"

using namespace pglift;

namespace {
HbaRecord host(std::string address, std::string method = "scram-sha-256") {
  HbaRecord r;
  r.connection = HbaConnection{"host", std::move(address), std::nullopt};
  r.method = std::move(method);
  return r;
}
std::string refused_field(const HbaRecord& r) {
  try {
    r.validate();
  } catch (const InvalidSpec& e) {
    return e.field();
  }
  return "ok";
}
}  // namespace

TEST_CASE("pg_hba records: valid ones render as pg_hba lines") {
  HbaRecord local;
  local.method = "peer";
  local.options = {"map=pglift"};
  CHECK(refused_field(local) == "ok");
  CHECK(postgres::hba_tokens(local.line()) == std::vector<std::string>{"local", "all", "all", "peer", "map=pglift"});
  auto r = host("10.0.0.0/8");
  r.database = {"db1", "db2"};
  r.user = {"+admins", "bob"};
  CHECK(refused_field(r) == "ok");
  CHECK(postgres::hba_tokens(r.line()) ==
        std::vector<std::string>{"host", "db1,db2", "+admins,bob", "10.0.0.0/8", "scram-sha-256"});
  auto masked = host("192.168.1.0");
  masked.connection->netmask = "255.255.255.0";
  CHECK(refused_field(masked) == "ok");
  CHECK(postgres::hba_tokens(masked.line())[3] == "192.168.1.0");
  CHECK(postgres::hba_tokens(masked.line())[4] == "255.255.255.0");
  for (const char* a : {"::1/128", "samenet", "all", "db.example.com", "fe80::/10"}) {
    CAPTURE(a);
    CHECK(refused_field(host(a)) == "ok");
  }
}

TEST_CASE("pg_hba records: bad fields are refused, naming the field") {
  auto r = host("10.0.0.0/8");
  r.connection->type = "hostx";
  CHECK(refused_field(r) == "connection.type");
  CHECK(refused_field(host("10.0.0.0/33")) == "connection.address");
  CHECK(refused_field(host("10.0.0.0/8 trust")) == "connection.address");
  CHECK(refused_field(host("a#b")) == "connection.address");
  CHECK(refused_field(host("")) == "connection.address");
  CHECK(refused_field(host("10.0.0.1")) == "connection.netmask");  // an address alone needs a mask
  auto mask = host("db.example.com");
  mask.connection->netmask = "255.0.0.0";
  CHECK(refused_field(mask) == "connection.netmask");
  CHECK(refused_field(host("10.0.0.0/8", "trustme")) == "method");
  auto db = host("10.0.0.0/8");
  db.database = {"a b"};
  CHECK(refused_field(db) == "database");
  db.database = {};
  CHECK(refused_field(db) == "database");
  auto user = host("10.0.0.0/8");
  user.user = {"bob\"x"};
  CHECK(refused_field(user) == "user");
  auto opt = host("10.0.0.0/8", "ldap");
  opt.options = {"ldapbindpasswd=s3cr#t"};
  try {
    opt.validate();
    FAIL("accepted");
  } catch (const InvalidSpec& e) {
    CHECK(e.field() == "options");
    CHECK(std::string(e.what()).find("s3cr") == std::string::npos);  // an option value may be a secret
  }
}

TEST_CASE("pg_hba records from JSON: strings or lists, unknown fields and wrong types named") {
  auto records = HbaRecord::list_from_json(
      R"([{"connection": {"type": "hostssl", "address": "10.0.0.0/8"}, "database": "a,b", "user": ["u"], "method": "cert"},
          {"method": "peer", "options": "map=pglift"}])");
  REQUIRE(records.size() == 2);
  CHECK(records[0].connection->type == "hostssl");
  CHECK(records[0].database == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(records[1].connection);
  CHECK(records[1].options == std::vector<std::string>{"map=pglift"});
  CHECK(HbaRecord::list_from_json(records[0].to_json()).at(0).line() == records[0].line());
  auto field = [](const std::string& json) {
    try {
      HbaRecord::list_from_json(json);
    } catch (const InvalidSpec& e) {
      return e.field();
    }
    return std::string("ok");
  };
  CHECK(field(R"({"method": "peer", "bogus": 1})") == "bogus");
  CHECK(field(R"({"method": 5})") == "method");
  CHECK(field(R"({"database": "all"})") == "method");
  CHECK(field(R"({"method": "peer", "connection": {"port": 1}})") == "connection.port");
  CHECK_THROWS_AS(HbaRecord::list_from_json("{"), InvalidSpec);
}

TEST_CASE("pg_hba edits: add keeps other lines and skips what is there; remove needs every record found") {
  std::vector<std::string> lines{"# comment", "local   all all peer map=pglift", "host all all 127.0.0.1/32 scram-sha-256"};
  auto e = postgres::add_hba(lines, {host("127.0.0.1/32"), host("10.0.0.0/8")});
  CHECK(e.added.size() == 1);
  CHECK(e.lines.size() == 4);
  CHECK(e.lines[0] == "# comment");
  auto r = postgres::remove_hba(e.lines, {host("127.0.0.1/32")});
  CHECK(r.removed == std::vector<std::string>{"host all all 127.0.0.1/32 scram-sha-256"});
  CHECK(r.lines.size() == 3);
  CHECK_THROWS_AS(postgres::remove_hba(lines, {host("10.0.0.0/8"), host("127.0.0.1/32")}), NotFound);
}

TEST_CASE("pg_hba edits: a record given twice is removed once, and found (found by fuzzing)") {
  const std::vector<std::string> lines{"local all all peer", "host all all 127.0.0.1/32 scram-sha-256"};
  auto r = postgres::remove_hba(lines, {host("127.0.0.1/32"), host("127.0.0.1/32")});
  CHECK(r.removed == std::vector<std::string>{"host all all 127.0.0.1/32 scram-sha-256"});
  CHECK(r.lines == std::vector<std::string>{"local all all peer"});
}

TEST_CASE("unified diff") {
  CHECK(core::unified_diff("a\nb\n", "a\nb\n", "x", "y").empty());
  CHECK(core::unified_diff("a\nb\nc\n", "a\nc\nd\n", "x", "y") == "--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n c\n+d\n");
  CHECK(core::unified_diff("", "new\n", "x", "y") == "--- x\n+++ y\n@@ -0,0 +1 @@\n+new\n");
  std::string many;
  for (int i = 0; i < 20; ++i) many += std::to_string(i) + "\n";
  CHECK(core::unified_diff(many, many + "x\n", "x", "y") == "--- x\n+++ y\n@@ -18,3 +18,4 @@\n 17\n 18\n 19\n+x\n");
}
