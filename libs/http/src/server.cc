#include "flywheel/http/server.h"

#include <CivetServer.h>
#include <civetweb.h>

#include <algorithm>
#include <stdexcept>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace flywheel::http {
namespace {

const char* ReasonOf(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
    default:
      return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
  }
}

void Write(mg_connection* conn, const Response& response, bool with_body) {
  std::string head = absl::StrCat("HTTP/1.1 ", response.status, " ", ReasonOf(response.status),
                                  "\r\nContent-Type: ", response.content_type,
                                  "\r\nContent-Length: ", response.body.size(), "\r\n");
  for (const auto& [name, value] : response.headers)
    absl::StrAppend(&head, name, ": ", value, "\r\n");
  head += "\r\n";
  mg_write(conn, head.data(), head.size());
  if (with_body) mg_write(conn, response.body.data(), response.body.size());
}

class Routes final : public CivetHandler {
 public:
  explicit Routes(std::vector<std::pair<std::string, Handler>> routes)
      : routes_(std::move(routes)) {
    // Longest prefix first, so the first match is the most specific.
    std::sort(routes_.begin(), routes_.end(),
              [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  }

  bool handleGet(CivetServer*, mg_connection* conn) override { return Answer(conn, true); }
  bool handleHead(CivetServer*, mg_connection* conn) override { return Answer(conn, false); }
  bool handlePost(CivetServer*, mg_connection* conn) override { return NotAllowed(conn); }
  bool handlePut(CivetServer*, mg_connection* conn) override { return NotAllowed(conn); }
  bool handleDelete(CivetServer*, mg_connection* conn) override { return NotAllowed(conn); }
  bool handlePatch(CivetServer*, mg_connection* conn) override { return NotAllowed(conn); }

 private:
  bool Answer(mg_connection* conn, bool with_body) {
    const mg_request_info* info = mg_get_request_info(conn);
    Request request{.path = info->local_uri ? info->local_uri : "/",
                    .query = ParseQuery(info->query_string ? info->query_string : "")};
    for (const auto& [prefix, handler] : routes_) {
      if (request.path.rfind(prefix, 0) == 0) {
        Write(conn, handler(request), with_body);
        return true;
      }
    }
    Write(conn, {.status = 404, .body = "no such document\n"}, with_body);
    return true;
  }

  bool NotAllowed(mg_connection* conn) {
    Write(conn, {.status = 405, .body = "only GET and HEAD\n", .headers = {{"Allow", "GET, HEAD"}}},
          true);
    return true;
  }

  std::vector<std::pair<std::string, Handler>> routes_;
};

class CivetwebServer final : public Server {
 public:
  CivetwebServer(std::unique_ptr<CivetServer> server, std::unique_ptr<Routes> routes)
      : routes_(std::move(routes)), server_(std::move(server)) {
    server_->addHandler("/", *routes_);
  }
  ~CivetwebServer() override { server_->close(); }

  int port() const override {
    std::vector<int> ports = server_->getListeningPorts();
    return ports.empty() ? 0 : ports.front();
  }

 private:
  // Declared first so it outlives the server that calls it.
  std::unique_ptr<Routes> routes_;
  std::unique_ptr<CivetServer> server_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const std::string& listen, std::vector<std::pair<std::string, Handler>> routes, int threads) {
  std::vector<std::string> parts = absl::StrSplit(listen, absl::MaxSplits(':', 1));
  int port = 0;
  if (parts.size() != 2 || parts[0].empty() || !absl::SimpleAtoi(parts[1], &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", listen, "' is not a listen address (host:port)"));
  }
  const std::vector<std::string> options = {"listening_ports",    listen,
                                            "num_threads",        absl::StrCat(threads),
                                            "request_timeout_ms", "10000"};
  auto handler = std::make_unique<Routes>(std::move(routes));
  try {
    auto server = std::make_unique<CivetServer>(options);
    return std::make_unique<CivetwebServer>(std::move(server), std::move(handler));
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot serve HTTP on ", listen, ": ", e.what()));
  }
}

std::string EncodeQuery(const Query& query) {
  std::string out;
  std::string buffer;
  auto encode = [&buffer](const std::string& text) {
    // Every byte may grow to three, plus the terminating NUL.
    buffer.resize(text.size() * 3 + 1);
    const int n = mg_url_encode(text.c_str(), buffer.data(), buffer.size());
    return std::string(buffer.data(), n < 0 ? 0 : static_cast<size_t>(n));
  };
  for (const auto& [name, value] : query) {
    if (!out.empty()) out += '&';
    absl::StrAppend(&out, encode(name), "=", encode(value));
  }
  return out;
}

Query ParseQuery(const std::string& text) {
  Query out;
  std::string buffer;
  auto decode = [&buffer](absl::string_view part) {
    buffer.resize(part.size() + 1);
    const int n = mg_url_decode(part.data(), static_cast<int>(part.size()), buffer.data(),
                                static_cast<int>(buffer.size()), /*is_form_url_encoded=*/1);
    return std::string(buffer.data(), n < 0 ? 0 : static_cast<size_t>(n));
  };
  for (absl::string_view pair : absl::StrSplit(text, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    out.emplace_back(decode(kv.first), decode(kv.second));
  }
  return out;
}

}  // namespace flywheel::http
