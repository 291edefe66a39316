#include "flywheel/config/policy_reader.h"

#include <google/protobuf/descriptor.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "values.h"

namespace flywheel::config {
namespace {

absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// The problems of one document.
struct Document {
  struct Problem {
    int line;
    std::string text;
  };
  std::string file;
  std::vector<Problem> problems;

  void Add(int line, std::string_view path, std::string_view what) {
    std::string text = path.empty() ? absl::StrCat(file, ":", line, ": ", AV(what))
                                    : absl::StrCat(file, ":", line, ": ", AV(path), ": ", AV(what));
    for (const Problem& p : problems) {
      if (p.text == text) return;
    }
    problems.push_back({line, std::move(text)});
  }

  absl::Status ToStatus() {
    if (problems.empty()) return absl::OkStatus();
    std::stable_sort(problems.begin(), problems.end(),
                     [](const Problem& a, const Problem& b) { return a.line < b.line; });
    std::string message = absl::StrCat("invalid policy, ", problems.size(),
                                       problems.size() == 1 ? " problem:" : " problems:");
    for (const Problem& p : problems) absl::StrAppend(&message, "\n", p.text);
    return absl::InvalidArgumentError(message);
  }
};

int LineOf(const YAML::Node& node, int fallback) {
  if (!node.IsDefined() || node.Mark().is_null() || node.Mark().line < 0) return fallback;
  return node.Mark().line + 1;
}

std::string JoinPath(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(AV(path), ".", AV(key));
}

// Optimal string alignment distance: edits, counting a swap of two
// neighbours as one.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The candidate `text` most likely meant: a few edits away, or one is the
// start of the other (`owner` for `owner_role`). Empty when none is close,
// or when two are equally close (`P0` is as near P1 as P2).
std::string Nearest(std::string_view text, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::string::npos;
  bool tie = false;
  const size_t allowed = std::max<size_t>(1, text.size() / 3);
  for (const std::string& c : candidates) {
    size_t distance = EditDistance(text, c);
    bool prefix = std::min(text.size(), c.size()) >= 3 &&
                  (c.starts_with(text) || std::string_view(text).starts_with(c));
    if (!(distance <= allowed || prefix)) continue;
    if (distance < best_distance) {
      best = c;
      best_distance = distance;
      tie = false;
    } else if (distance == best_distance) {
      tie = true;
    }
  }
  return tie ? std::string() : best;
}

// "a, b, c or d".
std::string OrList(const std::vector<std::string>& names) {
  if (names.size() < 2) return absl::StrJoin(names, "");
  std::vector<std::string> head(names.begin(), names.end() - 1);
  return absl::StrCat(absl::StrJoin(head, ", "), " or ", names.back());
}

// "SlaClass" -> "SLA_CLASS"; with `lower_words`, "sla class".
std::string SplitCamel(std::string_view name, bool lower_words) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (i > 0 && absl::ascii_isupper(c)) out.push_back(lower_words ? ' ' : '_');
    out.push_back(lower_words ? absl::ascii_tolower(c) : absl::ascii_toupper(c));
  }
  return out;
}

template <typename T>
std::string FirstBroken(const std::vector<Rule<T>>& rules, const T& value) {
  for (const Rule<T>& rule : rules) {
    if (!rule) continue;
    if (std::string reason = rule(value); !reason.empty()) return reason;
  }
  return {};
}

}  // namespace

struct PolicyNode::Impl {
  std::shared_ptr<Document> doc;
  YAML::Node node;  // undefined when absent
  std::string path;
  int line = 1;
  bool set = false;
  // Below a value of the wrong shape, or below an absent one: records
  // nothing, so one mistake is reported once.
  bool quiet = false;

  std::shared_ptr<Impl> Absent(std::string child_path, bool child_quiet) const {
    auto impl = std::make_shared<Impl>();
    impl->doc = doc;
    impl->path = std::move(child_path);
    impl->line = line;
    impl->quiet = child_quiet;
    return impl;
  }

  std::shared_ptr<Impl> Present(const YAML::Node& child, std::string child_path,
                                int fallback_line) const {
    auto impl = std::make_shared<Impl>();
    impl->doc = doc;
    impl->node.reset(child);
    impl->path = std::move(child_path);
    impl->set = child.IsDefined() && !child.IsNull();
    impl->line = impl->set ? LineOf(child, fallback_line) : fallback_line;
    return impl;
  }

  // Whether this (set) value is a mapping; records that it must be when not.
  bool IsMapping() const {
    if (node.IsMap()) return true;
    if (!quiet) {
      doc->Add(
          line, path,
          path.empty() ? "the top level must be a mapping of keys to values" : "must be a mapping");
    }
    return false;
  }

