// A unified diff of two small texts (configuration files), as `diff -u` shows it.
#pragma once
#include <string>
#include <string_view>

namespace pglift::core {

/// "--- a\n+++ b\n@@ -1,3 +1,4 @@\n ..." with 3 lines of context; "" when the texts are equal.
std::string unified_diff(std::string_view before, std::string_view after, const std::string& label_before,
                         const std::string& label_after);

}  // namespace pglift::core
