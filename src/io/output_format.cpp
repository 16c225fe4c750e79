#include "ptyroi/io/output_format.hpp"

#include "formats/formats.hpp"
#include "ptyroi/core/error.hpp"

namespace ptyroi {

const std::vector<const OutputFormat*>& output_formats() {
  static const std::vector<const OutputFormat*> formats = {
      &formats::cxi(),
      &formats::ptychoshelves(),
      &formats::ptychodus(),
      &formats::mask_only(),
  };
  return formats;
}

const OutputFormat* find_output_format(std::string_view name) {
  for (const OutputFormat* format : output_formats()) {
    if (format->name == name) return format;
  }
  return nullptr;
}

const OutputFormat& output_format(std::string_view name) {
  if (const OutputFormat* format = find_output_format(name)) return *format;
  throw UsageError("format '" + std::string(name) + "' is not one of " + output_format_names());
}

std::string output_format_names(std::string_view separator) {
  std::string names;
  for (const OutputFormat* format : output_formats()) {
    if (!names.empty()) names += separator;
    names += format->name;
  }
  return names;
}

}  // namespace ptyroi
