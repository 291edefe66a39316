#include "flywheel/config/policy_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "flywheel/core/id.h"
#include "policy_reader_test.pb.h"

namespace flywheel::config {
namespace {

using configtest::RiskLevel;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The problems a read of `yaml` (named p.yaml) records, one per element,
// without the `invalid policy, N problems:` line; empty when it succeeds.
template <typename Read>
std::vector<std::string> ProblemsOf(const std::string& yaml, Read read) {
  auto result = ReadPolicy(yaml, "p.yaml", read);
  if (result.ok()) return {};
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> lines;
  std::string message(result.status().message());
  size_t start = 0;
  while (start <= message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    lines.push_back(message.substr(start, end - start));
    start = end + 1;
  }
  lines.erase(lines.begin());  // the count
  return lines;
}

TEST(PolicyReaderTest, ReadsTypedValues) {
  struct Out {
    std::string name;
    int64_t limit = 0;
    bool on = false;
    absl::Duration wait;
    std::vector<std::string> tags;
    std::optional<int64_t> absent;
  };
  auto out = ReadPolicy("name: demo\nlimit: 7\non: yes\nwait: 1d12h\ntags: [a, b]\n", "p.yaml",
                        [](const PolicyNode& root) {
                          root.Keys({"name", "limit", "on", "wait", "tags", "other"});
                          Out o;
                          o.name = root.Required("name").String().value_or("");
                          o.limit = root["limit"].Int(InRange(1, 10)).value_or(0);
                          o.on = root["on"].Bool().value_or(false);
                          o.wait = root["wait"].Duration().value_or(absl::ZeroDuration());
                          o.tags = root["tags"].Strings();
                          o.absent = root["other"].Int();
                          return o;
                        });
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->name, "demo");
  EXPECT_EQ(out->limit, 7);
  EXPECT_TRUE(out->on);
  EXPECT_EQ(out->wait, absl::Hours(36));
  EXPECT_THAT(out->tags, ElementsAre("a", "b"));
  EXPECT_FALSE(out->absent.has_value());
}

TEST(PolicyReaderTest, UnknownKeySuggestsTheNearestKnownOne) {
  auto read = [](const PolicyNode& root) {
    root.Keys({"owner_role", "stage", "sla"});
    return 0;
  };
  EXPECT_THAT(ProblemsOf("stgae: x\nsal: 1h\nowner: me\ncolour: red\n", read),
              ElementsAre("p.yaml:1: stgae: unknown key; did you mean 'stage'?",
                          "p.yaml:2: sal: unknown key; did you mean 'sla'?",
                          "p.yaml:3: owner: unknown key; did you mean 'owner_role'?",
                          "p.yaml:4: colour: unknown key; expected one of owner_role, stage, sla"));
}

TEST(PolicyReaderTest, TwoKeysAsNearGetNoGuess) {
  auto read = [](const PolicyNode& root) {
    root.Keys({"p1", "p2"});
    return 0;
  };
  EXPECT_THAT(ProblemsOf("p0: x\n", read),
              ElementsAre("p.yaml:1: p0: unknown key; expected one of p1, p2"));
}

TEST(PolicyReaderTest, RetiredKeyGetsItsOwnProblem) {
  auto read = [](const PolicyNode& root) {
    for (const PolicyNode& type : root["types"].List()) {
      type.Keys({"id"}, {{"template", "is chosen elsewhere now"}});
    }
    return 0;
  };
  EXPECT_THAT(ProblemsOf("types:\n  - id: a\n    template: t\n", read),
              ElementsAre("p.yaml:3: types[0].template: is chosen elsewhere now"));
}

TEST(PolicyReaderTest, EveryProblemOfAFileIsReportedAtOnceInLineOrder) {
  const std::string yaml = R"(teams:
  - id: social
    members:
      - {id: dev, wip_limit: 0}
      - {id: eve, on_leave: maybe}
  - id: ""
    strategy: random
limit: many
)";
  auto read = [](const PolicyNode& root) {
    root.Keys({"teams", "limit"});
    // Read out of file order: problems still come sorted by line.
    root["limit"].Int();
    for (const PolicyNode& team : root.Required("teams").NonEmptyList()) {
      team.Keys({"id", "strategy", "members"});
      team.Required("id").String();
      team["strategy"].String(OneOf({"least_loaded", "round_robin"}));
      for (const PolicyNode& m : team["members"].List()) {
        m.Keys({"id", "wip_limit", "on_leave"});
        m["wip_limit"].Int(InRange(1, 1000));
        m["on_leave"].Bool();
      }
    }
    root.Required("tiering");
    return 0;
  };
  EXPECT_THAT(
      ProblemsOf(yaml, read),
      ElementsAre("p.yaml:1: tiering: is required",
                  "p.yaml:4: teams[0].members[0].wip_limit: must be between 1 and 1000, got \"0\"",
                  "p.yaml:5: teams[0].members[1].on_leave: must be true or false, got \"maybe\"",
                  "p.yaml:6: teams[1].id: must not be empty, got \"\"",
                  "p.yaml:7: teams[1].strategy: must be one of least_loaded, round_robin, got "
                  "\"random\"",
                  "p.yaml:8: limit: must be an integer, got \"many\""));
  auto whole = ReadPolicy(yaml, "p.yaml", read);
  EXPECT_THAT(std::string(whole.status().message()),
              ::testing::StartsWith("invalid policy, 6 problems:\n"));
}

