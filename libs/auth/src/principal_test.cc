#include "flywheel/auth/principal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace flywheel::auth {
namespace {

TEST(PrincipalTest, RolesRoundTripByName) {
  for (Role r :
       {Role::kRequester, Role::kCreator, Role::kApprover, Role::kOpsAdmin, Role::kService}) {
    EXPECT_EQ(ParseRole(RoleName(r)), r);
  }
  EXPECT_EQ(ParseRole("admin"), std::nullopt);
  EXPECT_EQ(RoleName(Role::kOpsAdmin), "ops-admin");
}

TEST(PrincipalTest, ATenantOtherThanTheCallersIsPermissionDenied) {
  Principal p{.tenant = "acme", .user_id = "maria"};
  EXPECT_TRUE(CheckTenant(p, "acme").ok());
  absl::Status st = CheckTenant(p, "globex");
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(st.message(), ::testing::HasSubstr("'acme', not 'globex'"));
  EXPECT_TRUE(CheckTenant(DevPrincipal(), "globex").ok());
}

TEST(PrincipalTest, OnlyServicesActForSomeoneElse) {
  Principal maria{.tenant = "acme", .user_id = "maria", .roles = {Role::kCreator}};
  EXPECT_EQ(*ActingUser(maria, ""), "maria");
  EXPECT_EQ(*ActingUser(maria, "maria"), "maria");
  EXPECT_EQ(ActingUser(maria, "li").status().code(), absl::StatusCode::kPermissionDenied);
  Principal svc{.tenant = "acme", .user_id = "crm", .roles = {Role::kService}};
  EXPECT_EQ(*ActingUser(svc, "li"), "li");
}

}  // namespace
}  // namespace flywheel::auth
