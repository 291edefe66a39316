// A server with TLS and mutual TLS, and clients as a caller would be: with
// and without a certificate, from another CA, in plaintext; certificates
// made per run by TestCa, written to files the server watches.
#include "flywheel/grpc/tls.h"

#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "flywheel/core/id.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/grpc/server.h"
#include "flywheel/grpc/testing/test_ca.h"
#include "flywheel/grpc/testing/tls_channel.h"
#include "flywheel/metrics/metrics.h"
#include "grpc_test_service.grpc.pb.h"

namespace flywheel::rpc {
namespace {

using ::testing::HasSubstr;
using testing::IssuedCertificate;
using testing::ReplaceFile;
using testing::TestCa;
using testing::TlsChannel;

class EchoService : public rpctest::TestService::Service {
 public:
  ::grpc::Status Echo(::grpc::ServerContext*, const rpctest::EchoRequest* request,
                      rpctest::EchoReply* reply) override {
    reply->set_text(request->text());
    return ::grpc::Status::OK;
  }
};

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("flywheel-tls-" + NewRandomId());
    std::filesystem::create_directories(dir_);
    WriteServerCertificate(ca_.IssueServer());
    Write("client-ca.pem", ca_.cert_pem());
  }
  void TearDown() override {
    if (server_) server_->Shutdown(absl::Now());
    std::filesystem::remove_all(dir_);
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    ReplaceFile(path, text);
    return path;
  }
  // Key first: a reader between the two renames sees the new key with the
  // old certificate, which fails until the next reread, never the reverse.
  void WriteServerCertificate(const IssuedCertificate& cert) {
    Write("server.key", cert.key_pem);
    Write("server.pem", cert.cert_pem);
  }

  TlsOptions Mutual() const {
    return {.cert_file = (dir_ / "server.pem").string(),
            .key_file = (dir_ / "server.key").string(),
            .client_ca_file = (dir_ / "client-ca.pem").string()};
  }

  absl::Status Start(TlsOptions tls) {
    absl::StatusOr<std::unique_ptr<Server>> server =
        Server::Start({.address = "127.0.0.1:0", .service_name = "tlstest", .tls = std::move(tls)},
                      {&service_}, metrics_);
    if (!server.ok()) return server.status();
    server_ = *std::move(server);
    return absl::OkStatus();
  }

  // One Echo over `channel`; `server_names`, when given, gets the DNS names
  // of the certificate the server presented.
  ::grpc::Status Echo(const std::shared_ptr<::grpc::Channel>& channel,
                      std::vector<std::string>* server_names = nullptr) {
    ::grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    rpctest::EchoRequest request;
    request.set_text("hello");
    rpctest::EchoReply reply;
    ::grpc::Status st = rpctest::TestService::NewStub(channel)->Echo(&context, request, &reply);
    if (st.ok() && reply.text() != "hello") return {::grpc::StatusCode::INTERNAL, "wrong reply"};
    if (st.ok() && server_names != nullptr) {
      for (const auto& name : context.auth_context()->FindPropertyValues("peer_dns")) {
        server_names->emplace_back(name.data(), name.size());
      }
    }
    return st;
  }

  std::filesystem::path dir_;
  TestCa ca_;
  EchoService service_;
  metrics::Metrics metrics_;
  std::unique_ptr<Server> server_;
};

TEST_F(TlsTest, MutualTlsServesAClientWithACertificateFromItsCa) {
  ASSERT_TRUE(Start(Mutual()).ok());
  const IssuedCertificate client = ca_.Issue("intake", {"URI:spiffe://flywheel.test/intake"});
  ::grpc::Status st = Echo(TlsChannel(server_->port(), ca_.cert_pem(), &client));
  EXPECT_TRUE(st.ok()) << st.error_code() << ": " << st.error_message();
}

TEST_F(TlsTest, MutualTlsRefusesAClientWithoutACertificateAtTheHandshake) {
  ASSERT_TRUE(Start(Mutual()).ok());
  ::grpc::Status st = Echo(TlsChannel(server_->port(), ca_.cert_pem()));
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::UNAVAILABLE) << st.error_message();
}

