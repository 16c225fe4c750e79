#include "ptyroi/core/pixel_type.hpp"

namespace ptyroi {

const char* pixel_type_name(PixelType type) {
  switch (type) {
    case PixelType::u8:
      return "uint8";
    case PixelType::u16:
      return "uint16";
    case PixelType::u32:
      return "uint32";
    case PixelType::u64:
      return "uint64";
    case PixelType::i8:
      return "int8";
    case PixelType::i16:
      return "int16";
    case PixelType::i32:
      return "int32";
    case PixelType::i64:
      return "int64";
    case PixelType::f32:
      return "float32";
    case PixelType::f64:
      return "float64";
  }
  return "unknown";
}

std::size_t pixel_type_size(PixelType type) {
  return visit_pixel_type(type, [](auto pixel) { return sizeof(pixel); });
}

bool is_floating(PixelType type) { return type == PixelType::f32 || type == PixelType::f64; }

}  // namespace ptyroi
