#include "flywheel/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "flywheel/core/id.h"
#include "flywheel/log/log.h"

namespace flywheel::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

// A YAML file in the test's temp dir, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& text)
      : path_(::testing::TempDir() + "/flywheel_config_" + NewRandomId() + ".yaml") {
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Config MustLoad(const std::string& path, Env env = {}) {
  absl::StatusOr<Config> cfg = Config::Load(path, std::move(env));
  EXPECT_TRUE(cfg.ok()) << cfg.status();
  return *std::move(cfg);
}

constexpr char kIntake[] = R"(
kafka:
  bootstrap_servers: kafka-0:9092
  topics: [requests, dead-letters]
grpc:
  listen: 0.0.0.0:50051
  port: 50051
  deadline: 250ms
  reflection: yes
scoring:
  decay: 0.5
log:
  level: warn
)";

TEST(EnvNameTest, UppercasesAndTurnsDotsIntoUnderscores) {
  EXPECT_EQ(EnvName("kafka.bootstrap_servers"), "FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS");
  EXPECT_EQ(EnvName("grpc.listen"), "FLYWHEEL_GRPC_LISTEN");
}

TEST(ConfigTest, ReadsEveryTypeFromTheFile) {
  TempFile file(kIntake);
  Config cfg = MustLoad(file.path());
  EXPECT_EQ(cfg.Required("kafka.bootstrap_servers"), "kafka-0:9092");
  EXPECT_THAT(cfg.Required<std::vector<std::string>>("kafka.topics"),
              ElementsAre("requests", "dead-letters"));
  EXPECT_EQ(cfg.Get<std::string>("grpc.listen", ""), "0.0.0.0:50051");
  EXPECT_EQ(cfg.Get<int64_t>("grpc.port", 1), 50051);
  EXPECT_EQ(cfg.Get<absl::Duration>("grpc.deadline", absl::Seconds(1)), absl::Milliseconds(250));
  EXPECT_TRUE(cfg.Get<bool>("grpc.reflection", false));
  EXPECT_DOUBLE_EQ(cfg.Get<double>("scoring.decay", 1.0), 0.5);
  EXPECT_EQ(cfg.Get<log::Level>("log.level", log::Level::kInfo), log::Level::kWarn);
  EXPECT_TRUE(cfg.Check().ok()) << cfg.Check();
  EXPECT_EQ(cfg.file(), file.path());
}

TEST(ConfigTest, EnvironmentOverridesWinOverTheFile) {
  TempFile file(kIntake);
  Config cfg = MustLoad(file.path(), {{"FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS", "k1:9092"},
                                      {"FLYWHEEL_GRPC_PORT", "6000"},
                                      {"FLYWHEEL_GRPC_DEADLINE", "2s"},
                                      {"FLYWHEEL_GRPC_REFLECTION", "off"},
                                      {"FLYWHEEL_SCORING_DECAY", "0.25"},
                                      {"FLYWHEEL_LOG_LEVEL", "debug"},
                                      {"FLYWHEEL_KAFKA_TOPICS", " a , b,,c "}});
  EXPECT_EQ(cfg.Required("kafka.bootstrap_servers"), "k1:9092");
  EXPECT_EQ(cfg.Get<int64_t>("grpc.port", 1), 6000);
  EXPECT_EQ(cfg.Get<absl::Duration>("grpc.deadline", absl::ZeroDuration()), absl::Seconds(2));
  EXPECT_FALSE(cfg.Get<bool>("grpc.reflection", true));
  EXPECT_DOUBLE_EQ(cfg.Get<double>("scoring.decay", 1.0), 0.25);
  EXPECT_EQ(cfg.Get<log::Level>("log.level", log::Level::kInfo), log::Level::kDebug);
  EXPECT_THAT(cfg.Get<std::vector<std::string>>("kafka.topics", {}), ElementsAre("a", "b", "c"));
  EXPECT_EQ(cfg.Get<std::string>("grpc.listen", ""), "0.0.0.0:50051");  // not overridden
  EXPECT_TRUE(cfg.Check().ok()) << cfg.Check();
}

