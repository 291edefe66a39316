#pragma once

#include "flywheel/config/config.h"
#include "flywheel/grpc/tls.h"

namespace flywheel::runtime {

/// Reads `grpc.tls.cert_file`, `grpc.tls.key_file`, `grpc.tls.client_ca_file`
/// and `grpc.tls.refresh_interval` (default 1m). None set: plaintext. A
/// certificate needs its key; a client CA needs both. Each file is read and
/// checked now (`rpc::CheckCertificateFile`, `rpc::CheckPrivateKeyFile`), so
/// a missing, unparsable or mismatched file is a config problem naming the
/// key and the file, recorded in `config` for its `Check`.
rpc::TlsOptions ReadTlsSettings(config::Config& config);

}  // namespace flywheel::runtime