TEST(PolicyReaderTest, BooleansSpeakConfigsDialect) {
  for (const char* yes : {"true", "True", "yes", "on", "1"}) {
    auto b = ReadPolicy(std::string("b: ") + yes, "p.yaml",
                        [](const PolicyNode& root) { return root["b"].Bool(); });
    ASSERT_TRUE(b.ok()) << yes;
    EXPECT_EQ(*b, true) << yes;
  }
  for (const char* no : {"false", "FALSE", "no", "off", "0"}) {
    auto b = ReadPolicy(std::string("b: ") + no, "p.yaml",
                        [](const PolicyNode& root) { return root["b"].Bool(); });
    ASSERT_TRUE(b.ok()) << no;
    EXPECT_EQ(*b, false) << no;
  }
  EXPECT_THAT(ProblemsOf("b: [true]\n", [](const PolicyNode& root) { return root["b"].Bool(); }),
              ElementsAre("p.yaml:1: b: must be true or false, got \"[true]\""));
}

TEST(PolicyReaderTest, DurationsTakeUnitsUpToDays) {
  auto read = [](const std::string& text) {
    return ReadPolicy("d: " + text, "p.yaml",
                      [](const PolicyNode& root) { return root["d"].Duration(); });
  };
  EXPECT_EQ(**read("250ms"), absl::Milliseconds(250));
  EXPECT_EQ(**read("90s"), absl::Seconds(90));
  EXPECT_EQ(**read("15m"), absl::Minutes(15));
  EXPECT_EQ(**read("2h"), absl::Hours(2));
  EXPECT_EQ(**read("3d"), absl::Hours(72));
  EXPECT_EQ(**read("1d12h"), absl::Hours(36));
  EXPECT_EQ(**read("1h30m"), absl::Minutes(90));
  for (const char* bad : {"5", "soon", "1.5d", "1d-2h", "d", "inf"}) {
    EXPECT_THAT(read(bad).status().message(),
                HasSubstr(std::string("p.yaml:1: d: must be a duration like 250ms, 90s, 15m, 2h "
                                      "or 3d, got \"") +
                          bad + "\""))
        << bad;
  }
  EXPECT_THAT(read("-5m").status().message(), HasSubstr("d: must not be negative, got \"-5m\""));
  auto positive = ReadPolicy("d: 0s", "p.yaml",
                             [](const PolicyNode& root) { return root["d"].Duration(Positive()); });
  EXPECT_THAT(positive.status().message(), HasSubstr("d: must be greater than 0, got \"0s\""));
}

TEST(PolicyReaderTest, EnumsAreReadThroughTheirDescriptor) {
  auto read = [](const std::string& text) {
    return ReadPolicy("level: " + text, "p.yaml",
                      [](const PolicyNode& root) { return root["level"].Enum<RiskLevel>(); });
  };
  for (const char* name : {"low", "LOW", "Low", "risk_level_low", "RISK_LEVEL_LOW"}) {
    auto level = read(name);
    ASSERT_TRUE(level.ok()) << name << ": " << level.status();
    EXPECT_EQ(*level, configtest::RISK_LEVEL_LOW) << name;
  }
  EXPECT_EQ(**read("very_high"), configtest::RISK_LEVEL_VERY_HIGH);
  EXPECT_THAT(read("unspecified").status().message(),
              HasSubstr("p.yaml:1: level: unknown risk level \"unspecified\"; expected low, high "
                        "or very_high"));
  EXPECT_THAT(read("hihg").status().message(),
              HasSubstr("level: unknown risk level \"hihg\"; did you mean 'high'?"));
  EXPECT_THAT(read("hig").status().message(),
              HasSubstr("level: unknown risk level \"hig\"; did you mean 'high'?"));
  EXPECT_THAT(read("MEDIUM").status().message(),
              HasSubstr("unknown risk level \"MEDIUM\"; expected LOW, HIGH or VERY_HIGH"));
}

