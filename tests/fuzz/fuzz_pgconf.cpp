// postgresql.conf and pg_hba.conf text (src/postgres/conf.cpp, src/ops/parameter_text.cpp,
// src/postgres/hba.cpp): any text parses; the parameters written back as text (what `pgconf edit` opens)
// parse to the same values, and handing that text back unchanged changes nothing; pg_hba lines split
// into tokens, and records are added to and removed from any file.
#include "core/text.hpp"
#include "fuzz.hpp"
#include "pglift/errors.hpp"
#include "pglift/hba.hpp"
#include "pglift/operations.hpp"
#include "postgres/conf.hpp"
#include "postgres/hba.hpp"

using namespace pglift;

namespace {

/// The parameters as PostgreSQL would read them: each value's text (1e5 and 100000.0 are one value).
std::map<std::string, std::string> rendered(const ConfParameters& parameters) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : parameters) out[name] = postgres::render_conf_value(value);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = fuzz::text_of(data, size);
  const ConfParameters parameters = postgres::parse_conf(text);
  const std::string written = parameters_text(parameters);
  fuzz::check(rendered(postgres::parse_conf(written)) == rendered(parameters),
              "postgresql.conf -> parameters_text -> parse_conf changes the parameters", written);
  try {
    const ParameterChanges changes = parameter_changes_from_text(parameters, written);
    fuzz::check(changes.empty(), "the parameters' own text, unchanged, makes changes", written);
  } catch (const InvalidSpec& e) {
    fuzz::fail("the parameters' own text is refused", std::string(e.what()) + "\n" + written);
  }
  // The text as edited by a user (pgconf edit), against the file's parameters.
  try {
    parameter_changes_from_text(parameters, text);
    parameter_changes_from_text({}, text);
  } catch (const InvalidSpec&) {
  }

  // pg_hba.conf: each line's tokens; records added to and removed from the file.
  std::vector<std::string> lines = core::split(text, '\n');
  std::vector<HbaRecord> records;
  for (const auto& line : lines) {
    const auto tokens = postgres::hba_tokens(line);
    // A record made of the line's tokens, when it is a valid one: it must then be found in the file.
    if (tokens.size() >= 4) {
      HbaRecord r;
      if (tokens[0] != "local") r.connection = HbaConnection{.type = tokens[0], .address = tokens[3]};
      r.database = {tokens[1]};
      r.user = {tokens[2]};
      r.method = tokens.back();
      try {
        r.validate();
        records.push_back(r);
      } catch (const InvalidSpec&) {
      }
    }
  }
  HbaRecord local;
  local.method = "peer";
  records.push_back(local);
  const auto added = postgres::add_hba(lines, records);
  try {
    postgres::remove_hba(added.lines, records);
  } catch (const NotFound&) {
    fuzz::fail("a record just added is not found to remove");
  }
  try {
    postgres::remove_hba(lines, records);
  } catch (const NotFound&) {
  }
  return 0;
}
