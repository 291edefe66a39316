#include "flywheel/config/config.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "flywheel/log/log.h"
#include "values.h"

extern char** environ;

namespace flywheel::config {
namespace {

using internal::Emit;
using internal::Quote;

// Debian's abseil has its own string_view; this bridges from std's.
absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::string MarkText(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return file;
  return absl::StrCat(file, ":", mark.line + 1, ":", mark.column + 1);
}

bool ValidKey(std::string_view key) {
  if (key.empty() || key.front() == '.' || key.back() == '.') return false;
  char prev = 0;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    if (!ok || (c == '.' && prev == '.')) return false;
    prev = c;
  }
  return true;
}

// True when a leaf at `path` in the file is read through declared key `key`:
// they are the same, or one is a segment-wise prefix of the other (a subtree
// read whole, or a read that went deeper and reported the mismatch itself).
bool Covers(const std::string& key, const std::string& path) {
  auto prefix = [](const std::string& a, const std::string& b) {
    return b.size() > a.size() && b.compare(0, a.size(), a) == 0 && b[a.size()] == '.';
  };
  return key == path || prefix(key, path) || prefix(path, key);
}

struct Leaf {
  std::string path;
  YAML::Mark mark;
};

// Leaves of nested mappings: every non-mapping value, and empty paths are
// skipped. A key that itself holds a dot can never be read, so it is a leaf
// under its literal name and will be reported as unknown.
void CollectLeaves(const YAML::Node& node, const std::string& prefix, std::vector<Leaf>& out) {
  for (const auto& kv : node) {
    std::string name = kv.first.IsScalar() ? kv.first.Scalar() : Emit(kv.first, true);
    std::string path = prefix.empty() ? name : absl::StrCat(prefix, ".", name);
    if (kv.second.IsMap() && name.find('.') == std::string::npos) {
      CollectLeaves(kv.second, path, out);
    } else {
      out.push_back({path, kv.first.Mark()});
    }
  }
}

// The first key that appears twice in one mapping, anywhere in the tree;
// yaml-cpp keeps one of them silently.
std::optional<Leaf> FindDuplicateKey(const YAML::Node& node, const std::string& prefix) {
  std::set<std::string> seen;
  for (const auto& kv : node) {
    std::string name = kv.first.IsScalar() ? kv.first.Scalar() : Emit(kv.first, true);
    std::string path = prefix.empty() ? name : absl::StrCat(prefix, ".", name);
    if (!seen.insert(name).second) return Leaf{path, kv.first.Mark()};
    if (kv.second.IsMap()) {
      if (std::optional<Leaf> dup = FindDuplicateKey(kv.second, path)) return dup;
    }
  }
  return std::nullopt;
}

// Where a value for a key was found.
struct Found {
  bool from_env = false;
  std::string env_value;  // when from_env
  YAML::Node node;        // otherwise
  std::string source;     // "FLYWHEEL_X" or "file:line:col"
  std::string shown;      // the raw value, quoted, for messages
};

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  for (absl::string_view piece : absl::StrSplit(text, ',')) {
    absl::string_view trimmed = absl::StripAsciiWhitespace(piece);
    if (!trimmed.empty()) out.emplace_back(trimmed);
  }
  return out;
}

// Parses one scalar text into T; false when it does not parse.
bool ParseText(const std::string& text, std::string& out) {
  out = text;
  return true;
}
bool ParseText(const std::string& text, int64_t& out) { return absl::SimpleAtoi(text, &out); }
bool ParseText(const std::string& text, double& out) {
  return absl::SimpleAtod(text, &out) && std::isfinite(out);
}
bool ParseText(const std::string& text, bool& out) {
  std::optional<bool> b = internal::ParseBool(text);
  if (b) out = *b;
  return b.has_value();
}
bool ParseText(const std::string& text, absl::Duration& out) {
  std::optional<absl::Duration> d = internal::ParseDuration(text);
  if (d) out = *d;
  return d.has_value();
}
bool ParseText(const std::string& text, log::Level& out) {
  std::string t(absl::StripAsciiWhitespace(text));
  absl::StatusOr<log::Level> level = log::ParseLevel(t);
  if (level.ok()) out = *level;
  return level.ok();
}
bool ParseText(const std::string& text, std::vector<std::string>& out) {
  out = SplitList(text);
  return true;
}

// Why a value of type T did not parse, phrased to follow the key.
template <typename T>
const char* TypeReason() {
  if constexpr (std::is_same_v<T, std::string>) return internal::kScalarReason;
  if constexpr (std::is_same_v<T, int64_t>) return internal::kIntReason;
  if constexpr (std::is_same_v<T, double>) return "must be a number";
  if constexpr (std::is_same_v<T, bool>) return internal::kBoolReason;
  if constexpr (std::is_same_v<T, absl::Duration>) return internal::kDurationReason;
  if constexpr (std::is_same_v<T, log::Level>) return "must be one of debug, info, warn, error";
  if constexpr (std::is_same_v<T, std::vector<std::string>>) return "must be a list of strings";
  return "has the wrong type";
}