TEST(ConfigTest, EnvironmentSetsKeysTheFileDoesNotHave) {
  TempFile file("grpc:\n  port: 1\n");
  Config cfg = MustLoad(file.path(), {{"FLYWHEEL_REDIS_ADDRESS", "127.0.0.1:6379"}});
  EXPECT_EQ(cfg.Required("redis.address", HostPort()), "127.0.0.1:6379");
  EXPECT_EQ(cfg.Get<int64_t>("grpc.port", 0), 1);
  EXPECT_TRUE(cfg.Check().ok()) << cfg.Check();
}

TEST(ConfigTest, UnderscoresInsideKeysMapToTheirOwnVariable) {
  // `a.b_c` and `a_b.c` share a variable name; the lookup goes key -> name, so
  // each declared key simply reads it.
  TempFile file("kafka:\n  bootstrap_servers: from-file:1\n");
  Config cfg = MustLoad(file.path(), {{"FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS", "from-env:2"}});
  EXPECT_EQ(cfg.Required("kafka.bootstrap_servers"), "from-env:2");
}

TEST(ConfigTest, DefaultsApplyWhenUnsetOrNull) {
  TempFile file("grpc:\n  port:\n");
  Config cfg = MustLoad(file.path());
  EXPECT_EQ(cfg.Get<int64_t>("grpc.port", 50051), 50051);
  EXPECT_EQ(cfg.Get<std::string>("grpc.listen", "[::]:50051"), "[::]:50051");
  EXPECT_EQ(cfg.Get<absl::Duration>("grpc.deadline", absl::Seconds(3)), absl::Seconds(3));
  EXPECT_THAT(cfg.Get<std::vector<std::string>>("kafka.topics", {"x"}), ElementsAre("x"));
  EXPECT_EQ(cfg.Optional<int64_t>("redis.db"), std::nullopt);
  EXPECT_TRUE(cfg.Check().ok()) << cfg.Check();
}

TEST(ConfigTest, DefaultIsNotCheckedAgainstRules) {
  Config cfg = *Config::FromString("", "", {});
  EXPECT_EQ(cfg.Get<int64_t>("grpc.port", 0, InRange(1, 65535)), 0);
  EXPECT_TRUE(cfg.Check().ok());
}

TEST(ConfigTest, EmptyFileIsAnEmptyConfig) {
  TempFile file("");
  Config cfg = MustLoad(file.path());
  EXPECT_EQ(cfg.Get<int64_t>("grpc.port", 7), 7);
  EXPECT_TRUE(cfg.Check().ok());
}

TEST(ConfigTest, ParsesDurations) {
  Config cfg = *Config::FromString("", "",
                                   {{"FLYWHEEL_A", "250ms"},
                                    {"FLYWHEEL_B", "2s"},
                                    {"FLYWHEEL_C", "1m"},
                                    {"FLYWHEEL_D", "1h30m"},
                                    {"FLYWHEEL_E", "1.5s"},
                                    {"FLYWHEEL_F", "3d"},
                                    {"FLYWHEEL_G", "1d12h"}});
  EXPECT_EQ(cfg.Required<absl::Duration>("a"), absl::Milliseconds(250));
  EXPECT_EQ(cfg.Required<absl::Duration>("b"), absl::Seconds(2));
  EXPECT_EQ(cfg.Required<absl::Duration>("c"), absl::Minutes(1));
  EXPECT_EQ(cfg.Required<absl::Duration>("d"), absl::Minutes(90));
  EXPECT_EQ(cfg.Required<absl::Duration>("e"), absl::Milliseconds(1500));
  EXPECT_EQ(cfg.Required<absl::Duration>("f"), absl::Hours(72));
  EXPECT_EQ(cfg.Required<absl::Duration>("g"), absl::Hours(36));
  EXPECT_TRUE(cfg.Check().ok()) << cfg.Check();
}

