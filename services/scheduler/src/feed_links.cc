#include "feed_links.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "flywheel/core/secret_file.h"
#include "flywheel/core/status.h"

namespace flywheel::scheduler {
namespace {

constexpr size_t kLeastSecret = 32;

// The signed parameters of `feed`, in their one order.
http::Query ParametersOf(const v1::GetCalendarFeedRequest& feed) {
  http::Query query = {{"tenant", feed.tenant_id()}};
  if (!feed.team_id().empty()) query.emplace_back("team", feed.team_id());
  for (int channel : feed.channels()) {
    query.emplace_back("channel", common::v1::Channel_Name(channel));
  }
  for (const std::string& destination : feed.destinations()) {
    query.emplace_back("destination", destination);
  }
  if (!feed.campaign_id().empty()) query.emplace_back("campaign", feed.campaign_id());
  return query;
}

}  // namespace

std::string FeedLinks::Sign(const std::string& canonical) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), mac, &length);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(mac), static_cast<size_t>(length)));
}

std::string FeedLinks::PathFor(const v1::GetCalendarFeedRequest& feed) const {
  const std::string canonical = http::EncodeQuery(ParametersOf(feed));
  return absl::StrCat(kFeedPath, "?", canonical, "&sig=", Sign(canonical));
}

absl::StatusOr<v1::GetCalendarFeedRequest> FeedLinks::Read(const http::Query& query) const {
  v1::GetCalendarFeedRequest feed;
  std::string signature;
  for (const auto& [name, value] : query) {
    if (name == "tenant") {
      feed.set_tenant_id(value);
    } else if (name == "team") {
      feed.set_team_id(value);
    } else if (name == "channel") {
      common::v1::Channel channel;
      if (!common::v1::Channel_Parse(value, &channel) ||
          channel == common::v1::CHANNEL_UNSPECIFIED) {
        return absl::InvalidArgumentError(absl::StrCat("channel '", value, "' is not a channel"));
      }
      feed.add_channels(channel);
    } else if (name == "destination") {
      feed.add_destinations(value);
    } else if (name == "campaign") {
      feed.set_campaign_id(value);
    } else if (name == "sig") {
      signature = value;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown parameter '", name, "'"));
    }
  }
  // The signature is over the parameters in their one order, so a query
  // reordered or with a parameter added, changed or dropped does not match.
  const std::string expected = Sign(http::EncodeQuery(ParametersOf(feed)));
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
    return absl::PermissionDeniedError("this feed address is not signed by this service");
  }
  return feed;
}

absl::StatusOr<std::string> ReadFeedSecret(const std::string& path) {
  FLYWHEEL_ASSIGN_OR_RETURN(std::string secret,
                            ReadSecretFile(path, "scheduler.feeds.secret_file"));
  if (secret.size() < kLeastSecret) {
    return absl::InvalidArgumentError(absl::StrCat("the feed secret in ", path, " holds ",
                                                   secret.size(), " bytes; it needs at least ",
                                                   kLeastSecret));
  }
  return secret;
}

}  // namespace flywheel::scheduler
