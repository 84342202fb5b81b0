// UTF-8 validation, folding, CJK detection and sentence splitting.
#include <gtest/gtest.h>

#include "core/text.h"

using namespace moerag::text;

TEST(Utf8, ValidatesWellFormedAndRejectsBroken) {
  EXPECT_TRUE(utf8_valid("hello"));
  EXPECT_TRUE(utf8_valid("中文 ünïcödé 😀"));
  EXPECT_FALSE(utf8_valid("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(utf8_valid("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(utf8_valid("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(utf8_valid("abc\xE4\xB8"));       // truncated
}

TEST(Utf8, SanitizeReplacesInvalidBytes) {
  EXPECT_EQ(utf8_sanitize("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(utf8_sanitize("中"), "中");
  EXPECT_EQ(utf8_length("a中😀"), 3u);
}

TEST(Utf8, RoundTripsCodePoints) {
  std::string s = "Aé中😀";
  EXPECT_EQ(from_u32(to_u32(s)), s);
  EXPECT_EQ(to_u32(s).size(), 4u);
}

TEST(Fold, LowercasesLatinGreekCyrillicAndFullWidth) {
  EXPECT_EQ(fold_case("HeLLo ÀÉÎ ΑΒΓ ДЖ"), "hello àéî αβγ дж");
  EXPECT_EQ(fold_case("ＡＢＣ"), "ａｂｃ");
  EXPECT_EQ(to_halfwidth("ＡＢＣ１２３！　x"), "ABC123! x");
  EXPECT_EQ(fold_case("中文"), "中文");
}

TEST(Cjk, DetectsHanKanaHangul) {
  EXPECT_TRUE(has_cjk("hello 世界"));
  EXPECT_TRUE(has_cjk("カタカナ"));
  EXPECT_TRUE(has_cjk("한국어"));
  EXPECT_FALSE(has_cjk("hello world ü"));
  EXPECT_TRUE(is_han(U'中'));
  EXPECT_FALSE(is_han(U'a'));
}

TEST(Sentences, SplitsEnglish) {
  auto s = split_sentences("The vaccine is safe. It lasts 6.5 months! Does it hurt? No");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0], "The vaccine is safe.");
  EXPECT_EQ(s[1], "It lasts 6.5 months!");
  EXPECT_EQ(s[2], "Does it hurt?");
  EXPECT_EQ(s[3], "No");
}

TEST(Sentences, SplitsChineseWithoutSpaces) {
  auto s = split_sentences("疫苗是安全的。它能持续多久？大约六个月！“真的吗？”他问。");
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0], "疫苗是安全的。");
  EXPECT_EQ(s[1], "它能持续多久？");
  EXPECT_EQ(s[2], "大约六个月！");
  EXPECT_EQ(s[3], "“真的吗？”");
  EXPECT_EQ(s[4], "他问。");
}

TEST(Sentences, KeepsInitialsAndSplitsParagraphs) {
  auto s = split_sentences("J. Smith wrote it.\n\nA new paragraph without a stop\n\nEnd");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], "J. Smith wrote it.");
  EXPECT_EQ(s[1], "A new paragraph without a stop");
  EXPECT_EQ(s[2], "End");
}

TEST(Sentences, MixedLanguageAndEmpty) {
  EXPECT_TRUE(split_sentences("   ").empty());
  auto s = split_sentences("COVID-19 is a disease.它由病毒引起。");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1], "它由病毒引起。");
}

TEST(Trim, TrimsUnicodeSpace) {
  EXPECT_EQ(trim("\u3000 abc \n"), "abc");
  EXPECT_EQ(trim(""), "");
}
