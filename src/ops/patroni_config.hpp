// The pure parts of PatroniConfig (pglift/patroni_config.hpp), for the unit tests: a file's document as
// a value (secrets redacted), the document save writes, and the reading of Patroni's validator output.
#pragma once
#include <string>
#include <vector>

#include "core/value.hpp"
#include "pglift/patroni_config.hpp"

namespace pglift::ops {

/// Every secret of a Patroni document (a member's YAML, a cluster's dynamic configuration) replaced by
/// `redacted`: keys naming a password at any depth, but under a "parameters" object, whose keys are
/// PostgreSQL settings (password_encryption).
void redact_patroni_secrets(core::Value& document);
/// The member file's document as a PatroniConfig: every secret replaced by `redacted`.
PatroniConfig patroni_config_of(core::Value file_document);
/// What save writes for `config` over `file_document` (the file's current one): InvalidSpec naming
/// "scope" / "name" when they differ; the file's secrets in place of redacted or absent ones.
core::Value patroni_document_for(const PatroniConfig& config, const core::Value& file_document);
/// `patroni --validate-config`'s output as issues (none when status is 0); `secrets` never appear.
std::vector<PatroniConfigIssue> parse_validation_output(const std::string& output, int status,
                                                        const std::vector<std::string>& secrets);

}  // namespace pglift::ops
