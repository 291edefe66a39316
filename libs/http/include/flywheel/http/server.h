#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace flywheel::http {

/// A query string's parameters in order, decoded; a name may repeat.
using Query = std::vector<std::pair<std::string, std::string>>;

/// A GET as a handler sees it.
struct Request {
  /// The path, decoded, without the query.
  std::string path;
  /// The query's parameters.
  Query query;
};

/// What a handler answers.
struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  /// Further headers (name, value), e.g. Cache-Control.
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Answers one GET; runs on one of the server's threads and may block it.
using Handler = std::function<Response(const Request&)>;

/// A plain HTTP/1.1 server for the few read-only documents a service hands
/// to programs that speak no gRPC (calendar apps subscribing to a feed):
/// civetweb underneath, GET and HEAD only (anything else is 405), one
/// handler per path prefix. Stops when destroyed.
class Server {
 public:
  /// Listens on `listen` ("127.0.0.1:0" picks a free port) with `threads`
  /// workers and serves `routes` (path prefix, handler; the longest
  /// matching prefix wins; none matching is 404). INVALID_ARGUMENT for a
  /// bad address, UNAVAILABLE when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const std::string& listen, std::vector<std::pair<std::string, Handler>> routes,
      int threads = 4);

  virtual ~Server() = default;

  /// The port it listens on.
  virtual int port() const = 0;
};

/// `query` as `a=1&b=x%20y`, every name and value percent-encoded.
std::string EncodeQuery(const Query& query);

/// The parameters of a query string (`a=1&b=x%20y`, no leading `?`),
/// decoded; a parameter without `=` has an empty value.
Query ParseQuery(const std::string& text);

}  // namespace flywheel::http