  struct Entry {
    YAML::Node key;
    YAML::Node value;
    std::string path;
    int line;
  };
  // The entries of this mapping, in file order; a key that is not a plain
  // name, or that comes twice, is reported and left out.
  std::vector<Entry> Entries() const {
    std::vector<Entry> out;
    std::map<std::string, int> seen;  // key -> its first line
    for (const auto& kv : node) {
      const int key_line = LineOf(kv.first, line);
      if (!kv.first.IsScalar()) {
        doc->Add(key_line, path,
                 "keys must be plain names, got " +
                     internal::Quote(internal::Emit(kv.first, /*flow=*/true)));
        continue;
      }
      std::string key_path = JoinPath(path, kv.first.Scalar());
      if (auto [it, fresh] = seen.emplace(kv.first.Scalar(), key_line); !fresh) {
        doc->Add(key_line, key_path,
                 absl::StrCat("is given twice (first at line ", it->second, ")"));
        continue;
      }
      out.push_back({kv.first, kv.second, std::move(key_path), key_line});
    }
    return out;
  }
};

PolicyNode::PolicyNode(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

bool PolicyNode::IsSet() const { return impl_->set; }
const std::string& PolicyNode::path() const { return impl_->path; }
int PolicyNode::line() const { return impl_->line; }

void PolicyNode::Problem(std::string_view what) const {
  if (!impl_->quiet) impl_->doc->Add(impl_->line, impl_->path, what);
}

PolicyNode PolicyNode::Child(std::string_view key) const {
  std::string path = JoinPath(impl_->path, key);
  if (!impl_->set || !impl_->IsMapping()) {
    return PolicyNode(impl_->Absent(std::move(path), /*child_quiet=*/true));
  }
  for (const auto& kv : impl_->node) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) {
      return PolicyNode(impl_->Present(kv.second, std::move(path), LineOf(kv.first, line())));
    }
  }
  return PolicyNode(impl_->Absent(std::move(path), impl_->quiet));
}

PolicyNode PolicyNode::operator[](std::string_view key) const { return Child(key); }

PolicyNode PolicyNode::Required(std::string_view key, std::string_view why) const {
  PolicyNode child = Child(key);
  if (!child.IsSet()) {
    child.Problem(why.empty() ? std::string("is required")
                              : absl::StrCat("is required: ", AV(why)));
  }
  return child;
}

bool PolicyNode::Keys(std::initializer_list<std::string_view> known,
                      std::initializer_list<RetiredKey> retired) const {
  if (!impl_->set || !impl_->IsMapping()) return false;
  const std::vector<std::string> names(known.begin(), known.end());
  for (const Impl::Entry& e : impl_->Entries()) {
    const std::string& key = e.key.Scalar();
    if (std::find(names.begin(), names.end(), key) != names.end()) continue;
    auto old = std::find_if(retired.begin(), retired.end(),
                            [&](const RetiredKey& r) { return r.key == key; });
    if (old != retired.end()) {
      impl_->doc->Add(e.line, e.path, old->why);
    } else if (std::string near = Nearest(key, names); !near.empty()) {
      impl_->doc->Add(e.line, e.path, absl::StrCat("unknown key; did you mean '", near, "'?"));
    } else {
      impl_->doc->Add(e.line, e.path,
                      absl::StrCat("unknown key; expected one of ", absl::StrJoin(names, ", ")));
    }
  }
  return true;
}

std::vector<PolicyNode> PolicyNode::List() const {
  std::vector<PolicyNode> items;
  if (!impl_->set) return items;
  if (!impl_->node.IsSequence()) {
    Problem("must be a list");
    return items;
  }
  size_t i = 0;
  for (const YAML::Node& item : impl_->node) {
    std::string path = absl::StrCat(impl_->path, "[", i++, "]");
    std::shared_ptr<Impl> child = impl_->Present(item, std::move(path), line());
    if (!child->set) {
      impl_->doc->Add(child->line, child->path, "must not be empty");
      child->quiet = true;
    }
    items.push_back(PolicyNode(std::move(child)));
  }
  return items;
}

std::vector<PolicyNode> PolicyNode::NonEmptyList() const {
  std::vector<PolicyNode> items = List();
  if (items.empty() && impl_->set && impl_->node.IsSequence()) Problem("must be a non-empty list");
  return items;
}

std::vector<std::pair<PolicyNode, PolicyNode>> PolicyNode::Entries() const {
  std::vector<std::pair<PolicyNode, PolicyNode>> entries;
  if (!impl_->set || !impl_->IsMapping()) return entries;
  for (const Impl::Entry& e : impl_->Entries()) {
    std::shared_ptr<Impl> value = impl_->Present(e.value, e.path, e.line);
    if (!value->set) {
      impl_->doc->Add(e.line, e.path, "must not be empty");
      value->quiet = true;
    }
    entries.emplace_back(PolicyNode(impl_->Present(e.key, e.path, e.line)),
                         PolicyNode(std::move(value)));
  }
  return entries;
}

std::optional<std::string> PolicyNode::Scalar(std::string_view reason) const {
  if (!impl_->set) return std::nullopt;
  if (!impl_->node.IsScalar()) {
    Problem(absl::StrCat(AV(reason), ", got ", internal::Quote(internal::Emit(impl_->node, true))));
    return std::nullopt;
  }
  return impl_->node.Scalar();
}

