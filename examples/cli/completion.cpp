#include "completion.hpp"

#include <algorithm>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <pglift/context.hpp>
#include <pglift/operations.hpp>

#include "targets.hpp"

namespace cli {
namespace {

constexpr std::string_view complete_words = "--complete-words";

// Each script asks the command the user typed (a path works too) for the candidates of the current word.
// When it offers none (a file argument, say), the shell completes file names.
constexpr const char* bash_script = R"(# bash completion for pglift: source <(pglift --completion=bash)
_pglift_completion() {
    local program=${COMP_WORDS[0]/#\~/$HOME}
    mapfile -t COMPREPLY < <("$program" --complete-words=bash -- "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
}
complete -o default -F _pglift_completion pglift
)";

constexpr const char* zsh_script = R"(#compdef pglift
# zsh completion for pglift: source <(pglift --completion=zsh) after compinit, or save it as _pglift in $fpath
_pglift_completion() {
    local -a lines described
    local line value description
    lines=("${(@f)$(${(Q)words[1]} --complete-words=zsh -- "${(@Q)words[2,CURRENT]}" 2>/dev/null)}")
    for line in "${lines[@]}"; do
        [[ -n $line ]] || continue
        value=${line%%$'\t'*}
        description=
        [[ $line == *$'\t'* ]] && description=${line#*$'\t'}
        described+=("${value//:/\\:}${description:+:$description}")
    done
    if (( ${#described} )); then
        _describe pglift described
    else
        _files
    fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _pglift_completion "$@"
else
    compdef _pglift_completion pglift
fi
)";

constexpr const char* fish_script = R"(# fish completion for pglift: pglift --completion=fish | source
# (or save it as ~/.config/fish/completions/pglift.fish)
function __pglift_complete
    set -l words (commandline -opc)
    set -l program $words[1]
    set -e words[1]
    set -l current (commandline -ct)
    set -l candidates ($program --complete-words=fish -- $words "$current" 2>/dev/null)
    if set -q candidates[1]
        printf '%s\n' $candidates
    else
        __fish_complete_path "$current"
    end
end
complete -c pglift -f -a '(__pglift_complete)'
)";

const std::map<std::string, const char*> scripts = {{"bash", bash_script}, {"fish", fish_script}, {"zsh", zsh_script}};

enum class Shell { bash, zsh, fish };

struct Candidate {
  std::string value;
  std::string description;
};

bool looks_like_option(std::string_view word) { return word.size() > 1 && word.front() == '-'; }
bool takes_value(const CLI::Option& option) { return option.get_items_expected_max() > 0; }
bool needs_value(const CLI::Option& option) { return option.get_items_expected_min() > 0; }

/// "--name" of "--name=VALUE", "-x" of "-xVALUE": the option's own name in a word.
std::string option_name(std::string_view word) {
  if (word.starts_with("--")) return std::string(word.substr(0, word.find('=')));
  return std::string(word.substr(0, 2));
}

/// The value glued to the option's name ("--name=VALUE", "-xVALUE"), as opposed to the next word.
bool has_glued_value(std::string_view word) {
  return word.starts_with("--") ? word.find('=') != std::string_view::npos : word.size() > 2;
}

const CLI::App* named_subcommand(const CLI::App& command, const std::string& word) {
  for (const CLI::App* sub : command.get_subcommands([](const CLI::App*) { return true; }))
    if (!sub->get_name().empty() && sub->check_name(word)) return sub;
  return nullptr;
}

/// The positional argument that a positional word fills after `given` others, as CLI11 fills them: in
/// order, each up to its count (INSTANCE... takes all the rest).
const CLI::Option* positional_after(const CLI::App& command, int given) {
  auto is_positional = [](const CLI::Option* o) { return o->get_positional() && !o->nonpositional(); };
  for (const CLI::Option* option : command.get_options(is_positional)) {
    if (given < option->get_items_expected_max()) return option;
    given -= option->get_items_expected_max();
  }
  return nullptr;
}

/// What the words before the current one make of it.
struct Position {
  const CLI::App* command;                  ///< the deepest subcommand named
  const CLI::Option* value_of = nullptr;    ///< the option whose (required) value the current word is
  const CLI::Option* positional = nullptr;  ///< the positional argument the current word would fill
  bool after_separator = false;             ///< after "--": arguments only
};

Position locate(const CLI::App& root, const std::vector<std::string>& before) {
  Position at{&root};
  int positional_words = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    const std::string& word = before[i];
    if (at.after_separator || !looks_like_option(word)) {
      const CLI::App* sub = at.after_separator ? nullptr : named_subcommand(*at.command, word);
      if (sub) {
        at.command = sub;
        positional_words = 0;
      } else {
        ++positional_words;
      }
    } else if (word == "--") {
      at.after_separator = true;
    } else if (const CLI::Option* option = at.command->get_option_no_throw(option_name(word));
               option && takes_value(*option) && !has_glued_value(word)) {
      if (needs_value(*option)) {
        if (i + 1 == before.size()) at.value_of = option;
        ++i;
      } else if (i + 1 < before.size() && !looks_like_option(before[i + 1])) {
        ++i;  // an optional value (--surole-password [VALUE]) is the next word unless that is an option
      }
    }
  }
  if (!at.value_of) at.positional = positional_after(*at.command, positional_words);
  return at;
}

/// The first sentence of a help text, on one line.
std::string summary(std::string_view help) {
  std::string text(help.substr(0, help.find(". ")));
  for (char& c : text)
    if (c == '\t' || c == '\n') c = ' ';
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

/// The fixed set of values of an option, if it has one: CLI11 shows an IsMember check as "TYPE:{a,b,c}",
/// the text --help prints.
std::vector<Candidate> choices(const CLI::Option& option) {
  std::vector<Candidate> out;
  const std::string type = option.get_type_name();
  for (auto open = type.find(":{"); open != std::string::npos; open = type.find(":{", open + 1)) {
    auto close = type.find('}', open);
    if (close == std::string::npos) break;
    std::string_view list(type.data() + open + 2, close - open - 2);
    while (!list.empty()) {
      auto comma = list.find(',');
      out.push_back({std::string(list.substr(0, comma)), ""});
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
  }
  return out;
}

/// Instances as `instance list` names them: `name`, or `version/name` when the name exists in several
/// versions (or the user started with a version), with their port. None without usable site settings.
std::vector<Candidate> instances(bool qualified) {
  std::vector<Candidate> out;
  try {
    pglift::Context ctx;  // no sink: nothing is printed
    auto items = pglift::list_instances(ctx);
    std::map<std::string, int> versions;
    for (const auto& item : items) ++versions[item.name];
    for (const auto& item : items) {
      bool with_version = qualified || versions[item.name] > 1;
      out.push_back({with_version ? item.version + "/" + item.name : item.name, "port=" + std::to_string(item.port)});
    }
  } catch (...) {  // as root, no settings, an unreadable prefix: no candidates
    out.clear();
  }
  return out;
}

// The CLI's INSTANCE arguments and -i/--instance options: all of them carry targets.hpp's help text.
bool names_an_instance(const CLI::Option& option) { return option.get_description() == instance_help; }

/// The values of `option` that may follow `prefix` (the text before the value in the current word).
std::vector<Candidate> values(const CLI::Option& option, std::string_view typed, const std::string& prefix) {
  auto found = names_an_instance(option) ? instances(typed.find('/') != std::string_view::npos) : choices(option);
  for (auto& candidate : found) candidate.value = prefix + candidate.value;
  return found;
}

std::vector<Candidate> options_of(const CLI::App& command) {
  std::vector<Candidate> out;
  for (const CLI::Option* option : command.get_options()) {
    if (option->get_group().empty() || !option->nonpositional()) continue;  // hidden, or an argument
    std::string help = summary(option->get_description());
    for (const auto& name : option->get_snames()) out.push_back({"-" + name, help});
    for (const auto& name : option->get_lnames()) out.push_back({"--" + name, help});
  }
  return out;
}

std::vector<Candidate> subcommands_of(const CLI::App& command) {
  std::vector<Candidate> out;
  for (const CLI::App* sub : command.get_subcommands([](const CLI::App*) { return true; }))
    if (!sub->get_name().empty() && !sub->get_group().empty())  // hidden ones have no group
      out.push_back({sub->get_name(), summary(sub->get_description())});
  return out;
}

/// Every candidate for `word`, the current one, before filtering by what it starts with.
std::vector<Candidate> candidates(const Position& at, const std::string& word) {
  if (at.value_of) return values(*at.value_of, word, "");
  if (!at.after_separator && word.starts_with('-')) {
    if (!has_glued_value(word)) return options_of(*at.command);
    const CLI::Option* option = at.command->get_option_no_throw(option_name(word));
    if (!option || !takes_value(*option)) return {};
    std::string prefix = word.starts_with("--") ? option_name(word) + "=" : option_name(word);
    return values(*option, std::string_view(word).substr(prefix.size()), prefix);
  }
  std::vector<Candidate> out;
  if (!at.after_separator) out = subcommands_of(*at.command);
  if (at.positional)
    for (auto& candidate : values(*at.positional, word, "")) out.push_back(std::move(candidate));
  return out;
}

/// Bash splits "--name=VALUE" at '=' (it is in COMP_WORDBREAKS): "--name", "=", "VALUE". Joined back; true
/// when the current word was, since bash then completes only the part after the '='.
bool join_bash_equals(std::vector<std::string>& words) {
  std::vector<std::string> joined;
  bool last_joined = false;
  for (std::size_t i = 0; i < words.size(); ++i) {
    last_joined = words[i] == "=" && !joined.empty() && joined.back().starts_with("--") &&
                  joined.back().find('=') == std::string::npos;
    if (last_joined) {
      joined.back() += "=";
      if (i + 1 < words.size()) joined.back() += words[++i];
    } else {
      joined.push_back(words[i]);
    }
  }
  words = std::move(joined);
  return last_joined;
}

Shell shell_named(std::string_view argument) {
  if (argument == "--complete-words=zsh") return Shell::zsh;
  if (argument == "--complete-words=fish") return Shell::fish;
  return Shell::bash;
}

}  // namespace

void add_completion_option(CLI::App& root) {
  root.add_option_function<std::string>(
          "--completion",
          [](const std::string& shell) {
            std::cout << scripts.at(shell) << std::flush;
            throw CLI::Success();  // eager, like --version: nothing else runs, no settings are loaded
          },
          "Output completion for specified shell and exit.")
      ->trigger_on_parse()
      ->check(CLI::IsMember({"bash", "fish", "zsh"}));
}

bool is_completion_request(int argc, char** argv) {
  return argc > 1 && std::string_view(argv[1]).substr(0, complete_words.size()) == complete_words;
}

int print_completions(const CLI::App& root, int argc, char** argv) {
  try {
    Shell shell = shell_named(argv[1]);
    int first = argc > 2 && std::string_view(argv[2]) == "--" ? 3 : 2;
    std::vector<std::string> words(argv + first, argv + argc);
    // The words may hold a password typed on the command line being completed: out of /proc/PID/cmdline.
    for (int i = first; i < argc; ++i) std::memset(argv[i], 'x', std::strlen(argv[i]));
    if (words.empty()) words.emplace_back();
    bool split_at_equals = shell == Shell::bash && join_bash_equals(words);
    const std::string word = words.back();
    words.pop_back();
    std::size_t hidden = split_at_equals ? word.find('=') + 1 : 0;  // bash replaces only what follows '='
    std::string out;
    for (const auto& candidate : candidates(locate(root, words), word)) {
      if (!candidate.value.starts_with(word)) continue;
      out += candidate.value.substr(hidden);
      if (shell != Shell::bash && !candidate.description.empty()) out += '\t' + candidate.description;
      out += '\n';
    }
    std::cout << out << std::flush;
  } catch (...) {  // completion never fails loudly
  }
  return 0;
}

}  // namespace cli
