// The only TU that includes RapidJSON.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/text.hpp"
#include "core/value.hpp"

namespace pglift::core {
namespace {

Value from_rapidjson(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return nullptr;
    case rapidjson::kFalseType: return false;
    case rapidjson::kTrueType: return true;
    case rapidjson::kNumberType:
      if (v.IsInt64()) return v.GetInt64();
      return v.GetDouble();
    case rapidjson::kStringType: return std::string(v.GetString(), v.GetStringLength());
    case rapidjson::kArrayType: {
      Array a;
      a.reserve(v.Size());
      for (const auto& item : v.GetArray()) a.push_back(from_rapidjson(item));
      return a;
    }
    case rapidjson::kObjectType: {
      Object o;
      for (const auto& m : v.GetObject())
        o.emplace_back(std::string(m.name.GetString(), m.name.GetStringLength()), from_rapidjson(m.value));
      return o;
    }
  }
  return nullptr;
}

template <class Writer>
void write(Writer& w, const Value& value) {
  std::visit(
      [&w](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) w.Null();
        else if constexpr (std::is_same_v<T, bool>) w.Bool(x);
        else if constexpr (std::is_same_v<T, std::int64_t>) w.Int64(x);
        else if constexpr (std::is_same_v<T, double>) w.Double(x);
        else if constexpr (std::is_same_v<T, std::string>) w.String(x.data(), static_cast<rapidjson::SizeType>(x.size()));
        else if constexpr (std::is_same_v<T, Array>) {
          w.StartArray();
          for (const auto& item : x) write(w, item);
          w.EndArray();
        } else {
          w.StartObject();
          for (const auto& [k, v] : x) {
            w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
            write(w, v);
          }
          w.EndObject();
        }
      },
      value.variant());
}

/// "offset 37 (line 2, column 5)": lines and columns from 1, columns in bytes.
std::string position(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  auto before = text.substr(0, offset);
  auto line = 1 + std::count(before.begin(), before.end(), '\n');
  auto last_newline = before.rfind('\n');
  auto column = offset - (last_newline == std::string_view::npos ? 0 : last_newline + 1) + 1;
  return "offset " + std::to_string(offset) + " (line " + std::to_string(line) + ", column " + std::to_string(column) + ")";
}

/// Where a scan stands in the document: the path of field names and array indexes, as InvalidSpec
/// names fields ("patroni.etcd.hosts[1]").
class PathTracker {
 public:
  void open(bool object) { frames_.push_back({object, {}, 0, object}); }
  void close() {
    if (!frames_.empty()) frames_.pop_back();
  }
  void comma() {
    if (frames_.empty()) return;
    if (frames_.back().object) frames_.back().key_next = true;
    else ++frames_.back().index;
  }
  void colon() {
    if (!frames_.empty()) frames_.back().key_next = false;
  }
  bool key_next() const { return !frames_.empty() && frames_.back().object && frames_.back().key_next; }
  void key(std::string name) {
    if (!frames_.empty()) frames_.back().key = std::move(name);
  }
  /// The path of the value being scanned; in a key, the path of the object holding it.
  std::string path(bool in_key) const {
    std::string out;
    for (std::size_t i = 0; i < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      if (in_key && i + 1 == frames_.size()) break;
      if (f.object) out += (out.empty() ? "" : ".") + f.key;
      else out += "[" + std::to_string(f.index) + "]";
    }
    return out;
  }

 private:
  struct Frame {
    bool object;
    std::string key;
    std::size_t index;
    bool key_next;
  };
  std::vector<Frame> frames_;
};

/// Limits that hold before RapidJSON (recursive) sees the text: a deeply nested document would overflow
/// the caller's stack, a NUL byte would end the parse early and leave the rest unread, and invalid UTF-8
/// must be refused naming the field, never shown. The scan follows the structure only as far as the
/// limits need; RapidJSON then checks the syntax.
void check_limits(std::string_view text) {
  if (text.size() > max_json_bytes)
    throw ParseError("a JSON document of " + std::to_string(text.size()) + " bytes is over the limit of " +
                     std::to_string(max_json_bytes) + " bytes");
  PathTracker where;
  bool in_string = false, in_key = false, escaped = false;
  std::size_t depth = 0, string_start = 0;
  auto fail = [&](std::size_t at, const std::string& reason) {
    const std::string field = where.path(in_key);
    const std::string place = field.empty() ? std::string() : in_key ? ", in a key of '" + field + "'" : ", in field '" + field + "'";
    throw ParseError("invalid JSON at " + position(text, at) + place + ": " + reason, in_key ? std::string() : field);
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\0') fail(i, "a NUL byte (JSON text cannot hold one)");
    if (static_cast<unsigned char>(c) >= 0x80) {
      const std::size_t n = utf8_length(text, i);
      if (n == 0) fail(i, "invalid UTF-8 (the bytes are not shown)");
      i += n - 1;
      escaped = false;
      continue;
    }
    if (in_string) {
      if (escaped) {
        escaped = false;
        if (c == 'u' && text.substr(i + 1, 4) == "0000") fail(i - 1, "a NUL character (\\u0000)");
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
        if (in_key) where.key(std::string(text.substr(string_start, i - string_start)));
        in_key = false;
      }
    } else if (c == '"') {
      in_string = true;
      in_key = where.key_next();
      string_start = i + 1;
    } else if (c == '[' || c == '{') {
      if (++depth > max_json_depth)
        fail(i, "nested deeper than the limit of " + std::to_string(max_json_depth) + " levels");
      where.open(c == '{');
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
      where.close();
    } else if (c == ',') {
      where.comma();
    } else if (c == ':') {
      where.colon();
    }
  }
}

}  // namespace

// The message never quotes the text: a document may hold secrets (passwords in a manifest or settings).
Value parse_json(std::string_view text) {
  check_limits(text);
  rapidjson::Document doc;
  // UTF-8 is validated: nothing invalid gets into names, paths or the JSON we return.
  doc.Parse<rapidjson::kParseFullPrecisionFlag | rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (doc.HasParseError())
    throw ParseError("invalid JSON at " + position(text, doc.GetErrorOffset()) + ": " +
                     rapidjson::GetParseError_En(doc.GetParseError()));
  return from_rapidjson(doc);
}

std::string to_json(const Value& value, bool pretty) {
  rapidjson::StringBuffer buf;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    write(w, value);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    write(w, value);
  }
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace pglift::core
