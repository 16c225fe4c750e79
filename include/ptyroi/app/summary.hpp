#pragma once
// What a run found and what it cost, for people (stdout) and for scripts (--summary JSON).
#include <string>

#include "ptyroi/app/scan_run.hpp"

namespace ptyroi {

// With run.follow set (ptyroi --follow), its state comes right after "software".
std::string summary_json(const ScanRun& run);
// The live summary before any RoI could be computed (too few frames, no positions yet, ...).
std::string follow_waiting_json(const ScanRun& run, const FollowStatus& follow);
std::string summary_text(const ScanRun& run);

// "no background found: neither map has contrast (...)": the one-line notice of a run whose maps
// both lack contrast (RoiResult::whole_scan).
std::string no_background_notice(const RoiResult& result);

}  // namespace ptyroi
