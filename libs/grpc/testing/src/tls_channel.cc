#include "flywheel/grpc/testing/tls_channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

namespace flywheel::rpc::testing {

std::shared_ptr<::grpc::Channel> TlsChannel(int port, const std::string& ca_pem,
                                            const IssuedCertificate* client) {
  ::grpc::SslCredentialsOptions options;
  options.pem_root_certs = ca_pem;
  if (client != nullptr) {
    options.pem_private_key = client->key_pem;
    options.pem_cert_chain = client->cert_pem;
  }
  ::grpc::ChannelArguments args;
  // Connections of its own, never from gRPC's process-wide pool, so a test
  // that needs a new handshake (a rotated certificate) is sure to get one.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return ::grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                     ::grpc::SslCredentials(options), args);
}

}  // namespace flywheel::rpc::testing
