// postgresql.conf: parsing, rendering, and the computation of the managed parameters (E.3).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "pglift/instance.hpp"
#include "pglift/settings.hpp"
#include "postgres/layout.hpp"

namespace pglift::postgres {

/// Active `name = value` entries (later ones win); include directives are skipped. Names are lowercased.
ConfParameters parse_conf(std::string_view text);
/// "on" -> true, "5432" -> 5432, "'6 GB'" -> "6 GB".
ConfValue parse_conf_value(std::string_view raw);
std::string render_conf_value(const ConfValue& value);
/// The managed postgresql.conf: includes postgresql.base.conf (initdb's file), then our parameters.
std::string render_managed_conf(const Layout& layout, const ConfParameters& parameters);

/// A site template (most specific first: <dir>/<kind>/<version>/<file>, <dir>/<kind>/<file>), or nullopt.
std::optional<std::string> site_template(const Settings& settings, const std::string& version, const std::string& relpath);

struct ConfigInputs {
  std::string locale;
  int port;
  ConfParameters manifest;  ///< InstanceSpec::settings
};
/// Template <- lc_* from the locale <- port <- manifest settings; then N% memory sizes and {placeholders}.
ConfParameters compute_config(const Settings& settings, const Layout& layout, const ConfigInputs& inputs);

}  // namespace pglift::postgres
