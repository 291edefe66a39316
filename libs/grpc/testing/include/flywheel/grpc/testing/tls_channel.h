#pragma once

#include <memory>
#include <string>

#include "flywheel/grpc/testing/test_ca.h"

namespace grpc {
class Channel;
}

namespace flywheel::rpc::testing {

/// A channel to `127.0.0.1:<port>` over TLS that trusts the CA certificate
/// `ca_pem` and presents `client` when given. It never shares a connection
/// with another channel, so each one makes its own handshake.
std::shared_ptr<::grpc::Channel> TlsChannel(int port, const std::string& ca_pem,
                                            const IssuedCertificate* client = nullptr);

}  // namespace flywheel::rpc::testing
