#include "flywheel/auth/role_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace flywheel::auth {
namespace {

using ::testing::HasSubstr;

const RoleTable& Table() {
  static const RoleTable table("test.v1.Service", {
                                                      {"Read", {Role::kRequester, Role::kOpsAdmin}},
                                                      {"Write", {Role::kOpsAdmin}},
                                                  });
  return table;
}

Principal With(std::vector<Role> roles) {
  return {.tenant = "acme", .user_id = "u", .roles = std::move(roles)};
}

TEST(RoleTableTest, OneRoleOfTheMethodIsEnough) {
  EXPECT_TRUE(Table().Allow(With({Role::kRequester}), "Read").ok());
  EXPECT_TRUE(Table().Allow(With({Role::kCreator, Role::kOpsAdmin}), "Write").ok());
}

TEST(RoleTableTest, AMissingRoleIsPermissionDeniedNamingTheRolesNeeded) {
  absl::Status st = Table().Allow(With({Role::kRequester}), "Write");
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(st.message(), HasSubstr("Write needs one of the roles ops-admin"));
  EXPECT_EQ(Table().Allow(With({}), "Read").code(), absl::StatusCode::kPermissionDenied);
}

TEST(RoleTableTest, AMethodNotInTheTableIsOpenToNoOne) {
  EXPECT_EQ(Table().Allow(DevPrincipal(), "Delete").code(), absl::StatusCode::kPermissionDenied);
}

TEST(RoleTableTest, DevPrincipalHoldsEveryRole) {
  EXPECT_TRUE(Table().Allow(DevPrincipal(), "Write").ok());
}

TEST(RoleTableTest, CoverageIsCheckedBothWays) {
  EXPECT_TRUE(Table().CheckCovers({"Read", "Write"}).ok());
  absl::Status st = Table().CheckCovers({"Read", "List"});
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(st.message(), HasSubstr("no roles for List"));
  EXPECT_THAT(st.message(), HasSubstr("not methods: Write"));
}

}  // namespace
}  // namespace flywheel::auth
