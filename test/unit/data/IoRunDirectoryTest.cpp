//===- IoRunDirectoryTest.cpp - Metric lines and final metrics ------------===//

#include "TestFiles.h"
#include "kdrt/io/AtomicFile.h"
#include "kdrt/io/IoError.h"
#include "kdrt/io/RunDirectory.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace kdrt::io;
using namespace kdrt::test;

TEST(RunDirectoryTest, MetricsAreAppendedLineByLineAndVisibleAtOnce) {
  TemporaryFolder folder;
  std::string root = folder.path() + "/runs/a";
  {
    RunDirectory run(root);
    run.appendMetrics({{"step", 1}, {"loss", 0.5}});
    // Flushed per line: readable before the writer closes.
    std::ifstream in(run.pathOf(RunDirectory::kMetricsFile));
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_EQ(nlohmann::json::parse(line)["loss"], 0.5);
    run.appendMetrics({{"step", 2}, {"loss", 0.25}});
    EXPECT_THROW(run.appendMetrics(nlohmann::json::array()), IoError);
  }
  {
    RunDirectory resumed(root);
    resumed.appendMetrics({{"step", 3}});
    resumed.writeFinalMetrics({{"accuracy", 0.9}});
  }
  std::ifstream in(root + "/metrics.jsonl");
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2]["step"], 3);
  std::ifstream final(root + "/final_metrics.json");
  EXPECT_EQ(nlohmann::json::parse(final)["accuracy"], 0.9);
}

TEST(RunDirectoryTest, AtomicWriteReplacesWholeFiles) {
  TemporaryFolder folder;
  std::string path = folder.file("out.txt");
  writeFileAtomically(path, std::string("first version"));
  writeFileAtomically(path, std::string("second"));
  std::vector<uint8_t> bytes = readBytes(path);
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "second");
  EXPECT_THROW(RunDirectory(path + "/sub"), IoError);
}