TEST_F(TlsTest, MutualTlsRefusesAClientCertificateFromAnotherCa) {
  ASSERT_TRUE(Start(Mutual()).ok());
  TestCa stranger("Somebody Else's CA");
  const IssuedCertificate client = stranger.Issue("intake", {"URI:spiffe://flywheel.test/intake"});
  ::grpc::Status st = Echo(TlsChannel(server_->port(), ca_.cert_pem(), &client));
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::UNAVAILABLE) << st.error_message();
}

TEST_F(TlsTest, APlaintextClientGetsNoAnswerFromATlsServer) {
  ASSERT_TRUE(Start(Mutual()).ok());
  ::grpc::Status st = Echo(::grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                                 ::grpc::InsecureChannelCredentials()));
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::UNAVAILABLE) << st.error_message();
}

TEST_F(TlsTest, ServerTlsWithoutAClientCaServesClientsWithoutCertificates) {
  TlsOptions tls = Mutual();
  tls.client_ca_file.clear();
  ASSERT_TRUE(Start(tls).ok());
  ::grpc::Status st = Echo(TlsChannel(server_->port(), ca_.cert_pem()));
  EXPECT_TRUE(st.ok()) << st.error_code() << ": " << st.error_message();
  // ...and nothing in plaintext.
  st = Echo(::grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                  ::grpc::InsecureChannelCredentials()));
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, ARotatedServerCertificateIsServedWithoutARestart) {
  TlsOptions tls = Mutual();
  tls.refresh_interval = absl::Seconds(1);
  ASSERT_TRUE(Start(tls).ok());
  const IssuedCertificate client = ca_.Issue("intake", {"URI:spiffe://flywheel.test/intake"});
  std::vector<std::string> names;
  ASSERT_TRUE(Echo(TlsChannel(server_->port(), ca_.cert_pem(), &client), &names).ok());
  EXPECT_THAT(names, ::testing::Contains("server.flywheel.test"));

  WriteServerCertificate(ca_.IssueServer("rotated.flywheel.test"));
  // Each attempt is a new connection, so a new handshake.
  EXPECT_TRUE(flywheel::testing::WaitFor(
      [&] {
        std::vector<std::string> now;
        return Echo(TlsChannel(server_->port(), ca_.cert_pem(), &client), &now).ok() &&
               std::find(now.begin(), now.end(), "rotated.flywheel.test") != now.end();
      },
      absl::Seconds(30)))
      << "the server still presents its first certificate";
}

TEST_F(TlsTest, StartRefusesMissingOrBadFilesNamingTheFieldAndTheFile) {
  struct Case {
    const char* what;
    TlsOptions tls;
    std::string expected;
  };
  const std::string missing = (dir_ / "missing.pem").string();
  const std::string garbage = Write("garbage.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n");
  const std::string other_key = Write("other.key", ca_.IssueServer().key_pem);
  const std::string expired =
      Write("expired.pem", ca_.Issue("old", {"DNS:localhost"}, absl::Minutes(-30)).cert_pem);
  std::vector<Case> cases;
  TlsOptions tls = Mutual();
  tls.cert_file = missing;
  cases.push_back({"missing certificate", tls,
                   "tls.cert_file " + missing + ": cannot be read: No such file or directory"});
  tls = Mutual();
  tls.key_file = other_key;
  cases.push_back(
      {"key of another certificate", tls,
       "tls.key_file " + other_key + ": is not the key of the certificate in " + tls.cert_file});
  tls = Mutual();
  tls.key_file = tls.cert_file;
  cases.push_back({"certificate as key", tls, "holds no unencrypted PEM private key"});
  tls = Mutual();
  tls.client_ca_file = garbage;
  cases.push_back({"garbage client CA", tls, "tls.client_ca_file " + garbage + ": holds a PEM"});
  tls = Mutual();
  tls.cert_file = expired;
  cases.push_back({"expired certificate", tls, "holds a certificate that has expired"});
  tls = {.client_ca_file = Mutual().client_ca_file};
  cases.push_back({"client CA alone", tls, "tls needs both cert_file and key_file"});
  for (const Case& c : cases) {
    absl::Status st = Start(c.tls);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << c.what << ": " << st;
    EXPECT_THAT(st.message(), HasSubstr(c.expected)) << c.what;
  }
}

}  // namespace
}  // namespace flywheel::rpc
