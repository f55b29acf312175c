//===- IoSafetensorsTest.cpp - safetensors round trip and validation ------===//

#include "TestFiles.h"
#include "kdrt/io/IoError.h"
#include "kdrt/io/Safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

using namespace kdrt::io;
using namespace kdrt::test;

namespace {

SafetensorsFile sampleFile() {
  SafetensorsFile file;
  file.tensors.push_back(NamedTensor::fromFloats("conv.weight", {2, 3},
                                                 {1, 2, 3, 4, 5, 6}));
  file.tensors.push_back(NamedTensor{"mask", TensorDtype::U8, {3}, {1, 0, 1}});
  file.tensors.push_back(NamedTensor::fromInt64s("step", {}, {1234}));
  file.tensors.push_back(NamedTensor::fromFloats("empty", {0}, {}));
  file.metadata["format"] = "kdc";
  return file;
}

template <class Body>
void expectIoError(Body body, const std::vector<std::string> &parts) {
  try {
    body();
    FAIL() << "no IoError was thrown";
  } catch (const IoError &error) {
    std::string message = error.what();
    for (const std::string &part : parts)
      EXPECT_NE(message.find(part), std::string::npos)
          << "message '" << message << "' lacks '" << part << "'";
  }
}

} // namespace

TEST(SafetensorsTest, RoundTripKeepsTensorsAndMetadata) {
  TemporaryFolder folder;
  std::string path = folder.file("model.safetensors");
  writeSafetensors(path, sampleFile());
  SafetensorsFile read = readSafetensors(path);
  ASSERT_EQ(read.tensors.size(), 4u);
  const NamedTensor *weight = read.find("conv.weight");
  ASSERT_TRUE(weight);
  EXPECT_EQ(weight->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(weight->toFloats(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(read.find("mask")->bytes, (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(read.find("step")->toInt64s(), (std::vector<int64_t>{1234}));
  EXPECT_TRUE(read.find("step")->shape.empty());
  EXPECT_EQ(read.find("empty")->elementCount(), 0);
  EXPECT_EQ(read.metadata.at("format"), "kdc");
  EXPECT_THROW(read.find("mask")->toFloats(), IoError);
}

TEST(SafetensorsTest, LayoutFollowsTheSpecification) {
  std::vector<uint8_t> bytes = serializeSafetensors(sampleFile());
  uint64_t length = 0;
  std::memcpy(&length, bytes.data(), 8);
  // The data section starts 8-aligned and the header is JSON padded with
  // spaces.
  EXPECT_EQ((8 + length) % 8, 0u);
  std::string header(bytes.begin() + 8, bytes.begin() + 8 + length);
  EXPECT_EQ(header.front(), '{');
  EXPECT_NE(header.find("\"data_offsets\""), std::string::npos);
  EXPECT_NE(header.find("\"__metadata__\""), std::string::npos);
  EXPECT_EQ(bytes.size(), 8 + length + 24 + 3 + 8);
}

TEST(SafetensorsTest, TruncatedAndGarbageFilesAreClearErrors) {
  TemporaryFolder folder;
  std::vector<uint8_t> good = serializeSafetensors(sampleFile());

  std::string truncated = folder.file("truncated.safetensors");
  writeBytes(truncated, std::vector<uint8_t>(good.begin(), good.end() - 5));
  expectIoError([&] { readSafetensors(truncated); },
                {truncated, "outside the", "truncated"});

  std::string garbage = folder.file("garbage.safetensors");
  writeBytes(garbage, {0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0xff, 0xff, 1, 2});
  expectIoError([&] { readSafetensors(garbage); }, {garbage, "header length"});

  std::string tiny = folder.file("tiny.safetensors");
  writeBytes(tiny, {1, 2, 3});
  expectIoError([&] { readSafetensors(tiny); }, {tiny, "truncated"});

  std::string shortHeader = folder.file("short.safetensors");
  writeBytes(shortHeader, std::vector<uint8_t>(good.begin(), good.begin() + 20));
  expectIoError([&] { readSafetensors(shortHeader); }, {shortHeader, "truncated"});

  auto withHeader = [](const std::string &json) {
    // 8-byte length, the header, then 4 bytes of tensor data.
    std::vector<uint8_t> bytes(8 + json.size() + 4, 0);
    uint64_t length = json.size();
    std::memcpy(bytes.data(), &length, 8);
    std::memcpy(bytes.data() + 8, json.data(), json.size());
    return bytes;
  };
  expectIoError([&] { parseSafetensors(withHeader("{not json"), "h"); },
                {"not valid JSON"});
  expectIoError(
      [&] {
        parseSafetensors(
            withHeader(R"({"t":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}})"),
            "h");
      },
      {"unknown dtype Q7"});
  expectIoError(
      [&] {
        parseSafetensors(
            withHeader(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})"),
            "h");
      },
      {"does not match"});
  expectIoError(
      [&] {
        parseSafetensors(
            withHeader(R"({"t":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})"),
            "h");
      },
      {"not indexed"});
  expectIoError([&] { readSafetensors(folder.file("absent.safetensors")); },
                {"absent.safetensors"});
}

TEST(SafetensorsTest, FailedWriteLeavesTheOldFileIntact) {
  TemporaryFolder folder;
  std::string path = folder.file("ckpt.safetensors");
  writeSafetensors(path, sampleFile());
  std::vector<uint8_t> before = readBytes(path);

  SafetensorsFile inconsistent;
  inconsistent.tensors.push_back(NamedTensor{"x", TensorDtype::F32, {3}, {1, 2}});
  EXPECT_THROW(writeSafetensors(path, inconsistent), IoError);
  EXPECT_EQ(readBytes(path), before);

  // A destination whose folder does not exist cannot be written, and
  // leaves no temporary file behind.
  EXPECT_THROW(writeSafetensors(folder.path() + "/no/such/dir/x.safetensors",
                                sampleFile()),
               IoError);
  int entries = 0;
  for (const auto &entry : std::filesystem::directory_iterator(folder.path())) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}
