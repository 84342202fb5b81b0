// `moerag model tokenize`: ids and pieces in text and JSON form, --add-special,
// --file, and the exit codes for missing input and unreadable models.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

using namespace moerag::testing;

namespace {

std::string spm_vocab() {
  const std::string dir = shared_data("llama-cpp-vocab");
  return dir.empty() ? std::string() : dir + "/ggml-vocab-llama-spm.gguf";
}

TEST(ModelTokenize, JsonIdsAndPieces) {
  const std::string vocab = spm_vocab();
  if (vocab.empty()) GTEST_SKIP() << "shared/data/llama-cpp-vocab is absent";
  auto r = run_command(moerag_binary() + " model tokenize --json " + vocab + " 'Hello world'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["ids"], nlohmann::json({15043, 3186}));  // llama.cpp's vector for "Hello world"
  EXPECT_EQ(j["pieces"], nlohmann::json({" Hello", " world"}));

  auto special = run_command(moerag_binary() + " model tokenize --json --add-special " + vocab + " 'Hello world'");
  ASSERT_EQ(special.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(special.output)["ids"], nlohmann::json({1, 15043, 3186}));
}

TEST(ModelTokenize, TextFromFileAndPlainOutput) {
  const std::string vocab = spm_vocab();
  if (vocab.empty()) GTEST_SKIP() << "shared/data/llama-cpp-vocab is absent";
  TempDir dir;
  write_file(dir.file("in.txt"), "Hello world");
  auto r = run_command(moerag_binary() + " model tokenize " + vocab + " --file " + dir.file("in.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // stdout: one "id<TAB>quoted piece" line per token; stderr (merged here): a count.
  EXPECT_EQ(r.output, "15043\t\" Hello\"\n3186\t\" world\"\n2 tokens (spm, 32000 in vocabulary)\n");
}

TEST(ModelTokenize, ExitCodes) {
  EXPECT_EQ(run_command(moerag_binary() + " model tokenize /no/such/model.gguf hi").exit_code, 1);
  const std::string vocab = spm_vocab();
  if (vocab.empty()) return;
  auto r = run_command(moerag_binary() + " model tokenize " + vocab);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--file"), std::string::npos);
}

}  // namespace