TEST(ConfigTest, RejectsDurationsWithoutUnits) {
  for (const char* bad : {"5", "fast", "inf", "2 s"}) {
    Config cfg = *Config::FromString("", "", {{"FLYWHEEL_T", bad}});
    cfg.Get<absl::Duration>("t", absl::Seconds(1));
    EXPECT_EQ(cfg.Check().message(),
              std::string("config: t: must be a duration like 250ms, 90s, 15m, 2h or 3d, got \"") +
                  bad + "\" (from FLYWHEEL_T)");
  }
}

TEST(ConfigTest, ParsesBools) {
  for (const char* yes : {"true", "True", "yes", "on", "1"}) {
    Config cfg = *Config::FromString("", "", {{"FLYWHEEL_B", yes}});
    EXPECT_TRUE(cfg.Get<bool>("b", false)) << yes;
    EXPECT_TRUE(cfg.Check().ok()) << yes;
  }
  for (const char* no : {"false", "FALSE", "no", "off", "0"}) {
    Config cfg = *Config::FromString("", "", {{"FLYWHEEL_B", no}});
    EXPECT_FALSE(cfg.Get<bool>("b", true)) << no;
    EXPECT_TRUE(cfg.Check().ok()) << no;
  }
  Config cfg = *Config::FromString("", "", {{"FLYWHEEL_B", "maybe"}});
  EXPECT_TRUE(cfg.Get<bool>("b", true));  // the default, and an error
  EXPECT_EQ(cfg.Check().message(),
            "config: b: must be true or false, got \"maybe\" (from FLYWHEEL_B)");
}

TEST(ConfigTest, ParsesNumbers) {
  Config cfg = *Config::FromString("i: -42\nd: 1e-3\n", "n.yaml", {});
  EXPECT_EQ(cfg.Required<int64_t>("i"), -42);
  EXPECT_DOUBLE_EQ(cfg.Required<double>("d"), 0.001);
  EXPECT_TRUE(cfg.Check().ok()) << cfg.Check();
}

TEST(ConfigTest, ListsFromYamlAndFromEnv) {
  TempFile file("kafka:\n  brokers:\n    - a:9092\n    - b:9092\n");
  Config from_file = MustLoad(file.path());
  EXPECT_THAT(from_file.Required<std::vector<std::string>>("kafka.brokers", HostPort()),
              ElementsAre("a:9092", "b:9092"));
  EXPECT_TRUE(from_file.Check().ok()) << from_file.Check();

  Config from_env = MustLoad(file.path(), {{"FLYWHEEL_KAFKA_BROKERS", "c:1,d:2"}});
  EXPECT_THAT(from_env.Required<std::vector<std::string>>("kafka.brokers", HostPort()),
              ElementsAre("c:1", "d:2"));
  EXPECT_TRUE(from_env.Check().ok()) << from_env.Check();
}

TEST(ConfigTest, ListMustBeASequenceInTheFile) {
  TempFile file("kafka:\n  brokers: a:9092\n");
  Config cfg = MustLoad(file.path());
  cfg.Get<std::vector<std::string>>("kafka.brokers", {});
  EXPECT_EQ(cfg.Check().message(),
            "config: kafka.brokers: must be a list of strings, got \"a:9092\" (from " +
                file.path() + ":2:12)");
}

TEST(ConfigTest, MissingRequiredNamesFileAndVariable) {
  Config cfg = *Config::FromString("grpc:\n  port: 1\n", "/etc/flywheel/intake.yaml", {});
  cfg.Get<int64_t>("grpc.port", 0);
  cfg.Required("kafka.bootstrap_servers");
  absl::Status st = cfg.Check();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "config: kafka.bootstrap_servers: required but not set (file "
            "/etc/flywheel/intake.yaml or FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS)");
}