// Parses a value from the file: a scalar for every type but lists, which
// must be a YAML sequence of scalars.
template <typename T>
bool ParseNode(const YAML::Node& node, T& out) {
  if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    if (!node.IsSequence()) return false;
    out.clear();
    for (const auto& item : node) {
      if (!item.IsScalar()) return false;
      out.push_back(item.Scalar());
    }
    return true;
  } else {
    return node.IsScalar() && ParseText(node.Scalar(), out);
  }
}

template <typename T>
bool IsEmptyValue(const T& v) {
  if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::vector<std::string>>) {
    return v.empty();
  } else {
    return false;
  }
}

}  // namespace

std::string EnvName(std::string_view key) {
  std::string name = absl::StrCat("FLYWHEEL_", absl::AsciiStrToUpper(AV(key)));
  for (char& c : name) {
    if (c == '.' || c == '-') c = '_';
  }
  return name;
}

Env ProcessEnvironment() {
  Env env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    absl::string_view entry(*e);
    if (!absl::StartsWith(entry, "FLYWHEEL_")) continue;
    size_t eq = entry.find('=');
    if (eq == absl::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

struct Config::Impl {
  std::string file;   // "" when there is none
  std::string shown;  // the file's name in messages
  YAML::Node root;
  Env env;
  std::vector<std::string> declared;
  std::vector<std::string> errors;

  void AddError(std::string line) {
    for (const auto& e : errors) {
      if (e == line) return;
    }
    errors.push_back(std::move(line));
  }

  std::string WhereToSet(const std::string& key) const {
    if (file.empty()) return absl::StrCat("(set ", EnvName(key), ")");
    return absl::StrCat("(file ", file, " or ", EnvName(key), ")");
  }

  // Finds `key`: the environment first, then the file. Returns nullopt when
  // not set (absent or YAML null). Records an error and returns nullopt when
  // the path runs through something that is not a mapping.
  std::optional<Found> Lookup(const std::string& key) {
    if (std::find(declared.begin(), declared.end(), key) == declared.end()) {
      declared.push_back(key);
    }
    std::string var = EnvName(key);
    if (auto it = env.find(var); it != env.end()) {
      Found f;
      f.from_env = true;
      f.env_value = it->second;
      f.source = var;
      f.shown = Quote(it->second);
      return f;
    }
    YAML::Node node = root;
    std::string walked;
    for (absl::string_view part : absl::StrSplit(key, '.')) {
      if (!node || node.IsNull()) return std::nullopt;
      if (!node.IsMap()) {
        AddError(absl::StrCat("config: ", key, ": ", walked, " must be a mapping, got ",
                              Quote(Emit(node, true)), " (from ", MarkText(shown, node.Mark()),
                              ")"));
        return std::nullopt;
      }
      // Look the child up by scalar key without inserting.
      // (YAML::Node's operator= writes through to the tree; reset() rebinds.)
      bool present = false;
      for (const auto& kv : node) {
        if (kv.first.IsScalar() && kv.first.Scalar() == part) {
          node.reset(kv.second);
          present = true;
          break;
        }
      }
      if (!present) return std::nullopt;
      walked = walked.empty() ? std::string(part) : absl::StrCat(walked, ".", part);
    }
    if (!node || node.IsNull()) return std::nullopt;
    Found f;
    f.node.reset(node);
    f.source = MarkText(shown, node.Mark());
    f.shown = Quote(Emit(node, true));
    return f;
  }
};

Config::Config(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Config::Config(Config&&) noexcept = default;
Config& Config::operator=(Config&&) noexcept = default;
Config::~Config() = default;

const std::string& Config::file() const { return impl_->file; }

absl::StatusOr<Config> Config::FromString(const std::string& yaml, const std::string& name,
                                          Env env) {
  auto impl = std::make_unique<Impl>();
  impl->file = name;
  impl->shown = name.empty() ? std::string("<inline>") : name;
  impl->env = std::move(env);
  const std::string& shown = impl->shown;
  try {
    impl->root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: ", MarkText(shown, e.mark), ": invalid YAML: ", e.msg));
  }
  if (impl->root.IsDefined() && !impl->root.IsNull() && !impl->root.IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: ", MarkText(shown, impl->root.Mark()),
                     ": the top level must be a mapping of keys to values"));
  }
  if (impl->root.IsMap()) {
    if (std::optional<Leaf> dup = FindDuplicateKey(impl->root, "")) {
      return absl::InvalidArgumentError(absl::StrCat("config: ", MarkText(shown, dup->mark),
                                                     ": invalid YAML: duplicate key ", dup->path));
    }
  }
  return Config(std::move(impl));
}

absl::StatusOr<Config> Config::Load(const std::string& path, Env env) {
  absl::StatusOr<std::string> text = internal::ReadWholeFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("config: ", path, ": ", text.status().message()));
  }
  return FromString(*text, path, std::move(env));
}

