#pragma once
// What a run found and what it cost, for people (stdout) and for scripts (--summary JSON).
#include <string>

#include "ptyroi/app/pipeline.hpp"

namespace ptyroi {

std::string summary_json(const RoiRun& run);
std::string summary_text(const RoiRun& run);

// Writes text to path via a temporary file and a rename; throws IoError naming the path.
void write_text_file(const std::string& path, const std::string& text);

}  // namespace ptyroi
