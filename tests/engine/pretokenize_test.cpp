// Pre-tokenizer scanners: expected splits worked out by hand from each family's
// regex (leftmost alternative, backtracking for \s+(?!\S) and \s*[\r\n]+). The
// llama-bpe and qwen2 vocabularies are not in the test data, so these splits are
// what covers their pre-tokenizers.
#include <gtest/gtest.h>

#include "engine/pretokenize.h"

namespace moerag::engine {
namespace {

std::vector<std::string> split(PreTokenizer kind, std::string_view text) {
  std::vector<std::string> out;
  uint32_t expect_begin = 0;
  for (auto [b, e] : pretokenize(kind, text)) {
    EXPECT_EQ(b, expect_begin) << "pieces must tile the text";
    EXPECT_LT(b, e);
    out.emplace_back(text.substr(b, e - b));
    expect_begin = e;
  }
  EXPECT_EQ(expect_begin, text.size());
  return out;
}

using V = std::vector<std::string>;

TEST(PreTokenize, Gpt2) {
  EXPECT_EQ(split(PreTokenizer::GPT2, "Hello world  !\n\n  x 123 I'm"),
            (V{"Hello", " world", " ", " !", "\n\n ", " x", " 123", " I", "'m"}));
  EXPECT_EQ(split(PreTokenizer::GPT2, "I'M  "), (V{"I", "'", "M", "  "}));
  EXPECT_EQ(split(PreTokenizer::GPT2, "a\xFF" "b"), (V{"a", "\xFF", "b"}));
  EXPECT_TRUE(split(PreTokenizer::GPT2, "").empty());
}

TEST(PreTokenize, Llama3AndQwen2) {
  EXPECT_EQ(split(PreTokenizer::LLAMA3, "12345 abc\n\n  def I'M"),
            (V{"123", "45", " abc", "\n\n", " ", " def", " I", "'M"}));
  EXPECT_EQ(split(PreTokenizer::LLAMA3, "x = {a};\n\ty"), (V{"x", " =", " {", "a", "};\n", "\ty"}));
  EXPECT_EQ(split(PreTokenizer::QWEN2, "12345 abc"), (V{"1", "2", "3", "4", "5", " abc"}));
}

TEST(PreTokenize, DeepSeekFamilies) {
  EXPECT_EQ(split(PreTokenizer::DEEPSEEK_V3, "2024年，Hello!World"), (V{"202", "4", "年", "，", "Hello", "!World"}));
  EXPECT_EQ(split(PreTokenizer::DEEPSEEK_LLM, "Hello 世界 123\n"), (V{"Hello", " ", "世界", " ", "123", "\n"}));
  EXPECT_EQ(split(PreTokenizer::DEEPSEEK_CODER, "foo  bar1234"), (V{"foo", " ", " bar", "1", "2", "3", "4"}));
  EXPECT_EQ(split(PreTokenizer::DEFAULT, "a+b=3456"), (V{"a", "+", "b", "=", "345", "6"}));
}

TEST(PreTokenize, NamesAndAliases) {
  EXPECT_EQ(*pre_tokenizer_from_name("llama3"), PreTokenizer::LLAMA3);
  EXPECT_EQ(*pre_tokenizer_from_name("gpt-2"), PreTokenizer::GPT2);
  EXPECT_STREQ(pre_tokenizer_name(PreTokenizer::QWEN2), "qwen2");
  auto bad = pre_tokenizer_from_name("tekken");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("deepseek-v3"), std::string::npos);
}

}  // namespace
}  // namespace moerag::engine
