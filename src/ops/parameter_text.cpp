// The managed parameters as postgresql.conf text and back (`pgconf edit`).
#include "core/text.hpp"
#include "pglift/errors.hpp"
#include "pglift/operations.hpp"
#include "postgres/conf.hpp"

namespace pglift {

namespace {
/// The same setting for PostgreSQL: '128' and 128, 'on' and on.
bool same(const ConfValue& a, const ConfValue& b) {
  auto bare = [](const ConfValue& v) {
    if (const auto* s = std::get_if<std::string>(&v)) return *s;
    return postgres::render_conf_value(v);
  };
  return a == b || bare(a) == bare(b);
}
}  // namespace

std::string parameters_text(const ConfParameters& parameters) {
  std::string out;
  for (const auto& [name, value] : parameters) out += name + " = " + postgres::render_conf_value(value) + "\n";
  return out;
}

std::string instance_parameters_text(Context& ctx, const InstanceRef& ref) {
  return parameters_text(instance_parameters(ctx, ref));
}

ParameterChanges parameter_changes_from_text(const ConfParameters& current, std::string_view text) {
  ConfParameters edited;
  std::size_t number = 0;
  for (const auto& line : core::split(text, '\n')) {
    ++number;
    const std::string trimmed = core::trim(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    // One entry per line; anything else (an include directive, a line without a name) is refused
    // rather than silently dropped.
    auto entry = postgres::parse_conf(trimmed);
    if (entry.size() != 1) throw InvalidSpec("line " + std::to_string(number), trimmed, "expecting 'name = value'");
    edited[entry.begin()->first] = entry.begin()->second;
  }
  ParameterChanges changes;
  for (const auto& [name, value] : edited)
    if (auto it = current.find(name); it == current.end() || !same(it->second, value)) changes[name] = value;
  for (const auto& [name, _] : current)
    if (!edited.count(name)) changes[name] = std::nullopt;
  return changes;
}

}  // namespace pglift