absl::StatusOr<Config> Config::Load(const std::string& path) {
  return Load(path, ProcessEnvironment());
}

template <typename T>
std::optional<T> Config::Read(std::string_view key_view, std::vector<Rule<T>> rules,
                              bool required) {
  std::string key(key_view);
  if (!ValidKey(key)) {
    impl_->AddError(absl::StrCat("config: ", Quote(key),
                                 ": invalid key name (use lowercase letters, digits, _ and .)"));
    return std::nullopt;
  }
  std::optional<Found> found = impl_->Lookup(key);
  if (!found) {
    if (required) {
      impl_->AddError(
          absl::StrCat("config: ", key, ": required but not set ", impl_->WhereToSet(key)));
    }
    return std::nullopt;
  }
  T value{};
  bool parsed =
      found->from_env ? ParseText(found->env_value, value) : ParseNode(found->node, value);
  std::string reason = parsed ? std::string() : std::string(TypeReason<T>());
  if (parsed && required && IsEmptyValue(value)) {
    impl_->AddError(
        absl::StrCat("config: ", key, ": required but empty (from ", found->source, ")"));
    return std::nullopt;
  }
  for (const Rule<T>& rule : rules) {
    if (!reason.empty()) break;
    if (rule) reason = rule(value);
  }
  if (!reason.empty()) {
    impl_->AddError(absl::StrCat("config: ", key, ": ", reason, ", got ", found->shown, " (from ",
                                 found->source, ")"));
    return std::nullopt;
  }
  return value;
}

template std::optional<std::string> Config::Read(std::string_view, std::vector<Rule<std::string>>,
                                                 bool);
template std::optional<int64_t> Config::Read(std::string_view, std::vector<Rule<int64_t>>, bool);
template std::optional<double> Config::Read(std::string_view, std::vector<Rule<double>>, bool);
template std::optional<bool> Config::Read(std::string_view, std::vector<Rule<bool>>, bool);
template std::optional<absl::Duration> Config::Read(std::string_view,
                                                    std::vector<Rule<absl::Duration>>, bool);
template std::optional<std::vector<std::string>> Config::Read(
    std::string_view, std::vector<Rule<std::vector<std::string>>>, bool);
template std::optional<log::Level> Config::Read(std::string_view, std::vector<Rule<log::Level>>,
                                                bool);

std::optional<std::string> Config::Raw(std::string_view key_view) {
  std::string key(key_view);
  if (!ValidKey(key)) {
    impl_->AddError(absl::StrCat("config: ", Quote(key),
                                 ": invalid key name (use lowercase letters, digits, _ and .)"));
    return std::nullopt;
  }
  std::optional<Found> found = impl_->Lookup(key);
  if (!found) return std::nullopt;
  if (found->from_env) return found->env_value;
  return Emit(found->node, /*flow=*/false);
}

std::vector<std::string> Config::Errors() const {
  std::vector<std::string> all = impl_->errors;
  if (impl_->root.IsMap()) {
    std::vector<Leaf> leaves;
    CollectLeaves(impl_->root, "", leaves);
    for (const Leaf& leaf : leaves) {
      bool known = false;
      for (const std::string& key : impl_->declared) {
        if (Covers(key, leaf.path)) {
          known = true;
          break;
        }
      }
      if (!known) {
        all.push_back(absl::StrCat("config: ", leaf.path, ": unknown key, nothing reads it (from ",
                                   MarkText(impl_->shown, leaf.mark), ")"));
      }
    }
  }
  return all;
}

absl::Status Config::Check() const {
  std::vector<std::string> all = Errors();
  if (all.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(all.front());
}

absl::Status Config::CheckRead() const {
  if (impl_->errors.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(impl_->errors.front());
}

void Config::CheckOrExit() const {
  absl::Status st = Check();
  if (!st.ok()) ExitOnConfigError(st);
}

void ExitOnConfigError(const absl::Status& error) {
  std::string line = error.ok() ? std::string("config: ExitOnConfigError called without an error")
                                : std::string(error.message());
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  line.push_back('\n');
  // One write so the line cannot interleave with another thread's output.
  std::fflush(stdout);
  std::fflush(stderr);
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  // _Exit, not exit: no static destructors racing threads that may already run.
  std::_Exit(2);
}

Config LoadOrExit(const std::string& path, Env env) {
  absl::StatusOr<Config> cfg = Config::Load(path, std::move(env));
  if (!cfg.ok()) ExitOnConfigError(cfg.status());
  return *std::move(cfg);
}

Config LoadOrExit(const std::string& path) { return LoadOrExit(path, ProcessEnvironment()); }

}  // namespace flywheel::config
