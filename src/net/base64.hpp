// Base64 (RFC 4648, with padding): HTTP basic auth and etcd's JSON gateway, which carries keys and values
// as base64 strings.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace pglift::net {

std::string base64_encode(std::string_view bytes);
/// std::nullopt when `text` is not valid padded base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace pglift::net