TEST(ConfigTest, RequiredRejectsAnEmptyValue) {
  Config cfg = *Config::FromString("", "", {{"FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS", ""}});
  cfg.Required("kafka.bootstrap_servers");
  EXPECT_EQ(cfg.Check().message(),
            "config: kafka.bootstrap_servers: required but empty (from "
            "FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS)");
}

TEST(ConfigTest, BadTypeNamesValueAndFilePosition) {
  Config cfg = *Config::FromString("grpc:\n  port: fifty\n", "intake.yaml", {});
  EXPECT_EQ(cfg.Get<int64_t>("grpc.port", 50051), 50051);
  EXPECT_EQ(cfg.Check().message(),
            "config: grpc.port: must be an integer, got \"fifty\" (from intake.yaml:2:9)");
}

TEST(ConfigTest, ScalarWhereAMappingIsNeeded) {
  Config cfg = *Config::FromString("grpc: 5\n", "intake.yaml", {});
  cfg.Get<int64_t>("grpc.port", 1);
  EXPECT_EQ(cfg.Check().message(),
            "config: grpc.port: grpc must be a mapping, got \"5\" (from intake.yaml:1:7)");
}

TEST(ConfigTest, OutOfRangeFromEnvironment) {
  Config cfg = *Config::FromString("grpc:\n  port: 50051\n", "intake.yaml",
                                   {{"FLYWHEEL_GRPC_PORT", "70000"}});
  EXPECT_EQ(cfg.Get<int64_t>("grpc.port", 50051, InRange(1, 65535)), 50051);
  EXPECT_EQ(cfg.Check().message(),
            "config: grpc.port: must be between 1 and 65535, got \"70000\" (from "
            "FLYWHEEL_GRPC_PORT)");
}

TEST(ConfigTest, OutOfRangeFromFile) {
  Config cfg = *Config::FromString("sla:\n  warn_at: 1.5\n  tick: 90s\n", "s.yaml", {});
  cfg.Get<double>("sla.warn_at", 0.8, InRange(0.0, 1.0));
  cfg.Get<absl::Duration>("sla.tick", absl::Seconds(1),
                          InRange(absl::Milliseconds(10), absl::Seconds(60)));
  EXPECT_THAT(cfg.Errors(),
              ElementsAre("config: sla.warn_at: must be between 0 and 1, got \"1.5\" (from "
                          "s.yaml:2:12)",
                          "config: sla.tick: must be between 10ms and 1m, got \"90s\" (from "
                          "s.yaml:3:9)"));
}

TEST(ConfigTest, OneOfAndNonEmpty) {
  Config cfg = *Config::FromString("mode: fast\nname: ''\n", "m.yaml", {});
  cfg.Get<std::string>("mode", "safe", OneOf({"safe", "strict"}));
  cfg.Get<std::string>("name", "x", NonEmpty());
  EXPECT_THAT(cfg.Errors(),
              ElementsAre("config: mode: must be one of safe, strict, got \"fast\" (from "
                          "m.yaml:1:7)",
                          "config: name: must not be empty, got \"\" (from m.yaml:2:7)"));
}

TEST(ConfigTest, UnknownKeyIsReportedWithItsPosition) {
  Config cfg = *Config::FromString("grpc:\n  port: 1\n  prot: 2\n", "intake.yaml", {});
  cfg.Get<int64_t>("grpc.port", 0);
  EXPECT_EQ(cfg.Check().message(),
            "config: grpc.prot: unknown key, nothing reads it (from intake.yaml:3:3)");
}

TEST(ConfigTest, UnknownWholeSectionIsReported) {
  Config cfg = *Config::FromString("grpc:\n  port: 1\nredsi:\n  db: 0\n", "i.yaml", {});
  cfg.Get<int64_t>("grpc.port", 0);
  EXPECT_EQ(cfg.Check().message(),
            "config: redsi.db: unknown key, nothing reads it (from i.yaml:4:3)");
}

