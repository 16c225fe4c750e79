#pragma once
// What a run found and what it cost, for people (stdout) and for scripts (--summary JSON).
#include <string>

#include "ptyroi/app/scan_run.hpp"

namespace ptyroi {

std::string summary_json(const ScanRun& run);
std::string summary_text(const ScanRun& run);

// "no background found: neither map has contrast (...)": the one-line notice of a run whose maps
// both lack contrast (RoiResult::whole_scan).
std::string no_background_notice(const RoiResult& result);

}  // namespace ptyroi
