#pragma once
// What a run found and what it cost, for people (stdout) and for scripts (--summary JSON).
#include <string>

#include "ptyroi/app/scan_run.hpp"

namespace ptyroi {

std::string summary_json(const ScanRun& run);
std::string summary_text(const ScanRun& run);

}  // namespace ptyroi
