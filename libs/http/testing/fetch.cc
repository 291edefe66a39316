#include "flywheel/http/testing/fetch.h"

#include <civetweb.h>
#include <gtest/gtest.h>

namespace flywheel::http::testing {

Fetched Fetch(int port, const std::string& method, const std::string& target) {
  char error[256] = {};
  mg_connection* conn =
      mg_download("127.0.0.1", port, 0, error, sizeof error,
                  "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", method.c_str(),
                  target.c_str());
  EXPECT_NE(conn, nullptr) << "GET " << target << ": " << error;
  if (conn == nullptr) return {};
  Fetched fetched;
  const mg_response_info* info = mg_get_response_info(conn);
  fetched.status = info->status_code;
  for (int i = 0; i < info->num_headers; ++i) {
    if (std::string(info->http_headers[i].name) == "Content-Type") {
      fetched.content_type = info->http_headers[i].value;
    }
  }
  char chunk[4096];
  int n;
  while ((n = mg_read(conn, chunk, sizeof chunk)) > 0) fetched.body.append(chunk, n);
  mg_close_connection(conn);
  return fetched;
}

}  // namespace flywheel::http::testing
