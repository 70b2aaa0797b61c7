// The JSON documents of the public C++ API (the instance manifest first): each is parsed, or refused
// with a pglift::Error (InvalidSpec naming the field), never anything else; what parses validates or is
// refused the same way, and shows itself as JSON that parses to the same value.
#include <functional>

#include "fuzz.hpp"
#include "pglift/apply.hpp"
#include "pglift/database_spec.hpp"
#include "pglift/databases.hpp"
#include "pglift/errors.hpp"
#include "pglift/hba.hpp"
#include "pglift/instance.hpp"
#include "pglift/operations.hpp"
#include "pglift/patroni.hpp"
#include "pglift/patroni_config.hpp"
#include "pglift/roles.hpp"

using namespace pglift;

namespace {

/// Runs `f`; a pglift::Error is an answer (false), anything else escapes: a failure.
bool answers(const std::function<void()>& f) {
  try {
    f();
    return true;
  } catch (const Error&) {
    return false;
  }
}

/// to_json(from_json(to_json(x))) == to_json(x)
template <class T>
void round_trip(const char* what, const std::string& json) {
  try {
    const std::string again = T::from_json(json).to_json();
    fuzz::check(again == json, what, json + "\n-> " + again);
  } catch (const Error& e) {
    fuzz::fail(what, std::string("its own JSON is refused: ") + e.what() + "\n" + json);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = fuzz::text_of(data, size);
  answers([&] {
    auto spec = InstanceSpec::from_json(text);
    answers([&] { spec.validate(); });
    round_trip<InstanceSpec>("instance spec: to_json -> from_json -> to_json", spec.to_json());
  });
  answers([&] { round_trip<Instance>("instance: to_json -> from_json -> to_json", Instance::from_json(text).to_json()); });
  answers([&] { InstanceRef::parse(text).str(); });
  answers([&] { InstanceManifest::from_json(text); });
  answers([&] { InstanceManifest::from_yaml(text); });
  answers([&] { InstanceChanges::from_json(text); });
  answers([&] { parameter_changes_from_json(text); });
  answers([&] {
    auto spec = role_spec_from_json(text);
    spec.validate();
  });
  answers([&] { role_changes_from_json(text).validate(); });
  answers([&] { role_drop_options_from_json(text).validate(); });
  answers([&] { DatabaseSpec::from_json(text).validate(); });
  answers([&] { DatabaseSelection::from_json(text); });
  answers([&] { PrivilegesQuery::from_json(text); });
  answers([&] {
    for (const auto& record : HbaRecord::list_from_json(text))
      if (answers([&] { record.validate(); })) {
        record.line();
        record.to_json();
      }
  });
  answers([&] { PatroniCredentials::from_json(text).to_json(); });
  answers([&] {
    auto config = PatroniConfig::from_json(text);
    config.to_yaml();
    round_trip<PatroniConfig>("patroni config: to_json -> from_json -> to_json", config.to_json());
  });
  return 0;
}
