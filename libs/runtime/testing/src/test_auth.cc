#include "flywheel/runtime/testing/test_auth.h"

#include <grpcpp/client_context.h>

#include <chrono>
#include <filesystem>

#include "absl/strings/str_join.h"
#include "flywheel/core/id.h"

namespace flywheel::runtime::testing {
namespace {

// The sources tests publish submission events from.
constexpr char kEventProducers[] = "event_producers:\n  \"//tests/crm\": [\"*\"]\n";

}  // namespace

TestAuth::TestAuth(const std::string& rate_limits_yaml)
    : dir_((std::filesystem::temp_directory_path() / ("flywheel-auth-" + NewRandomId())).string()) {
  std::filesystem::create_directories(dir_);
  SetRateLimits(rate_limits_yaml);
}

void TestAuth::SetRateLimits(const std::string& rate_limits_yaml) {
  rate_limits_yaml_ = rate_limits_yaml;
  WritePolicy();
}

void TestAuth::SetServiceCertificates(const std::vector<std::string>& names) {
  service_certificates_ = names;
  WritePolicy();
}

void TestAuth::WritePolicy() {
  std::string extra = kEventProducers;
  if (!service_certificates_.empty()) {
    extra += "service_certificates: [\"" + absl::StrJoin(service_certificates_, "\", \"") + "\"]\n";
  }
  auth_yaml_ = issuer_.WriteConfig(dir_, {"acme", "demo", "initech"}, rate_limits_yaml_,
                                   /*pem=*/false, extra);
}

TestAuth::~TestAuth() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string TestAuth::WithAuth(const std::string& yaml) const {
  const size_t first = yaml.find_first_not_of(" \t\n");
  if (first == std::string::npos || yaml.substr(first).starts_with("{}")) return auth_yaml_;
  return auth_yaml_ + yaml;
}

std::vector<std::string> TestAuth::Env() const { return issuer_.Env(dir_); }

std::string TestAuth::Token(const std::string& tenant, std::vector<std::string> roles,
                            const std::string& subject) const {
  auth::testing::Claims claims;
  claims.tenant = tenant;
  claims.roles = std::move(roles);
  claims.subject = subject;
  return issuer_.Mint(claims);
}

std::unique_ptr<::grpc::ClientContext> TestAuth::Call(const std::string& token,
                                                      absl::Duration deadline) const {
  auto context = std::make_unique<::grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(deadline));
  context->AddMetadata("authorization", auth::testing::Bearer(token));
  return context;
}

std::unique_ptr<::grpc::ClientContext> TestAuth::CallAs(const std::string& tenant) const {
  return Call(Token(tenant));
}

}  // namespace flywheel::runtime::testing
