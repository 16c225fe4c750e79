// The options of issue 17 (--border auto, --plan, --partitions): parsed from the command line and a
// config file, and refused with a message naming the option.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "ptyroi/app/options.hpp"
#include "ptyroi/core/error.hpp"

namespace ptyroi {
namespace {

CommandLine parse(std::vector<std::string> args) {
  args.insert(args.begin(), "ptyroi");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

// The UsageError message of parsing and validating, or "accepted".
std::string refusal(std::vector<std::string> args) {
  try {
    validate(parse(std::move(args)).options);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(PlanOptions, BorderIsStepsOrAuto) {
  EXPECT_EQ(parse({"--input", "a.h5", "--border", "-3"}).options.border_steps, -3);
  EXPECT_FALSE(parse({"--input", "a.h5", "--border", "2"}).options.border_auto);
  const Options automatic = parse({"--input", "a.h5", "--border", "auto"}).options;
  EXPECT_TRUE(automatic.border_auto);
  EXPECT_EQ(automatic.border_steps, 0);
  EXPECT_EQ(roi_parameters(automatic).border_steps, 0);  // the run sets it from the probe
  const std::string config = ::testing::TempDir() + "ptyroi_plan_options.cfg";
  std::ofstream(config) << "input = a.h5\nborder = auto\nplan = fine.csv\nplan-step = 5e-8\npartitions = 4\n";
  const Options o = parse({"--config", config}).options;
  EXPECT_TRUE(o.border_auto);
  EXPECT_EQ(o.plan_file, "fine.csv");
  EXPECT_DOUBLE_EQ(o.plan_step_m, 5e-8);
  EXPECT_EQ(o.partitions, 4);
  for (const std::string bad : {"automatic", "1.5", "2x", "20000"}) {
    EXPECT_NE(refusal({"--input", "a.h5", "--border", bad}).find("--border '" + bad + "'"), std::string::npos) << bad;
  }
}

TEST(PlanOptions, PlanNeedsAStepAndAPattern) {
  const Options o =
      parse({"--input", "a.h5", "--plan", "f.csv", "--plan-step", "2.5e-8", "--plan-pattern", "spiral"}).options;
  EXPECT_NO_THROW(validate(o));
  EXPECT_EQ(o.plan_pattern, "spiral");
  EXPECT_NE(refusal({"--input", "a.h5", "--plan", "f.csv"}).find("--plan needs --plan-step"), std::string::npos);
  EXPECT_NE(refusal({"--input", "a.h5", "--plan-step", "1e-8"}).find("--plan-step needs --plan"), std::string::npos);
  EXPECT_NE(refusal({"--input", "a.h5", "--plan", "f.csv", "--plan-step", "0"}).find("--plan-step must be a positive"),
            std::string::npos);
  EXPECT_NE(refusal({"--input", "a.h5", "--plan", "f.csv", "--plan-step", "1e-8", "--plan-pattern", "zigzag"})
                .find("--plan-pattern 'zigzag'"),
            std::string::npos);
  EXPECT_NE(refusal({"--input-list", "l.txt", "--plan", "f.csv", "--plan-step", "1e-8"}).find("--input-list"),
            std::string::npos);
}

TEST(PlanOptions, PartitionsHaloAndFiles) {
  const Options o =
      parse({"--input", "a.h5", "--partitions", "8", "--halo", "1e-7", "--partition-files", "--output", "r.h5"})
          .options;
  EXPECT_NO_THROW(validate(o));
  EXPECT_EQ(o.partitions, 8);
  EXPECT_DOUBLE_EQ(o.halo_m, 1e-7);
  EXPECT_TRUE(o.partition_files);
  EXPECT_LT(parse({"--input", "a.h5", "--partitions", "8"}).options.halo_m, 0.0);  // default: 2 steps
  EXPECT_NE(refusal({"--input", "a.h5", "--partitions", "0"}).find("--partitions 0"), std::string::npos);
  EXPECT_NE(refusal({"--input", "a.h5", "--partitions", "-2"}).find("--partitions -2"), std::string::npos);
  EXPECT_NE(refusal({"--input", "a.h5", "--halo", "1e-7"}).find("--halo needs --partitions"), std::string::npos);
  EXPECT_NE(refusal({"--input", "a.h5", "--partitions", "2", "--halo", "-1"}).find("--halo must be"),
            std::string::npos);
  EXPECT_NE(refusal({"--input", "a.h5", "--partition-files"}).find("--partition-files needs --partitions"),
            std::string::npos);
  EXPECT_NE(refusal({"--input", "a.h5", "--partitions", "2", "--partition-files"}).find("needs --output"),
            std::string::npos);
}

}  // namespace
}  // namespace ptyroi