TEST(ConfigTest, GetterErrorsComeBeforeUnknownKeys) {
  Config cfg = *Config::FromString("zzz: 1\ngrpc:\n  port: x\n", "i.yaml", {});
  cfg.Get<int64_t>("grpc.port", 0);
  EXPECT_THAT(cfg.Errors(), ElementsAre(StartsWith("config: grpc.port: must be an integer"),
                                        StartsWith("config: zzz: unknown key")));
  EXPECT_THAT(std::string(cfg.Check().message()), StartsWith("config: grpc.port:"));
}

TEST(ConfigTest, BadYamlNamesFileLineAndColumn) {
  TempFile file("grpc:\n  port: 1\n  listen: [a, b\n");
  absl::StatusOr<Config> cfg = Config::Load(file.path(), {});
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(cfg.status().message()),
              StartsWith("config: " + file.path() + ":4:1: invalid YAML: "));
}

TEST(ConfigTest, BadYamlIndentation) {
  absl::StatusOr<Config> cfg = Config::FromString("a:\n  b: 1\n c: 2\n", "x.yaml", {});
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(std::string(cfg.status().message()), StartsWith("config: x.yaml:3:"));
  EXPECT_THAT(std::string(cfg.status().message()), HasSubstr("invalid YAML"));
}

TEST(ConfigTest, DuplicateKeyIsAnError) {
  absl::StatusOr<Config> cfg = Config::FromString("grpc:\n  port: 1\n  port: 2\n", "x.yaml", {});
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().message(), "config: x.yaml:3:3: invalid YAML: duplicate key grpc.port");
}

TEST(ConfigTest, MappingWhereAValueIsNeededIsShownOnOneLine) {
  Config cfg = *Config::FromString("grpc:\n  listen:\n    host: a\n    port: 1\n", "x.yaml", {});
  cfg.Get<std::string>("grpc.listen", "");
  EXPECT_EQ(cfg.Check().message(),
            "config: grpc.listen: must be a single value, not a list or mapping, got \"{host: a, "
            "port: 1}\" (from x.yaml:3:5)");
}

TEST(ConfigTest, TopLevelMustBeAMapping) {
  absl::StatusOr<Config> cfg = Config::FromString("- a\n- b\n", "x.yaml", {});
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().message(),
            "config: x.yaml:1:1: the top level must be a mapping of keys to values");
}

TEST(ConfigTest, MissingFileIsNamed) {
  std::string path = ::testing::TempDir() + "/flywheel_config_no_such_" + NewRandomId() + ".yaml";
  absl::StatusOr<Config> cfg = Config::Load(path, {});
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(cfg.status().message(), "config: " + path + ": cannot open: No such file or directory");
}

TEST(ConfigTest, RawReturnsTheSubtreeAndCoversItsKeys) {
  Config cfg = *Config::FromString(
      "request_types:\n  brief:\n    fields: [title, due]\n  asset:\n    fields: [url]\n", "t.yaml",
      {});
  std::optional<std::string> raw = cfg.Raw("request_types");
  ASSERT_TRUE(raw.has_value());
  absl::StatusOr<Config> reparsed = Config::FromString(*raw, "raw", {});
  ASSERT_TRUE(reparsed.ok()) << reparsed.status();
  EXPECT_THAT(reparsed->Required<std::vector<std::string>>("brief.fields"),
              ElementsAre("title", "due"));
  EXPECT_THAT(reparsed->Required<std::vector<std::string>>("asset.fields"), ElementsAre("url"));
  EXPECT_EQ(cfg.Raw("templates"), std::nullopt);
  EXPECT_TRUE(cfg.Check().ok()) << cfg.Check();  // nothing under request_types is unknown
}

