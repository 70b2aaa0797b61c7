// The .psqlrc of an instance: psql's prompt says which instance a session is on.
#pragma once
#include <string>
#include <string_view>

namespace pglift::core {

/// `text` for the inside of a single-quoted prompt in a psql meta-command. psql reads '' as a quote and
/// backslash escapes (\n, \x41, ...) inside quotes; '%' starts a prompt escape ("%`cmd`" runs a shell
/// command); a line break would end the meta-command. Instance names are validated already: this is
/// defence in depth.
inline std::string escape_psql_prompt(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\'') out += "''";
    else if (c == '\\') out += "\\\\";
    else if (c == '%') out += "%%";
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) out += '?';
    else out += c;
  }
  return out;
}

/// The .psqlrc: PROMPT1 "[15/main] postgres@db=# " (pglift's default prompt).
inline std::string psqlrc_text(std::string_view instance_display) {
  return "\\set PROMPT1 '[" + escape_psql_prompt(instance_display) + "] %n@%~%R%x%# '\n\\set PROMPT2 ' %R%x%# '\n";
}

}  // namespace pglift::core
