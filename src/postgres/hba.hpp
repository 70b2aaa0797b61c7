// pg_hba lines: comparing them token by token, adding and removing records (pure; no I/O).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "pglift/hba.hpp"

namespace pglift::postgres {

/// The fields of a pg_hba line (blanks separate them; a '#' outside quotes starts a comment).
std::vector<std::string> hba_tokens(std::string_view line);

struct HbaEdit {
  std::vector<std::string> lines;            ///< the whole content, line by line
  std::vector<std::string> added, removed;   ///< lines
};
/// `lines` with the records not already present appended.
HbaEdit add_hba(const std::vector<std::string>& lines, const std::vector<HbaRecord>& records);
/// `lines` without those equal to a record; NotFound names a record found nowhere.
HbaEdit remove_hba(const std::vector<std::string>& lines, const std::vector<HbaRecord>& records);

}  // namespace pglift::postgres
