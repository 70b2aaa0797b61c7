// Shell completion, as pglift's: `pglift --completion=bash|zsh|fish` prints a script that asks the
// executable itself for candidates through the hidden `pglift --complete-words=SHELL -- WORD...`.
// Candidates come from the CLI11 command tree (subcommands, options, choices) and from the library's
// instance list; neither entry loads settings up front, so both work as root (no instances then).
#pragma once

namespace CLI {
class App;
}

namespace cli {

/// Adds `--completion SHELL` to the root command: prints the script for SHELL and exits 0 (eager, like
/// --version); an unknown SHELL is a usage error.
void add_completion_option(CLI::App& root);

/// True when argv is the hidden entry: `pglift --complete-words[=SHELL] -- WORD...`.
bool is_completion_request(int argc, char** argv);

/// The hidden entry: prints the candidates for the last WORD (the one being typed, maybe empty), one per
/// line, "value" for bash and "value<TAB>description" for zsh and fish. Never fails: any error (no
/// settings, as root, a bad word) gives fewer candidates or none. Returns the exit status, 0.
int print_completions(const CLI::App& root, int argc, char** argv);

}  // namespace cli