std::optional<std::string> PolicyNode::ReadString(
    const std::vector<Rule<std::string>>& rules) const {
  std::optional<std::string> text = Scalar(internal::kScalarReason);
  if (!text) return std::nullopt;
  std::string reason = text->empty() ? std::string("must not be empty") : FirstBroken(rules, *text);
  if (!reason.empty()) {
    Problem(absl::StrCat(reason, ", got ", internal::Quote(*text)));
    return std::nullopt;
  }
  return text;
}

std::optional<int64_t> PolicyNode::ReadInt(const std::vector<Rule<int64_t>>& rules) const {
  std::optional<std::string> text = Scalar(internal::kIntReason);
  if (!text) return std::nullopt;
  int64_t value = 0;
  std::string reason =
      absl::SimpleAtoi(*text, &value) ? FirstBroken(rules, value) : internal::kIntReason;
  if (!reason.empty()) {
    Problem(absl::StrCat(reason, ", got ", internal::Quote(*text)));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> PolicyNode::Bool() const {
  std::optional<std::string> text = Scalar(internal::kBoolReason);
  if (!text) return std::nullopt;
  std::optional<bool> value = internal::ParseBool(*text);
  if (!value) Problem(absl::StrCat(internal::kBoolReason, ", got ", internal::Quote(*text)));
  return value;
}

std::optional<absl::Duration> PolicyNode::ReadDuration(
    const std::vector<Rule<absl::Duration>>& rules) const {
  std::optional<std::string> text = Scalar(internal::kDurationReason);
  if (!text) return std::nullopt;
  std::optional<absl::Duration> value = internal::ParseDuration(*text);
  std::string reason = !value                          ? internal::kDurationReason
                       : *value < absl::ZeroDuration() ? "must not be negative"
                                                       : FirstBroken(rules, *value);
  if (!reason.empty()) {
    Problem(absl::StrCat(reason, ", got ", internal::Quote(*text)));
    return std::nullopt;
  }
  return value;
}

std::vector<std::string> PolicyNode::ReadStrings(
    const std::vector<Rule<std::string>>& rules) const {
  std::vector<std::string> out;
  for (const PolicyNode& item : List()) {
    if (std::optional<std::string> s = item.ReadString(rules)) out.push_back(*std::move(s));
  }
  return out;
}

std::optional<int> PolicyNode::EnumNumber(const google::protobuf::EnumDescriptor& type) const {
  std::optional<std::string> text = Scalar(internal::kScalarReason);
  if (!text) return std::nullopt;
  const std::string upper = absl::AsciiStrToUpper(*text);
  const std::string prefix = SplitCamel(type.name(), /*lower_words=*/false) + "_";
  std::vector<std::string> names;  // without the prefix
  for (int i = 0; i < type.value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* value = type.value(i);
    if (value->number() == 0) continue;  // _UNSPECIFIED: never a choice
    if (upper == value->name() || prefix + upper == value->name()) return value->number();
    names.push_back(value->name().starts_with(prefix) ? value->name().substr(prefix.size())
                                                      : value->name());
  }
  // Shown in the case the file uses: P1 for "P0", rapid_response for "slow".
  const bool shout = upper == *text && absl::AsciiStrToLower(*text) != *text;
  for (std::string& name : names) {
    if (!shout) absl::AsciiStrToLower(&name);
  }
  std::string near = Nearest(shout ? upper : absl::AsciiStrToLower(*text), names);
  Problem(absl::StrCat("unknown ", SplitCamel(type.name(), /*lower_words=*/true), " ",
                       internal::Quote(*text),
                       near.empty() ? absl::StrCat("; expected ", OrList(names))
                                    : absl::StrCat("; did you mean '", near, "'?")));
  return std::nullopt;
}

namespace internal {

absl::Status RunPolicyRead(std::string_view yaml, std::string_view file,
                           absl::FunctionRef<void(const PolicyNode&)> read) {
  auto doc = std::make_shared<Document>();
  doc->file = std::string(file);
  auto root = std::make_shared<PolicyNode::Impl>();
  root->doc = doc;
  try {
    root->node = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    doc->Add(std::max(e.mark.line, 0) + 1, "", absl::StrCat("invalid YAML: ", e.msg));
    return doc->ToStatus();
  }
  // An empty document reads as an empty mapping, so its required keys are
  // reported.
  if (!root->node.IsDefined() || root->node.IsNull()) root->node = YAML::Node(YAML::NodeType::Map);
  root->set = true;
  root->line = LineOf(root->node, 1);
  try {
    read(PolicyNode(root));
  } catch (const YAML::Exception& e) {
    // Not expected: reads use no throwing yaml-cpp call. Kept as a problem
    // rather than an exception out of a reload.
    doc->Add(std::max(e.mark.line, 0) + 1, "", e.what());
  }
  return doc->ToStatus();
}

absl::StatusOr<std::string> ReadPolicyFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("policy file ", path, ": ", text.status().message()));
  }
  return text;
}

}  // namespace internal
}  // namespace flywheel::config
