// Templates ("{version}", "{name}") and small string helpers.
#pragma once
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace pglift::core {

/// Replaces every {key} by vars[key]; "{{" and "}}" stand for braces. Throws std::out_of_range naming an
/// unknown key.
std::string render(std::string_view tmpl, const std::map<std::string, std::string>& vars);
/// The variables a template uses.
std::set<std::string> template_variables(std::string_view tmpl);

std::vector<std::string> split(std::string_view s, char sep);
std::string trim(std::string_view s);
/// An ASCII letter or digit, whatever the locale (names are checked against this, never isalnum).
inline bool is_ascii_alnum(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
std::string join(const std::vector<std::string>& parts, std::string_view sep);
/// Single-quoted for postgresql.conf: ' and \ doubled; newline, CR, tab, backspace and form feed as \n, \r,
/// \t, \b and \f (a raw newline would end the entry); what postgres::parse_conf_value reads back.
std::string quote_conf(std::string_view s);
/// The length of the valid UTF-8 sequence at text[i] (1 for ASCII), 0 when invalid: overlong forms,
/// surrogates and code points over U+10FFFF are invalid (RFC 3629).
std::size_t utf8_length(std::string_view text, std::size_t i);
bool valid_utf8(std::string_view text);

}  // namespace pglift::core
