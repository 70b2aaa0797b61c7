// A Patroni member's YAML as the library loads it (core::parse_yaml, src/patroni/config.cpp, and
// PatroniConfig in src/ops/patroni_config.cpp): parsed or refused with a ParseError; what parses shows
// itself as YAML that parses to the same document; the readers (member_of, credentials, parameters,
// cluster_prefix, PatroniConfig's getters) read any mapping; the rewrites of the file (write,
// write_parameters) work on any file patroni::read accepts, or refuse it with a pglift::Error.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/value.hpp"
#include "fuzz.hpp"
#include "ops/patroni_config.hpp"
#include "patroni/cluster_events.hpp"
#include "patroni/config.hpp"
#include "pglift/errors.hpp"
#include "pglift/patroni_config.hpp"

using namespace pglift;
namespace fs = std::filesystem;

namespace {

/// A private directory for the file rewrites, removed at exit: in /dev/shm when there is one (the
/// rewrites fsync; tmpfs makes that free), else in the temporary directory.
struct TempDir {
  fs::path path;
  TempDir() {
    fs::path base = ::access("/dev/shm", W_OK | X_OK) == 0 ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string tmpl = (base / "pglift-fuzz-patroni-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) fuzz::fail("mkdtemp");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static TempDir dir;
  const std::string text = fuzz::text_of(data, size);
  core::Value doc;
  try {
    doc = core::parse_yaml(text);
  } catch (const core::ParseError&) {
    return 0;
  }
  const std::string yaml = core::to_yaml(doc);
  try {
    const core::Value again = core::parse_yaml(yaml);
    fuzz::check(again == doc, "YAML -> to_yaml -> parse_yaml changes the document",
                yaml + "\nas JSON, before: " + core::to_json(doc) + "\nafter: " + core::to_json(again));
  } catch (const core::ParseError& e) {
    fuzz::fail("to_yaml's output does not parse", std::string(e.what()) + "\n" + yaml);
  }
  if (!doc.is_object()) return 0;  // patroni::read refuses it

  auto member = patroni::member_of(doc);
  patroni::credentials_of(doc);
  patroni::cluster_credentials_of(doc);
  auto parameters = patroni::parameters_of(doc);
  try {
    patroni::cluster_prefix(doc);
  } catch (const InvalidSpec&) {
  }

  const PatroniConfig config = ops::patroni_config_of(doc);
  config.scope();
  config.name();
  config.restapi();
  config.etcd();
  config.postgresql();
  config.parameters();
  config.pg_hba();
  config.bootstrap_dcs();
  config.ctl();
  config.watchdog();
  config.to_yaml();
  const std::string json = config.to_json();
  try {
    ops::patroni_document_for(config, doc);
  } catch (const InvalidSpec&) {
  }
  try {
    PatroniConfig::from_json(json);
  } catch (const InvalidSpec&) {
  }

  // The file rewrites: configure (write_parameters) and the managed sections (write) over this file.
  const fs::path file = dir.path / "member.yaml";
  write_text(file, text);
  try {
    patroni::write_parameters(file, parameters);
    patroni::read(file);
  } catch (const Error&) {
  }
  write_text(file, text);
  try {
    core::Value managed = core::Object{{"scope", member.cluster},
                                       {"postgresql", core::Object{{"listen", "127.0.0.1:5432"},
                                                                   {"parameters", core::Object{{"work_mem", "8MB"}}}}}};
    patroni::write(file, managed);
    patroni::read(file);
  } catch (const Error&) {
  }
  return 0;
}