TEST(PolicyReaderTest, ListsAndMapsNameTheirItems) {
  const std::string yaml = R"(types:
  - id: a
    fields: [{key: x}, {key: 7, kind: [no]}]
  - just a string
levels: {low: 1, extreme: 2, low: 3}
)";
  auto read = [](const PolicyNode& root) {
    std::vector<std::string> seen;
    for (const PolicyNode& type : root["types"].List()) {
      type.Keys({"id", "fields"});
      for (const PolicyNode& field : type["fields"].List()) {
        field.Keys({"key", "kind"});
        field["kind"].String();
        seen.push_back(field.path());
      }
    }
    for (const auto& [key, value] : root["levels"].Entries()) {
      key.Enum<RiskLevel>();
      seen.push_back(value.path());
    }
    return seen;
  };
  EXPECT_THAT(
      ProblemsOf(yaml, read),
      ElementsAre("p.yaml:3: types[0].fields[1].kind: must be a single value, not a list or "
                  "mapping, got \"[no]\"",
                  "p.yaml:4: types[1]: must be a mapping",
                  "p.yaml:5: levels.low: is given twice (first at line 5)",
                  "p.yaml:5: levels.extreme: unknown risk level \"extreme\"; expected low, high "
                  "or very_high"));
}

TEST(PolicyReaderTest, AWrongShapeIsReportedOnceNotForEveryKeyBelowIt) {
  auto read = [](const PolicyNode& root) {
    PolicyNode tiering = root.Required("tiering");
    tiering.Keys({"rules"});
    tiering.Required("rules");
    tiering["default"].Required("tier");
    PolicyNode absent = root["absent"];
    absent.Required("deeper");
    return 0;
  };
  EXPECT_THAT(ProblemsOf("tiering: [a, b]\n", read),
              ElementsAre("p.yaml:1: tiering: must be a mapping"));
}

TEST(PolicyReaderTest, TheTopLevelMustBeAMapping) {
  auto read = [](const PolicyNode& root) {
    root.Keys({"a"});
    root.Required("a");
    return 0;
  };
  EXPECT_THAT(ProblemsOf("- a\n- b\n", read),
              ElementsAre("p.yaml:1: the top level must be a mapping of keys to values"));
  EXPECT_THAT(ProblemsOf("", read), ElementsAre("p.yaml:1: a: is required"));
}

TEST(PolicyReaderTest, RequiredSaysWhy) {
  auto read = [](const PolicyNode& root) {
    root.Required("tenants", "list the tenants allowed to submit").NonEmptyList();
    root.Required("types").NonEmptyList();
    return 0;
  };
  EXPECT_THAT(ProblemsOf("types: []\n", read),
              ElementsAre("p.yaml:1: tenants: is required: list the tenants allowed to submit",
                          "p.yaml:1: types: must be a non-empty list"));
}

TEST(PolicyReaderTest, AnEmptyItemOrEntryIsAProblem) {
  auto read = [](const PolicyNode& root) {
    root["tags"].Strings();
    for (const auto& [key, value] : root["tiers"].Entries()) value.String();
    return 0;
  };
  EXPECT_THAT(ProblemsOf("tags: [a, ~]\ntiers:\n  exec:\n", read),
              ElementsAre("p.yaml:1: tags[1]: must not be empty",
                          "p.yaml:3: tiers.exec: must not be empty"));
}

TEST(PolicyReaderTest, CallersAddTheirOwnProblems) {
  auto read = [](const PolicyNode& root) {
    PolicyNode team = root["team"];
    if (team.String() != "social") team.Problem("unknown team \"video\"");
    return 0;
  };
  EXPECT_THAT(ProblemsOf("\n\nteam: video\n", read),
              ElementsAre("p.yaml:3: team: unknown team \"video\""));
}

TEST(PolicyReaderTest, BadYamlIsInvalidArgumentWithFileAndLine) {
  auto result = ReadPolicy("a: 1\nb: [unclosed\n", "p.yaml", [](const PolicyNode&) { return 0; });
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("invalid policy, 1 problem:\np.yaml:"));
  EXPECT_THAT(result.status().message(), HasSubstr(": invalid YAML: "));
}

TEST(PolicyReaderTest, AFileThatCannotBeReadIsFailedPrecondition) {
  const std::string missing = ::testing::TempDir() + "/no_such_policy_" + NewRandomId() + ".yaml";
  auto result = LoadPolicy(missing, [](const PolicyNode&) { return 0; });
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(result.status().message(),
            "policy file " + missing + ": cannot open: No such file or directory");

  auto directory = LoadPolicy(::testing::TempDir(), [](const PolicyNode&) { return 0; });
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(PolicyReaderTest, LoadPolicyNamesTheFileInProblems) {
  const std::string path = ::testing::TempDir() + "/policy_" + NewRandomId() + ".yaml";
  std::ofstream(path) << "limit: 0\n";
  auto read = [](const PolicyNode& root) { return root["limit"].Int(InRange(1, 9)); };
  auto result = LoadPolicy(path, read);
  std::remove(path.c_str());
  EXPECT_EQ(result.status().message(), "invalid policy, 1 problem:\n" + path +
                                           ":1: limit: must be between 1 and 9, got \"0\"");
}

}  // namespace
}  // namespace flywheel::config
