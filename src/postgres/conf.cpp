#include "postgres/conf.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/files.hpp"
#include "core/system.hpp"
#include "core/text.hpp"
#include "pglift/errors.hpp"

namespace pglift::postgres {

namespace {

constexpr std::string_view default_template = R"(# libpglift's postgresql.conf template; a site template overrides it.
cluster_name = '{name}'
shared_buffers = 25%
effective_cache_size = 66%
unix_socket_directories = '{settings.socket_directory}'
log_directory = '{settings.logpath}'
log_filename = '{version}-{name}-%Y-%m-%d_%H%M%S.log'
log_destination = 'stderr'
logging_collector = on
)";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

/// Splits one line into name and raw value; false for blanks, comments and malformed lines.
bool split_entry(std::string_view line, std::string& name, std::string& raw) {
  std::size_t i = 0;
  auto skip_ws = [&] {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
  };
  skip_ws();
  std::size_t start = i;
  while (i < line.size() && (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '_' || line[i] == '.')) ++i;
  if (i == start) return false;
  name = lower(std::string(line.substr(start, i - start)));
  skip_ws();
  if (i < line.size() && line[i] == '=') ++i;
  skip_ws();
  // The value runs to an unquoted '#'.
  std::size_t vstart = i;
  bool in_quote = false;
  for (; i < line.size(); ++i) {
    char c = line[i];
    if (in_quote && c == '\\' && i + 1 < line.size()) {
      ++i;
    } else if (c == '\'') {
      if (in_quote && i + 1 < line.size() && line[i + 1] == '\'') ++i;
      else in_quote = !in_quote;
    } else if (c == '#' && !in_quote) {
      break;
    }
  }
  raw = core::trim(line.substr(vstart, i - vstart));
  return true;
}

}  // namespace

namespace {
/// Booleans and integers, whether quoted or not (Patroni quotes every value it writes).
std::optional<ConfValue> typed(std::string_view text) {
  std::string v = lower(std::string(text));
  if (v == "on" || v == "true" || v == "yes") return true;
  if (v == "off" || v == "false" || v == "no") return false;
  std::int64_t i = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
  if (!text.empty() && ec == std::errc() && p == text.data() + text.size()) return i;
  return std::nullopt;
}
}  // namespace

ConfValue parse_conf_value(std::string_view raw) {
  if (raw.size() >= 2 && raw.front() == '\'' && raw.back() == '\'') {
    std::string out;
    for (std::size_t i = 1; i + 1 < raw.size(); ++i) {
      char c = raw[i];
      if (c == '\'' && raw[i + 1] == '\'') {
        out += '\'';
        ++i;
      } else if (c == '\\' && i + 2 < raw.size()) {
        char n = raw[++i];
        out += n == 'n' ? '\n' : n == 't' ? '\t' : n == 'r' ? '\r' : n == 'b' ? '\b' : n == 'f' ? '\f' : n;
      } else {
        out += c;
      }
    }
    if (auto t = typed(out)) return *t;
    return out;
  }
  std::string v = lower(std::string(raw));
  if (v == "on" || v == "true" || v == "yes") return true;
  if (v == "off" || v == "false" || v == "no") return false;
  std::int64_t i = 0;
  auto [p, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), i);
  if (ec == std::errc() && p == raw.data() + raw.size()) return i;
  double d = 0;
  auto [pd, ecd] = std::from_chars(raw.data(), raw.data() + raw.size(), d);
  if (ecd == std::errc() && pd == raw.data() + raw.size()) return d;
  return std::string(raw);
}

ConfParameters parse_conf(std::string_view text) {
  ConfParameters out;
  for (const auto& line : core::split(text, '\n')) {
    std::string name, raw;
    if (!split_entry(line, name, raw)) continue;
    if (name == "include" || name == "include_if_exists" || name == "include_dir") continue;
    out[name] = parse_conf_value(raw);
  }
  return out;
}

std::string render_conf_value(const ConfValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) return v ? "on" : "off";
        else if constexpr (std::is_same_v<T, std::int64_t>) return std::to_string(v);
        else if constexpr (std::is_same_v<T, double>) {
          char buf[64];
          // -0 would read back as the integer 0: the same value for PostgreSQL, written as such.
          auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v == 0 ? 0.0 : v);
          return std::string(buf, p);
        } else return core::quote_conf(v);
      },
      value);
}

std::string render_managed_conf(const Layout& layout, const ConfParameters& parameters) {
  std::string out = "# postgresql.conf of instance " + layout.display() +
                    ", written by libpglift.\n"
                    "# initdb's defaults are in postgresql.base.conf; the parameters below override them.\n"
                    "include_if_exists = 'postgresql.base.conf'\n\n";
  for (const auto& [name, value] : parameters) out += name + " = " + render_conf_value(value) + "\n";
  return out;
}

std::optional<std::string> site_template(const Settings& settings, const std::string& version, const std::string& relpath) {
  fs::path rel = relpath;
  for (const auto& dir : settings.config_dirs) {
    if (dir.empty()) continue;
    for (const fs::path& candidate : {dir / rel.parent_path() / version / rel.filename(), dir / rel})
      if (auto content = core::read_file_if_exists(candidate)) return content;
  }
  return std::nullopt;
}

ConfParameters compute_config(const Settings& settings, const Layout& layout, const ConfigInputs& inputs) {
  auto tmpl = site_template(settings, layout.version, "postgresql/postgresql.conf");
  ConfParameters conf = parse_conf(tmpl ? *tmpl : std::string(default_template));
  for (const char* lc : {"lc_messages", "lc_monetary", "lc_numeric", "lc_time"})
    if (!conf.count(lc)) conf[lc] = inputs.locale;
  conf["port"] = std::int64_t{inputs.port};
  for (const auto& [k, v] : inputs.manifest) conf[lower(k)] = v;

  const std::map<std::string, std::string> vars{
      {"name", layout.name},
      {"version", layout.version},
      {"settings.socket_directory", settings.postgresql.socket_directory.string()},
      {"settings.logpath", settings.postgresql.logpath.string()},
  };
  std::optional<std::uint64_t> mem;
  for (auto& [name, value] : conf) {
    auto* s = std::get_if<std::string>(&value);
    if (!s) continue;
    if ((name == "shared_buffers" || name == "effective_cache_size") && s->size() > 1 && s->back() == '%') {
      double pct = 0;
      auto [p, ec] = std::from_chars(s->data(), s->data() + s->size() - 1, pct);
      if (ec != std::errc() || p != s->data() + s->size() - 1 || pct <= 0 || pct > 100)
        throw InvalidSpec("settings." + name, *s, "expecting a percentage of the memory, such as 25%");
      if (!mem) mem = core::mem_total_bytes();
      auto bytes = static_cast<std::uint64_t>(static_cast<double>(*mem) * pct / 100.0);
      *s = core::pg_memory_size(bytes);
      continue;
    }
    try {
      *s = core::render(*s, vars);
    } catch (const std::exception& e) {
      throw InvalidSpec("settings." + name, *s, e.what());
    }
  }
  return conf;
}

}  // namespace pglift::postgres
