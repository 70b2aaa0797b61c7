// Site settings (YAML or JSON, src/core/settings.cpp) from one document: loaded or refused with a
// SettingsError, never anything else; what loads shows itself as JSON that loads to the same settings.
#include <optional>

#include "fuzz.hpp"
#include "pglift/errors.hpp"
#include "pglift/settings.hpp"

using namespace pglift;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = fuzz::text_of(data, size);
  std::optional<Settings> settings;
  try {
    settings = Settings::from_documents({text});
  } catch (const SettingsError&) {
    return 0;
  }
  const std::string json = settings->to_json();
  // Passwords are not shown: a user name without its password does not load again.
  const auto& p = settings->patroni;
  if (p && (p->etcd.username || p->restapi.username)) return 0;
  try {
    fuzz::check(Settings::from_documents({json}).to_json() == json, "settings -> to_json -> settings changes them", json);
  } catch (const Error& e) {
    fuzz::fail("the settings' own JSON does not load", std::string(e.what()) + "\n" + json);
  }
  return 0;
}
