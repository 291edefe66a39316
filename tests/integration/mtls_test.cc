// Intake with mutual TLS configured as an operator would (grpc.tls.*), and
// callers as they would come: with a certificate from the installation's CA
// and a token, without a certificate, with one from another CA, in
// plaintext, and with a service token from a certificate that is not a
// service's.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "flywheel/core/id.h"
#include "flywheel/grpc/testing/test_ca.h"
#include "flywheel/grpc/testing/tls_channel.h"
#include "flywheel/intake/v1/intake_service.grpc.pb.h"
#include "flywheel/runtime/testing/service_fixture.h"
#include "intake_app.h"

namespace flywheel {
namespace {

using rpc::testing::IssuedCertificate;
using rpc::testing::TestCa;
using ::testing::HasSubstr;

constexpr char kOpsConsole[] = "spiffe://flywheel.test/ops-console";

class MutualTlsTest : public runtime::testing::ServiceFixture {
 protected:
  MutualTlsTest()
      : ServiceFixture(intake::StartIntake),
        dir_(std::filesystem::temp_directory_path() / ("flywheel-mtls-" + NewRandomId())) {
    std::filesystem::create_directories(dir_);
    const IssuedCertificate server = ca_.IssueServer();
    rpc::testing::ReplaceFile((dir_ / "server.pem").string(), server.cert_pem);
    rpc::testing::ReplaceFile((dir_ / "server.key").string(), server.key_pem);
    rpc::testing::ReplaceFile((dir_ / "ca.pem").string(), ca_.cert_pem());
    SetConfigYaml("grpc:\n  tls:\n    cert_file: " + (dir_ / "server.pem").string() +
                  "\n    key_file: " + (dir_ / "server.key").string() +
                  "\n    client_ca_file: " + (dir_ / "ca.pem").string() + "\n");
    mutable_auth().SetServiceCertificates({kOpsConsole});
  }
  ~MutualTlsTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // ListRequests of acme over `channel` with `token`.
  ::grpc::Status List(const std::shared_ptr<::grpc::Channel>& channel, const std::string& token) {
    intake::v1::ListRequestsRequest request;
    request.set_tenant_id("acme");
    intake::v1::ListRequestsResponse response;
    return intake::v1::IntakeService::NewStub(channel)->ListRequests(
        auth().Call(token, absl::Seconds(10)).get(), request, &response);
  }
  std::shared_ptr<::grpc::Channel> Channel(const IssuedCertificate* client) {
    return rpc::testing::TlsChannel(app().grpc_port(), ca_.cert_pem(), client);
  }

  std::filesystem::path dir_;
  TestCa ca_;
};

TEST_F(MutualTlsTest, AServiceWithItsCertificateAndATokenIsServed) {
  const IssuedCertificate console = ca_.Issue("ops-console", {std::string("URI:") + kOpsConsole});
  ::grpc::Status st = List(Channel(&console), auth().Token("acme"));
  EXPECT_TRUE(st.ok()) << st.error_code() << ": " << st.error_message();
}

TEST_F(MutualTlsTest, WithoutACertificateOfTheCaNothingIsServed) {
  const std::string token = auth().Token("acme");
  TestCa stranger("Somebody Else's CA");
  const IssuedCertificate foreign =
      stranger.Issue("ops-console", {std::string("URI:") + kOpsConsole});
  EXPECT_EQ(List(Channel(nullptr), token).error_code(), ::grpc::StatusCode::UNAVAILABLE)
      << "no client certificate";
  EXPECT_EQ(List(Channel(&foreign), token).error_code(), ::grpc::StatusCode::UNAVAILABLE)
      << "a certificate from another CA";
  EXPECT_EQ(List(channel(), token).error_code(), ::grpc::StatusCode::UNAVAILABLE) << "plaintext";
}

TEST_F(MutualTlsTest, AServiceTokenFromACertificateThatIsNotAServicesIsRefused) {
  const IssuedCertificate laptop = ca_.Issue("laptop", {"DNS:laptop.flywheel.test"});
  ::grpc::Status st = List(Channel(&laptop), auth().Token("acme"));
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(st.error_message(), HasSubstr("names 'laptop.flywheel.test'"));
  // A person's token from the same certificate is served.
  st = List(Channel(&laptop), auth().Token("acme", {"requester"}, "maria"));
  EXPECT_TRUE(st.ok()) << st.error_code() << ": " << st.error_message();
}

}  // namespace
}  // namespace flywheel
