// What an operator sees for each way the grpc.tls.* settings can be wrong,
// with real certificate files made per run.
#include "tls_settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "flywheel/core/id.h"
#include "flywheel/grpc/testing/test_ca.h"

namespace flywheel::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class TlsSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("flywheel-tls-settings-" + NewRandomId());
    std::filesystem::create_directories(dir_);
    const rpc::testing::IssuedCertificate server = ca_.IssueServer();
    cert_ = Write("server.pem", server.cert_pem);
    key_ = Write("server.key", server.key_pem);
    ca_file_ = Write("ca.pem", ca_.cert_pem());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    rpc::testing::ReplaceFile(path, text);
    return path;
  }

  // The settings read from `tls_yaml` (the body of `grpc.tls`) and every
  // problem the config reports, one line each.
  rpc::TlsOptions Read(const std::string& tls_yaml, std::vector<std::string>* errors) {
    auto config = config::Config::FromString("grpc:\n  tls:\n" + tls_yaml, "test.yaml", {});
    EXPECT_TRUE(config.ok()) << config.status();
    rpc::TlsOptions tls = ReadTlsSettings(*config);
    *errors = config->Errors();
    return tls;
  }

  std::filesystem::path dir_;
  rpc::testing::TestCa ca_;
  std::string cert_, key_, ca_file_;
};

TEST_F(TlsSettingsTest, NothingSetIsPlaintext) {
  auto config = config::Config::FromString("{}", "test.yaml", {});
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(ReadTlsSettings(*config).enabled());
  EXPECT_TRUE(config->Check().ok());
}

TEST_F(TlsSettingsTest, CertificateKeyAndClientCaAreMutualTls) {
  std::vector<std::string> errors;
  rpc::TlsOptions tls =
      Read("    cert_file: " + cert_ + "\n    key_file: " + key_ +
               "\n    client_ca_file: " + ca_file_ + "\n    refresh_interval: 10s\n",
           &errors);
  EXPECT_THAT(errors, ElementsAre());
  EXPECT_EQ(tls.cert_file, cert_);
  EXPECT_EQ(tls.key_file, key_);
  EXPECT_TRUE(tls.mutual());
  EXPECT_EQ(tls.refresh_interval, absl::Seconds(10));
}

TEST_F(TlsSettingsTest, EachBadFileIsOneLineNamingTheKeyAndTheFile) {
  const std::string missing = (dir_ / "missing.pem").string();
  const std::string not_pem = Write("notes.txt", "hello\n");
  std::vector<std::string> errors;
  Read("    cert_file: " + missing + "\n    key_file: " + key_ +
           "\n    client_ca_file: " + not_pem + "\n",
       &errors);
  EXPECT_THAT(errors, ElementsAre(StartsWith("config: grpc.tls.cert_file: cannot be read: No such "
                                             "file or directory, got \"" +
                                             missing + "\" (from test.yaml:"),
                                  StartsWith("config: grpc.tls.client_ca_file: holds no PEM "
                                             "certificate, got \"" +
                                             not_pem + "\"")));
}

TEST_F(TlsSettingsTest, AKeyOfAnotherCertificateIsNamed) {
  const std::string other = Write("other.key", ca_.IssueServer().key_pem);
  std::vector<std::string> errors;
  Read("    cert_file: " + cert_ + "\n    key_file: " + other + "\n", &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("config: grpc.tls.key_file: is not the key of the certificate "
                                   "in " +
                                   cert_ + ", got \"" + other + "\""));
}

TEST_F(TlsSettingsTest, HalfATlsConfigurationIsRefused) {
  std::vector<std::string> errors;
  Read("    cert_file: " + cert_ + "\n", &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], StartsWith("config: grpc.tls.key_file: required but not set"));

  Read("    client_ca_file: " + ca_file_ + "\n", &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("grpc.tls.client_ca_file: is set but grpc.tls.cert_file is "
                                   "not; mutual TLS needs grpc.tls.cert_file and "
                                   "grpc.tls.key_file too"));

  Read("    cert_file: " + cert_ + "\n    key_file: " + key_ + "\n    refresh_interval: 1500ms\n",
       &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("grpc.tls.refresh_interval: must be whole seconds"));
}

}  // namespace
}  // namespace flywheel::runtime
