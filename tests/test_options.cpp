#include "ptyroi/app/options.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "ptyroi/app/follow.hpp"
#include "ptyroi/core/error.hpp"
#include "ptyroi/io/chunk_reader.hpp"

namespace ptyroi {
namespace {

CommandLine parse(std::vector<std::string> args) {
  args.insert(args.begin(), "ptyroi");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

std::string write_config(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(Options, TheIssueCommandLine) {
  const Options o = parse({"--input", "scan.h5", "--dataset", "/data", "--positions-x", "/positions_x", "--positions-y",
                           "other.h5:/y", "--grid", "85x188", "--border", "-2", "--output", "scan_roi.h5", "--summary",
                           "scan_roi.json", "--no-log", "--no-patterns"})
                        .options;
  EXPECT_EQ(o.input_file, "scan.h5");
  EXPECT_EQ(o.positions_y, "other.h5:/y");
  EXPECT_EQ(o.grid, "85x188");
  EXPECT_EQ(o.border_steps, -2);
  EXPECT_FALSE(o.use_log);
  EXPECT_FALSE(o.write_patterns);
  EXPECT_EQ(o.clusters, 2);
  EXPECT_EQ(o.iterations, 10);
  EXPECT_NO_THROW(validate(o));
}

TEST(Options, ConfigFileWithCommandLineOverride) {
  const std::string config =
      write_config("ptyroi_options.cfg", "input = a.h5\nborder = 3\nno-log = true\nclusters = 3\n");
  const Options o = parse({"--config", config, "--border", "1"}).options;
  EXPECT_EQ(o.input_file, "a.h5");
  EXPECT_EQ(o.border_steps, 1);  // the command line wins
  EXPECT_EQ(o.clusters, 3);
  EXPECT_FALSE(o.use_log);
}

TEST(Options, ErrorsNameTheOption) {
  const auto message = [](std::vector<std::string> args) {
    try {
      validate(parse(std::move(args)).options);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({"--input", "a.h5", "--bordr", "2"}).find("bordr"), std::string::npos);
  EXPECT_NE(message({"--input", "a.h5", "--grid", "12"}).find("--grid"), std::string::npos);
  EXPECT_NE(message({"--input", "a.h5", "--clusters", "1"}).find("--clusters"), std::string::npos);
  EXPECT_NE(message({"--input", "a.h5", "--border", "two"}).find("border"), std::string::npos);
  EXPECT_NE(message({"--grid", "2x2"}).find("--input"), std::string::npos);
  const std::string typo = write_config("ptyroi_typo.cfg", "input = a.h5\nbordr = 2\n");
  const std::string typo_message = message({"--config", typo});
  EXPECT_NE(typo_message.find("bordr"), std::string::npos) << typo_message;
  EXPECT_NE(typo_message.find("ptyroi_typo.cfg"), std::string::npos) << typo_message;
  EXPECT_NE(message({"--config", "/nonexistent/ptyroi.cfg"}).find("/nonexistent/ptyroi.cfg"), std::string::npos);
}

TEST(Options, DecoderIsAutoOrHdf5) {
  EXPECT_EQ(parse({"--input", "a.h5"}).options.decoder, "auto");
  const Options o = parse({"--input", "a.h5", "--decoder", "hdf5"}).options;
  EXPECT_NO_THROW(validate(o));
  EXPECT_EQ(parse_decoder(o.decoder), Decoder::hdf5);
  EXPECT_EQ(parse_decoder("auto"), Decoder::automatic);
  try {
    validate(parse({"--input", "a.h5", "--decoder", "plugin"}).options);
    FAIL() << "--decoder plugin was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--decoder 'plugin'"), std::string::npos) << e.what();
  }
}

TEST(Options, AllowMissingFramesIsOffUnlessGiven) {
  EXPECT_FALSE(parse({"--input", "a.h5"}).options.allow_missing_frames);
  const Options o = parse({"--input", "a.h5", "--allow-missing-frames"}).options;
  EXPECT_TRUE(o.allow_missing_frames);
  EXPECT_NO_THROW(validate(o));
  // From a config file too, as every option.
  const std::string config = write_config("missing.ini", "allow-missing-frames = true\n");
  EXPECT_TRUE(parse({"--input", "a.h5", "--config", config}).options.allow_missing_frames);
  std::remove(config.c_str());
}

TEST(Options, FollowAndItsSettings) {
  const Options o = parse({"--input", "m.h5", "--follow", "--update-frames", "50", "--expect-frames", "2400",
                           "--idle-timeout", "30", "--output", "out/scan_roi.h5"})
                        .options;
  EXPECT_NO_THROW(validate(o));
  EXPECT_TRUE(o.follow);
  EXPECT_EQ(o.update_frames, 50u);
  EXPECT_EQ(o.expect_frames, 2400u);
  EXPECT_EQ(o.idle_timeout_s, 30.0);
  EXPECT_EQ(live_mask_path(o), "out/scan_roi.live.h5");
  EXPECT_EQ(live_mask_path(parse({"--input", "m.h5", "--follow", "--summary", "s.json"}).options), "s.live.h5");
  EXPECT_EQ(live_mask_path(parse({"--input", "m.h5", "--follow"}).options), "");
  const auto message = [](std::vector<std::string> args) {
    try {
      validate(parse(std::move(args)).options);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({"--input", "a.h5", "--expect-frames", "10"}).find("are for --follow"), std::string::npos);
  EXPECT_NE(message({"--input", "a.h5", "--follow", "--idle-timeout", "0"}).find("--idle-timeout"), std::string::npos);
  EXPECT_NE(message({"--input", "a.h5", "--follow", "--update-every", "-2"}).find("--update-every"), std::string::npos);
  EXPECT_NE(message({"--input-list", "l.txt", "--follow"}).find("--follow"), std::string::npos);
}

}  // namespace
}  // namespace ptyroi
