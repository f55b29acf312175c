//===- RunOptionsTest.cpp - Byte counts of the run's limits ---------------===//

#include "kdrt/exec/RunOptions.h"

#include <gtest/gtest.h>

namespace kdrt::exec {
namespace {

uint64_t parsed(const std::string &text) {
  uint64_t bytes = 12345;
  EXPECT_TRUE(parseByteSize(text, bytes)) << text;
  return bytes;
}

TEST(ParseByteSize, PlainCountsAndBinarySuffixes) {
  EXPECT_EQ(parsed("0"), 0u);
  EXPECT_EQ(parsed("4096"), 4096u);
  EXPECT_EQ(parsed("4096B"), 4096u);
  EXPECT_EQ(parsed("3K"), 3u << 10);
  EXPECT_EQ(parsed("3kib"), 3u << 10);
  EXPECT_EQ(parsed("512M"), 512ull << 20);
  EXPECT_EQ(parsed("2G"), 2ull << 30);
  EXPECT_EQ(parsed("2GB"), 2ull << 30);
  EXPECT_EQ(parsed("1T"), 1ull << 40);
}

TEST(ParseByteSize, RejectsWhatIsNotACount) {
  uint64_t bytes = 7;
  for (const char *text : {"", "G", "-1", "1.5G", "12Q", "1 G", "0x10",
                           "99999999999999999999", "20000000T"}) {
    EXPECT_FALSE(parseByteSize(text, bytes)) << text;
    EXPECT_EQ(bytes, 7u) << text;
  }
}

} // namespace
} // namespace kdrt::exec
