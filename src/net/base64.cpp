#include "net/base64.hpp"

#include <array>
#include <cstdint>

namespace pglift::net {
namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_decoding_table() {
  std::array<std::int8_t, 256> table{};
  table.fill(-1);
  for (std::size_t i = 0; i < alphabet.size(); ++i)
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  return table;
}
constexpr auto decoding_table = make_decoding_table();

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16 | static_cast<unsigned char>(bytes[i + 1]) << 8 |
                      static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += alphabet[n >> 6 & 63];
    out += alphabet[n & 63];
  }
  if (std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += rest == 2 ? alphabet[n >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t acc = 0;
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    std::int8_t sextet = decoding_table[static_cast<unsigned char>(text[i])];
    if (sextet < 0) return std::nullopt;
    acc = acc << 6 | static_cast<std::uint32_t>(sextet);
    if (i % 4 == 3) {
      out += static_cast<char>(acc >> 16 & 0xff);
      out += static_cast<char>(acc >> 8 & 0xff);
      out += static_cast<char>(acc & 0xff);
      acc = 0;
    }
  }
  if (padding == 1) {  // 3 sextets left: 2 bytes
    out += static_cast<char>(acc >> 10 & 0xff);
    out += static_cast<char>(acc >> 2 & 0xff);
  } else if (padding == 2) {  // 2 sextets left: 1 byte
    out += static_cast<char>(acc >> 4 & 0xff);
  }
  return out;
}

}  // namespace pglift::net
