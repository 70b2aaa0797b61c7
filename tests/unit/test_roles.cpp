// Roles: the SQL built from specs (with a stand-in quoter: libpq's own quoting is exercised by the func
// suite), the JSON faces and their errors, and the passfile lines.
#include <doctest/doctest.h>

#include "pglift/errors.hpp"
#include "pglift/roles.hpp"
#include "postgres/roles.hpp"

using namespace pglift;

namespace {
// Visibly different from SQL's quoting: a test fails if anything skips the quoter.
postgres::Quoter fake() {
  return {[](std::string_view n) { return "<" + std::string(n) + ">"; },
          [](std::string_view v) { return "[" + std::string(v) + "]"; }};
}
}  // namespace

TEST_CASE("CREATE ROLE: every attribute, names and values through the quoter, no limit as -1") {
  RoleSpec s;
  s.name = "bob";
  s.login = true;
  s.valid_until = "2030-01-01T00:00:00+00:00";
  CHECK(postgres::create_role_sql(fake(), s.name, postgres::attributes_of(s, std::string("SCRAM-SHA-256$x")), {"a", "b c"}) ==
        "CREATE ROLE <bob> INHERIT LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION CONNECTION LIMIT -1 "
        "VALID UNTIL [2030-01-01T00:00:00+00:00] PASSWORD [SCRAM-SHA-256$x] IN ROLE <a>, <b c>");
  s.connection_limit = 3;
  s.inherit = false;
  s.valid_until.reset();
  CHECK(postgres::create_role_sql(fake(), s.name, postgres::attributes_of(s, std::nullopt), {}) ==
        "CREATE ROLE <bob> NOINHERIT LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION CONNECTION LIMIT 3");
}

TEST_CASE("ALTER ROLE: only what is given; GRANT/REVOKE only for memberships that change") {
  RoleChanges c;
  CHECK(postgres::alter_role_sql(fake(), "bob", postgres::attributes_of(c, std::nullopt), {}, {}, {}).empty());
  c.login = false;
  c.connection_limit = -1;
  c.grant = {"a", "held", "a"};
  c.revoke = {"held2", "not_held"};
  auto sql = postgres::alter_role_sql(fake(), "bob", postgres::attributes_of(c, std::nullopt), c.grant, c.revoke,
                                      {"held", "held2"});
  REQUIRE(sql.size() == 3);
  CHECK(sql[0] == "ALTER ROLE <bob> NOLOGIN CONNECTION LIMIT -1");
  CHECK(sql[1] == "GRANT <a> TO <bob>");
  CHECK(sql[2] == "REVOKE <held2> FROM <bob>");
}

TEST_CASE("drop: REASSIGN OWNED or DROP OWNED, then DROP ROLE") {
  CHECK(postgres::owned_sql(fake(), "bob", {}).empty());
  CHECK(postgres::owned_sql(fake(), "bob", {.drop_owned = true}) == "DROP OWNED BY <bob>");
  CHECK(postgres::owned_sql(fake(), "bob", {.reassign_owned = "alice"}) == "REASSIGN OWNED BY <bob> TO <alice>");
  CHECK(postgres::drop_role_sql(fake(), "bob") == "DROP ROLE <bob>");
}

TEST_CASE("role names: non-empty, 63 bytes at most, no control characters; errors name the field") {
  CHECK_NOTHROW(postgres::validate_role_name("name", "Bob \"the\" Admin; DROP"));
  CHECK_NOTHROW(postgres::validate_role_name("name", std::string(63, 'x')));
  CHECK_THROWS_WITH_AS(postgres::validate_role_name("name", std::string(64, 'x')), doctest::Contains("63 bytes"), InvalidSpec);
  CHECK_THROWS_WITH_AS(postgres::validate_role_name("name", ""), doctest::Contains("'name'"), InvalidSpec);
  CHECK_THROWS_WITH_AS(postgres::validate_role_name("in_roles[1]", std::string("a\nb")), doctest::Contains("'in_roles[1]'"),
                       InvalidSpec);
  CHECK_THROWS_AS(postgres::validate_role_name("name", std::string("a\0b", 3)), InvalidSpec);
}

