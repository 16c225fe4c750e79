#include "ptyroi/app/progress.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace ptyroi {
namespace {

TEST(ProgressReport, BatchLogsGetALineEveryIntervalNotEveryUpdate) {
  std::ostringstream log;
  double now = 100.0;
  ProgressReport progress(log, false, 1000, 4e9, 10.0, [&] { return now; });
  for (int step = 1; step <= 100; ++step) {  // 100 updates over 30 s
    now = 100.0 + 0.3 * step;
    progress.update(step / 100.0);
  }
  progress.finish();
  EXPECT_EQ(progress.lines_printed(), 3);  // at the first updates after 10 s and 20 s, and the final state
  const std::string text = log.str();
  EXPECT_EQ(text.find('\r'), std::string::npos);
  // At 10.2 s 34% of 1000 frames (4 GB) is done: 340 frames, 0.13 GB/s, 20 s to go.
  EXPECT_NE(text.find("340 / 1000 frames (34%), 0.13 GB/s, ETA 20 s"), std::string::npos) << text;
  EXPECT_NE(text.find("1000 / 1000 frames (100%)"), std::string::npos) << text;
}

TEST(ProgressReport, TerminalRewritesOneLineAndEndsIt) {
  std::ostringstream tty;
  double now = 0.0;
  ProgressReport progress(tty, true, 10, 1e9, 10.0, [&] { return now; });
  now = 1.0;
  progress.update(0.5);
  now = 2.0;
  progress.update(1.0);
  progress.finish();
  const std::string text = tty.str();
  EXPECT_EQ(text.front(), '\r');
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  EXPECT_NE(text.find("10 / 10 frames (100%)"), std::string::npos);
}

TEST(ProgressReport, NothingPrintedForAShortRun) {
  std::ostringstream log;
  double now = 0.0;
  ProgressReport progress(log, false, 10, 1e6, 10.0, [&] { return now; });
  now = 0.5;
  progress.update(1.0);
  progress.finish();
  EXPECT_TRUE(log.str().empty());
}

}  // namespace
}  // namespace ptyroi
