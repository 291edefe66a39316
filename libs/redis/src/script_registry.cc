#include "flywheel/redis/script_registry.h"

#include <openssl/evp.h>

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "flywheel/core/status.h"
#include "flywheel/redis/error.h"

namespace flywheel::redis {
namespace {
absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }
}  // namespace

std::string ScriptSha1(std::string_view source) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(source.data(), source.size(), digest, &len, EVP_sha1(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), len));
}

absl::Status ScriptRegistry::Register(const std::string& name, std::string source) {
  if (name.empty()) return absl::InvalidArgumentError("redis script name is empty");
  if (source.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("redis script \"", name, "\" has no source"));
  }
  auto it = scripts_.find(name);
  if (it != scripts_.end()) {
    if (it->second.source == source) return absl::OkStatus();
    return absl::AlreadyExistsError(
        absl::StrCat("redis script \"", name, "\" is already registered with other source"));
  }
  std::string sha = ScriptSha1(source);
  scripts_.emplace(name, Script{std::move(source), std::move(sha)});
  return absl::OkStatus();
}

bool ScriptRegistry::Contains(std::string_view name) const {
  return scripts_.contains(AbslView(name));
}

absl::StatusOr<const ScriptRegistry::Script*> ScriptRegistry::Find(std::string_view name) const {
  auto it = scripts_.find(AbslView(name));
  if (it == scripts_.end()) {
    return absl::NotFoundError(
        absl::StrCat("redis script \"", AbslView(name), "\" is not registered"));
  }
  return &it->second;
}

absl::StatusOr<std::string> ScriptRegistry::Sha1(std::string_view name) const {
  FLYWHEEL_ASSIGN_OR_RETURN(const Script* script, Find(name));
  return script->sha1;
}

absl::StatusOr<std::string> ScriptRegistry::Source(std::string_view name) const {
  FLYWHEEL_ASSIGN_OR_RETURN(const Script* script, Find(name));
  return script->source;
}

absl::StatusOr<Reply> ScriptRegistry::Eval(Connection& conn, std::string_view name,
                                           const std::vector<std::string>& keys,
                                           const std::vector<std::string>& args) const {
  return std::move(EvalMany(conn, name, {Call{.keys = keys, .args = args}})[0]);
}

std::vector<absl::StatusOr<Reply>> ScriptRegistry::EvalMany(Connection& conn, std::string_view name,
                                                            const std::vector<Call>& calls) const {
  auto it = scripts_.find(AbslView(name));
  if (it == scripts_.end()) {
    return std::vector<absl::StatusOr<Reply>>(
        calls.size(), absl::NotFoundError(
                          absl::StrCat("redis script \"", AbslView(name), "\" is not registered")));
  }
  const Script& script = it->second;
  std::vector<std::vector<std::string>> commands;
  commands.reserve(calls.size());
  for (const Call& call : calls) {
    std::vector<std::string>& cmd = commands.emplace_back();
    cmd.reserve(3 + call.keys.size() + call.args.size());
    cmd.push_back("EVALSHA");
    cmd.push_back(script.sha1);
    cmd.push_back(std::to_string(call.keys.size()));
    cmd.insert(cmd.end(), call.keys.begin(), call.keys.end());
    cmd.insert(cmd.end(), call.args.begin(), call.args.end());
  }
  std::vector<absl::StatusOr<Reply>> results = conn.Pipeline(commands);

  // A server restarted, failed over or flushed since the last load.
  std::vector<size_t> missed;
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ok() && ServerErrorCode(results[i].status()) == "NOSCRIPT") missed.push_back(i);
  }
  if (missed.empty()) return results;
  // Sent again as EVAL with the source, which Redis also caches: loading it
  // and sending EVALSHA again would lose to a flush by another client between
  // the two.
  std::vector<std::vector<std::string>> again;
  again.reserve(missed.size());
  for (size_t i : missed) {
    std::vector<std::string>& cmd = again.emplace_back(std::move(commands[i]));
    cmd[0] = "EVAL";
    cmd[1] = script.source;
  }
  std::vector<absl::StatusOr<Reply>> retried = conn.Pipeline(again);
  for (size_t k = 0; k < missed.size(); ++k) results[missed[k]] = std::move(retried[k]);
  return results;
}

absl::Status ScriptRegistry::LoadAll(Connection& conn) const {
  for (const auto& [name, script] : scripts_) {
    absl::StatusOr<Reply> loaded = conn.Command({"SCRIPT", "LOAD", script.source});
    if (!loaded.ok()) {
      return absl::Status(loaded.status().code(),
                          absl::StrCat("redis script \"", name, "\": ", loaded.status().message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace flywheel::redis