TEST_CASE("role JSON: defaults, field-naming errors, secrets never shown") {
  RoleSpec s = role_spec_from_json(R"({"name": "bob", "login": true, "in_roles": ["pg_monitor"], "connection_limit": -1})");
  CHECK(s.name == "bob");
  CHECK(s.login);
  CHECK(s.inherit);
  CHECK_FALSE(s.connection_limit);
  CHECK(s.in_roles == std::vector<std::string>{"pg_monitor"});

  auto field_of = [](auto fn) {
    try {
      fn();
    } catch (const InvalidSpec& e) {
      CHECK(std::string(e.what()).find("s3cret") == std::string::npos);
      return e.field();
    }
    return std::string("(no error)");
  };
  CHECK(field_of([] { role_spec_from_json(R"({"name": "bob", "password": "s3cret", "encrypted_password": "s3cret"})"); }) ==
        "encrypted_password");
  CHECK(field_of([] { role_spec_from_json(R"({"name": "bob", "password": "s3cret", "login": "yes"})"); }) == "login");
  CHECK(field_of([] { role_spec_from_json(R"({"name": "bob", "in_roles": ["a", 3], "password": "s3cret"})"); }) == "in_roles[1]");
  CHECK(field_of([] { role_spec_from_json(R"({"name": "bob", "nope": 1})"); }) == "nope");
  CHECK(field_of([] { role_spec_from_json(R"({"login": true})"); }) == "name");
  CHECK(field_of([] { role_spec_from_json(R"({"name": "bob", "pgpass": true})"); }) == "password");
  CHECK(field_of([] { role_spec_from_json(R"({"name": "bob", "connection_limit": -2})"); }) == "connection_limit");
  CHECK(field_of([] { role_spec_from_json(R"({"name": "bob", "password": "s3cret",)"); }) == "role");
  CHECK(field_of([] { role_changes_from_json(R"({"grant": ["ok", ""], "password": "s3cret"})"); }) == "grant[1]");
  CHECK(field_of([] { role_drop_options_from_json(R"({"drop_owned": true, "reassign_owned": "x"})"); }) == "reassign_owned");
  CHECK(role_drop_options_from_json("").reassign_owned == std::nullopt);
  CHECK(role_drop_options_from_json("null").drop_owned == false);

  Role r;
  r.name = "bob";
  r.in_roles = {"a"};
  r.connection_limit = 2;
  CHECK(to_json(r) ==
        R"({"name":"bob","has_password":false,"inherit":true,"login":false,"superuser":false,"createdb":false,)"
        R"("createrole":false,"replication":false,"connection_limit":2,"valid_until":null,"in_roles":["a"],"pgpass":false})");
}

TEST_CASE("passfile: set, replace, remove one line; others kept, sorted, comments first; ':' and '\\' escaped") {
  std::string text = "# mine\nz:1:*:u:p\n*:5432:*:bob:old\n";
  std::string set = postgres::pgpass_with(text, 5432, "bob", std::string("new:pw\\"));
  CHECK(set == "# mine\n*:5432:*:bob:new\\:pw\\\\\nz:1:*:u:p\n");
  CHECK(postgres::pgpass_password(set, 5432, "bob") == std::optional<std::string>("new:pw\\"));
  CHECK_FALSE(postgres::pgpass_password(set, 5433, "bob"));
  std::string added = postgres::pgpass_with(set, 5432, "a:b", std::string("x"));
  CHECK(postgres::pgpass_password(added, 5432, "a:b") == std::optional<std::string>("x"));
  CHECK(postgres::pgpass_with(added, 5432, "bob", std::nullopt).find("bob") == std::string::npos);
  CHECK(postgres::pgpass_with("", 1, "bob", std::nullopt).empty());
}
