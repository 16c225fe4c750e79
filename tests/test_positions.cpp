#include "ptyroi/io/positions.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "ptyroi/core/error.hpp"

namespace ptyroi {
namespace {

ScanPositions parse(const std::string& text, const std::string& columns = "") {
  std::istringstream in(text);
  return parse_position_table(in, columns, "positions.csv");
}

TEST(PositionTable, HeaderNamesPickXAndY) {
  const ScanPositions p = parse("# from the beamline\nframe,x_um,y_um\n0,1.5,-2\n1,2.5,-3\n\n2,3.5,-4\n");
  EXPECT_EQ(p.x, (std::vector<double>{1.5, 2.5, 3.5}));
  EXPECT_EQ(p.y, (std::vector<double>{-2, -3, -4}));
  EXPECT_NE(p.source.find("x_um"), std::string::npos);
}

TEST(PositionTable, WhitespaceAndSemicolonsAndNoHeader) {
  EXPECT_EQ(parse("1 10 100\n2\t20   200\n").x, (std::vector<double>{10, 20}));  // the last two columns
  EXPECT_EQ(parse("1 10 100\n2\t20   200\n").y, (std::vector<double>{100, 200}));
  EXPECT_EQ(parse("a;b\n1;2\n3;4\n").x, (std::vector<double>{1, 3}));
}

TEST(PositionTable, ColumnsByNameOrIndex) {
  const std::string text = "t,py,px\n0,5,6\n1,7,8\n";
  EXPECT_EQ(parse(text, "px,py").x, (std::vector<double>{6, 8}));
  EXPECT_EQ(parse(text, "2,1").y, (std::vector<double>{5, 7}));
  EXPECT_THROW(parse(text, "pz,py"), UsageError);
  EXPECT_THROW(parse(text, "px"), UsageError);
}

TEST(PositionTable, BrokenTablesAreRefusedWithTheLine) {
  try {
    parse("x,y\n1,2\n3\n");
    FAIL() << "a short line was accepted";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("line 3"), std::string::npos) << error.what();
  }
  EXPECT_THROW(parse("x,y\n1,2\nthree,4\n"), InputError);
  EXPECT_THROW(parse("1\n2\n"), InputError);  // a single column
}

TEST(PositionTable, ByteOrderMarkIsNotPartOfTheFirstColumnName) {
  // A spreadsheet's UTF-8 export: the header starts with EF BB BF; "x" must still be found by name.
  const ScanPositions p = parse("\xEF\xBB\xBFx,y,z\n1,10,0\n2,20,0\n");
  EXPECT_EQ(p.x, (std::vector<double>{1, 2}));
  EXPECT_EQ(p.y, (std::vector<double>{10, 20}));
}

TEST(PositionTransform, UnitsAndPixels) {
  ScanPositions p;
  p.x = {0, 100};
  p.y = {0, 50};
  PositionsSpec um;
  um.unit = "um";
  transform_positions(p, um);
  EXPECT_EQ(p.x[1], 100 * 1e-6);
  EXPECT_EQ(p.unit, "m");
  ScanPositions px;
  px.x = {0, 100};
  px.y = {0, 50};
  PositionsSpec pixels;
  pixels.unit = "px";
  transform_positions(px, pixels);  // no pixel size: they stay pixels, and say so
  EXPECT_EQ(px.x[1], 100.0);
  EXPECT_EQ(px.unit, "px");
  EXPECT_THROW(metres_per_unit("inch"), UsageError);
}

TEST(PositionTransform, ExtentOutsideAScanNamesTheLikelyUnit) {
  ScanPositions p;
  p.source = "test";
  p.x = {0, 9.0, 18.0, 27.0};  // pixels read as metres
  p.y = {0, 0, 9.0, 9.0};
  try {
    check_extent(p);
    ADD_FAILURE() << "27 m is no scan";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("--positions-unit"), std::string::npos) << error.what();
  }
  p.x = {0, 2e-6, 4e-6};
  p.y = {0, 0, 2e-6};
  EXPECT_NO_THROW(check_extent(p));
  p.x = {0, 2e-12, 4e-12};  // picometres: metres read as micrometres twice over
  p.y = {0, 0, 2e-12};
  EXPECT_THROW(check_extent(p), InputError);
  p.unit = "px";  // pixels are not checked against metres
  EXPECT_NO_THROW(check_extent(p));
}

TEST(PositionTransform, SwapThenFlipThenScale) {
  ScanPositions p;
  p.x = {1, 2};
  p.y = {10, 20};
  PositionsSpec options;
  options.swap_xy = true;
  options.flip_y = true;
  options.scale = 1e-6;
  transform_positions(p, options);
  const std::vector<double> x{10 * 1e-6, 20 * 1e-6}, y{-1 * 1e-6, -2 * 1e-6};
  EXPECT_EQ(p.x, x);
  EXPECT_EQ(p.y, y);
}

}  // namespace
}  // namespace ptyroi
