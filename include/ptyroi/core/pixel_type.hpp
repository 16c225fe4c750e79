#pragma once
// The pixel types a pattern stack may hold: 8..64-bit integers and float32/float64. The per-frame
// pass runs in the stack's own type (no conversion), so code that touches pixels is written once as
// a template and dispatched with visit_pixel_type.
#include <cstddef>
#include <cstdint>

namespace ptyroi {

enum class PixelType { u8, u16, u32, u64, i8, i16, i32, i64, f32, f64 };

const char* pixel_type_name(PixelType type);  // "uint32", "float32", ...
std::size_t pixel_type_size(PixelType type);  // bytes
bool is_floating(PixelType type);

// Calls visit(Pixel{}) with a value of the C++ type of `type`.
template <class Visitor>
decltype(auto) visit_pixel_type(PixelType type, Visitor&& visit) {
  switch (type) {
    case PixelType::u8:
      return visit(std::uint8_t{});
    case PixelType::u16:
      return visit(std::uint16_t{});
    case PixelType::u32:
      return visit(std::uint32_t{});
    case PixelType::u64:
      return visit(std::uint64_t{});
    case PixelType::i8:
      return visit(std::int8_t{});
    case PixelType::i16:
      return visit(std::int16_t{});
    case PixelType::i32:
      return visit(std::int32_t{});
    case PixelType::i64:
      return visit(std::int64_t{});
    case PixelType::f32:
      return visit(float{});
    case PixelType::f64:
      return visit(double{});
  }
  return visit(double{});  // unreachable: every enumerator is handled above
}

// The PixelType of a C++ pixel type (uint32_t → u32, ...).
template <class Pixel>
constexpr PixelType pixel_type_of();

template <>
constexpr PixelType pixel_type_of<std::uint8_t>() {
  return PixelType::u8;
}
template <>
constexpr PixelType pixel_type_of<std::uint16_t>() {
  return PixelType::u16;
}
template <>
constexpr PixelType pixel_type_of<std::uint32_t>() {
  return PixelType::u32;
}
template <>
constexpr PixelType pixel_type_of<std::uint64_t>() {
  return PixelType::u64;
}
template <>
constexpr PixelType pixel_type_of<std::int8_t>() {
  return PixelType::i8;
}
template <>
constexpr PixelType pixel_type_of<std::int16_t>() {
  return PixelType::i16;
}
template <>
constexpr PixelType pixel_type_of<std::int32_t>() {
  return PixelType::i32;
}
template <>
constexpr PixelType pixel_type_of<std::int64_t>() {
  return PixelType::i64;
}
template <>
constexpr PixelType pixel_type_of<float>() {
  return PixelType::f32;
}
template <>
constexpr PixelType pixel_type_of<double>() {
  return PixelType::f64;
}

}  // namespace ptyroi
