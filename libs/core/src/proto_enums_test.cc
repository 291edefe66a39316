#include "flywheel/core/proto_enums.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "proto_enums_test.pb.h"

namespace flywheel {
namespace {

using ::flywheel::coretest::Color;
using ::flywheel::coretest::Leaf;
using ::flywheel::coretest::Tree;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr Color kRed = coretest::COLOR_RED;
constexpr Color kBlue = coretest::COLOR_BLUE;
// Proto3 enums are open: a decoded message keeps numbers its enum lacks.
Color Undefined(int number) { return static_cast<Color>(number); }

std::string NotDefined(int number) {
  return std::to_string(number) + " is not a defined flywheel.coretest.Color";
}

// Every kind of place holding a defined value.
Tree Valid() {
  Tree tree;
  tree.set_color(kRed);
  tree.mutable_leaf()->set_color(kBlue);
  tree.mutable_leaf()->add_colors(kRed);
  tree.add_leaves()->set_color(kRed);
  tree.add_colors(kBlue);
  (*tree.mutable_color_by_name())["a"] = kRed;
  (*tree.mutable_leaf_by_name())["a"].set_color(kBlue);
  (*tree.mutable_color_by_number())[3] = kBlue;
  tree.set_chosen_color(kRed);
  tree.set_name("x");
  return tree;
}

TEST(UndefinedEnumValuesTest, DefinedValuesAndEmptyMessagesPass) {
  EXPECT_THAT(UndefinedEnumValues(Valid()), IsEmpty());
  EXPECT_THAT(UndefinedEnumValues(Tree()), IsEmpty());
  Tree unspecified;
  unspecified.add_colors(coretest::COLOR_UNSPECIFIED);
  unspecified.set_chosen_color(coretest::COLOR_UNSPECIFIED);
  EXPECT_THAT(UndefinedEnumValues(unspecified), IsEmpty());
}

TEST(UndefinedEnumValuesTest, ReportsEveryPlaceWithItsPathInFieldOrder) {
  Tree tree = Valid();
  tree.set_color(Undefined(99));
  tree.mutable_leaf()->set_color(Undefined(5));
  tree.mutable_leaf()->add_colors(Undefined(6));  // index 1, after a valid one
  tree.add_leaves();
  tree.add_leaves()->add_colors(Undefined(7));  // leaves[2].colors[0]
  tree.add_colors(Undefined(42));               // colors[1]
  (*tree.mutable_color_by_name())["b"] = Undefined(8);
  (*tree.mutable_color_by_name())["c"] = Undefined(9);
  (*tree.mutable_leaf_by_name())["z"].set_color(Undefined(10));
  (*tree.mutable_color_by_number())[12] = Undefined(11);
  (*tree.mutable_color_by_number())[2] = Undefined(12);

  EXPECT_THAT(UndefinedEnumValues(tree),
              ElementsAre(FieldViolation{"color", NotDefined(99)},
                          FieldViolation{"leaf.color", NotDefined(5)},
                          FieldViolation{"leaf.colors[1]", NotDefined(6)},
                          FieldViolation{"leaves[2].colors[0]", NotDefined(7)},
                          FieldViolation{"colors[1]", NotDefined(42)},
                          FieldViolation{"color_by_name.b", NotDefined(8)},
                          FieldViolation{"color_by_name.c", NotDefined(9)},
                          FieldViolation{"leaf_by_name.z.color", NotDefined(10)},
                          // Integer keys in numeric order.
                          FieldViolation{"color_by_number.2", NotDefined(12)},
                          FieldViolation{"color_by_number.12", NotDefined(11)}));
}

TEST(UndefinedEnumValuesTest, OneofMembers) {
  Tree tree;
  tree.set_chosen_color(Undefined(3));
  EXPECT_THAT(UndefinedEnumValues(tree),
              ElementsAre(FieldViolation{"chosen_color", NotDefined(3)}));
  tree.mutable_chosen_leaf()->set_color(Undefined(4));
  EXPECT_THAT(UndefinedEnumValues(tree),
              ElementsAre(FieldViolation{"chosen_leaf.color", NotDefined(4)}));
}

TEST(UndefinedEnumValuesTest, ValuesDecodedFromTheWireAreFound) {
  Tree sent;
  sent.set_color(Undefined(99));
  sent.add_colors(kRed);
  sent.add_colors(Undefined(42));
  Tree received;
  ASSERT_TRUE(received.ParseFromString(sent.SerializeAsString()));
  EXPECT_THAT(UndefinedEnumValues(received),
              ElementsAre(FieldViolation{"color", NotDefined(99)},
                          FieldViolation{"colors[1]", NotDefined(42)}));
}

TEST(CheckEnumsDefinedTest, AddsViolationsBehindThePrefix) {
  Tree tree;
  tree.mutable_leaf()->set_color(Undefined(99));
  FieldErrors errors;
  errors.Add("name", "is required");
  CheckEnumsDefined(tree, errors, "spec");
  EXPECT_THAT(errors.violations(), ElementsAre(FieldViolation{"name", "is required"},
                                               FieldViolation{"spec.leaf.color", NotDefined(99)}));
  EXPECT_EQ(errors.ToStatus().code(), absl::StatusCode::kInvalidArgument);

  FieldErrors none;
  CheckEnumsDefined(Valid(), none);
  EXPECT_TRUE(none.empty());
}

TEST(ClearUndefinedEnumsTest, TreatsUndefinedValuesAsUnspecified) {
  Tree tree = Valid();
  tree.set_color(Undefined(99));
  tree.mutable_leaf()->clear_colors();
  tree.mutable_leaf()->add_colors(Undefined(6));
  tree.mutable_leaf()->add_colors(kBlue);
  tree.add_colors(Undefined(42));
  tree.add_colors(kRed);
  (*tree.mutable_color_by_name())["b"] = Undefined(8);
  (*tree.mutable_leaf_by_name())["z"].set_color(Undefined(10));
  tree.set_chosen_color(Undefined(3));

  std::vector<FieldViolation> cleared = ClearUndefinedEnums(tree);
  EXPECT_EQ(cleared.size(), 6u);
  EXPECT_EQ(cleared[0], (FieldViolation{"color", NotDefined(99)}));

  EXPECT_EQ(tree.color(), coretest::COLOR_UNSPECIFIED);
  EXPECT_THAT(tree.leaf().colors(), ElementsAre(kBlue));
  EXPECT_THAT(tree.colors(), ElementsAre(kBlue, kRed));
  EXPECT_EQ(tree.color_by_name().at("a"), kRed);
  EXPECT_EQ(tree.color_by_name().at("b"), coretest::COLOR_UNSPECIFIED);
  EXPECT_EQ(tree.leaf_by_name().at("z").color(), coretest::COLOR_UNSPECIFIED);
  EXPECT_EQ(tree.leaf_by_name().at("a").color(), kBlue);
  EXPECT_EQ(tree.choice_case(), Tree::CHOICE_NOT_SET);
  EXPECT_EQ(tree.name(), "x");
  EXPECT_THAT(UndefinedEnumValues(tree), IsEmpty());
  EXPECT_THAT(ClearUndefinedEnums(tree), IsEmpty());

  Tree valid = Valid();
  EXPECT_THAT(ClearUndefinedEnums(valid), IsEmpty());
  EXPECT_EQ(valid.SerializeAsString(), Valid().SerializeAsString());
}

}  // namespace
}  // namespace flywheel

namespace flywheel {
namespace {

TEST(ShortEnumNameTest, LowerCaseWithoutThePrefix) {
  EXPECT_EQ(ShortEnumName(coretest::COLOR_RED), "red");
  EXPECT_EQ(ShortEnumName(coretest::COLOR_UNSPECIFIED), "unspecified");
  EXPECT_EQ(ShortEnumName(static_cast<coretest::Color>(99)), "");
}

}  // namespace
}  // namespace flywheel