TEST(ConfigTest, RawFromEnvironmentIsVerbatim) {
  Config cfg = *Config::FromString("", "", {{"FLYWHEEL_TEMPLATES", "{a: 1}"}});
  EXPECT_EQ(cfg.Raw("templates"), "{a: 1}");
}

TEST(ConfigTest, NoFileMeansEnvironmentOnlyInMessages) {
  Config cfg = *Config::FromString("", "", {});
  cfg.Required("grpc.listen");
  EXPECT_EQ(cfg.Check().message(),
            "config: grpc.listen: required but not set (set FLYWHEEL_GRPC_LISTEN)");
}

TEST(ConfigTest, InvalidKeyNameIsAnError) {
  Config cfg = *Config::FromString("", "", {});
  cfg.Get<int64_t>("Grpc.Port", 1);
  EXPECT_THAT(std::string(cfg.Check().message()), HasSubstr("invalid key name"));
}

TEST(ConfigTest, ValueShownOnOneLine) {
  Config cfg = *Config::FromString("", "", {{"FLYWHEEL_N", "1\n2"}});
  cfg.Get<int64_t>("n", 0);
  std::string msg(cfg.Check().message());
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_THAT(msg, HasSubstr("got \"1\\n2\""));
}

TEST(ConfigTest, ProcessEnvironmentKeepsOnlyFlywheelVariables) {
  std::string name = "FLYWHEEL_CONFIG_TEST_" + NewRandomId().substr(0, 8);
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_EQ(::setenv(name.c_str(), "v", 1), 0);
  Env env = ProcessEnvironment();
  ::unsetenv(name.c_str());
  EXPECT_EQ(env[name], "v");
  for (const auto& [k, v] : env) EXPECT_THAT(k, StartsWith("FLYWHEEL_"));
  EXPECT_EQ(env.count("PATH"), 0u);
}

// ---- the exit path, as main() uses it -------------------------------------

TEST(ConfigExitDeathTest, BadValueExitsWithCode2AndOneLine) {
  TempFile file("grpc:\n  port: 50051\n");
  EXPECT_EXIT(
      {
        Config cfg = LoadOrExit(file.path(), {{"FLYWHEEL_GRPC_PORT", "70000"}});
        cfg.Get<int64_t>("grpc.port", 50051, InRange(1, 65535));
        cfg.CheckOrExit();
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(2),
      "^config: grpc\\.port: must be between 1 and 65535, got \"70000\" \\(from "
      "FLYWHEEL_GRPC_PORT\\)\n$");
}

TEST(ConfigExitDeathTest, MissingFileExitsWithCode2) {
  std::string path = ::testing::TempDir() + "/flywheel_config_absent_" + NewRandomId() + ".yaml";
  EXPECT_EXIT(LoadOrExit(path, {}), ::testing::ExitedWithCode(2),
              "^config: .*flywheel_config_absent_.*: cannot open: No such file or directory\n$");
}

TEST(ConfigExitDeathTest, GoodConfigDoesNotExit) {
  TempFile file("grpc:\n  port: 50051\n");
  EXPECT_EXIT(
      {
        Config cfg = LoadOrExit(file.path(), {});
        cfg.Get<int64_t>("grpc.port", 1, InRange(1, 65535));
        cfg.CheckOrExit();
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "^$");
}

}  // namespace
}  // namespace flywheel::config

namespace flywheel::config {
namespace {

TEST(CheckReadTest, IgnoresKeysNotDeclaredYetButReportsBadValues) {
  auto cfg = Config::FromString("a: 1\nlater: x\n", "t.yaml", {});
  ASSERT_TRUE(cfg.ok());
  cfg->Get<int64_t>("a", 0);
  EXPECT_TRUE(cfg->CheckRead().ok());
  EXPECT_FALSE(cfg->Check().ok());  // `later` is still unknown to a full check
  cfg->Get<int64_t>("later", 0);
  EXPECT_FALSE(cfg->CheckRead().ok());  // now read, and not a number
}

}  // namespace
}  // namespace flywheel::config
