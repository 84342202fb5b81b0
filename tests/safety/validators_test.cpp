// Checksums behind the PII rules, and the normaliser's folding and offset map.
#include <gtest/gtest.h>

#include "safety/normalize.h"
#include "safety/validators.h"

namespace moerag::safety {
namespace {

TEST(SafetyValidators, Luhn) {
  EXPECT_TRUE(luhn_valid("4111111111111111"));
  EXPECT_TRUE(luhn_valid("4111 1111 1111 1111"));
  EXPECT_TRUE(luhn_valid("5500-0000-0000-0004"));
  EXPECT_FALSE(luhn_valid("4111111111111112"));
  EXPECT_FALSE(luhn_valid("0000000000000000"));
  EXPECT_FALSE(luhn_valid("411111111111"));  // 12 digits: too short
  EXPECT_FALSE(luhn_valid("4111x11111111111"));
}

TEST(SafetyValidators, ChineseId) {
  EXPECT_TRUE(cn_id_valid("11010519491231002X"));
  EXPECT_TRUE(cn_id_valid("11010519491231002x"));
  EXPECT_FALSE(cn_id_valid("110105194912310021"));  // wrong check character
  EXPECT_FALSE(cn_id_valid("11010519491331002X"));  // month 13 (and checksum)
  EXPECT_FALSE(cn_id_valid("1101051949123100"));
}

TEST(SafetyValidators, Iban) {
  EXPECT_TRUE(iban_valid("GB82 WEST 1234 5698 7654 32"));
  EXPECT_TRUE(iban_valid("de89370400440532013000"));
  EXPECT_FALSE(iban_valid("GB82 WEST 1234 5698 7654 31"));
  EXPECT_FALSE(iban_valid("GB82"));
}

TEST(SafetyValidators, IpAndPhone) {
  EXPECT_TRUE(ipv4_valid("192.168.0.1"));
  EXPECT_FALSE(ipv4_valid("256.1.1.1"));
  EXPECT_FALSE(ipv4_valid("01.2.3.4"));
  EXPECT_FALSE(ipv4_valid("1.2.3"));
  EXPECT_TRUE(ipv6_valid("2001:db8::1"));
  EXPECT_FALSE(ipv6_valid("d::"));
  EXPECT_FALSE(ipv6_valid("10:30:45"));
  EXPECT_TRUE(phone_valid("+44 20 7946 0958"));
  EXPECT_FALSE(phone_valid("+5 12"));
  EXPECT_TRUE(run_validator("", "anything"));
  EXPECT_FALSE(run_validator("nope", "anything"));
}

TEST(SafetyNormalize, Folding) {
  EXPECT_EQ(normalize_text("ＨＥＬＬＯ　Ｗｏｒｌｄ"), "hello world");
  EXPECT_EQ(normalize_text("ig\u200bnore\u00ADme"), "ignoreme");
  EXPECT_EQ(normalize_text("Café NAÏVE"), "cafe naive");
  EXPECT_EQ(normalize_text("раypal"), "paypal");  // Cyrillic р and а
  EXPECT_EQ(normalize_text("𝐁𝐨𝐥𝐝 ⓒⓘⓡⓒⓛⓔ"), "bold circle");
  EXPECT_EQ(normalize_text("  a \t\n b  "), "a b");
  EXPECT_EQ(normalize_text("忽 略  指令"), "忽略指令");
  EXPECT_EQ(normalize_text("中文 abc"), "中文 abc");
}

TEST(SafetyNormalize, OffsetsMapBack) {
  std::string s = "Ｍａｉｌ: A\u200bB@x.io";
  Normalized n = normalize(s);
  EXPECT_EQ(n.text, "mail: ab@x.io");
  size_t at = n.text.find("ab@");
  auto [b, e] = n.original_span(at, n.text.size());
  EXPECT_EQ(s.substr(b, e - b), "A\u200bB@x.io");
  EXPECT_EQ(n.n_invisible, 1u);
}

TEST(SafetyNormalize, ControlsAndInvalidBytes) {
  Normalized n = normalize(std::string("a\x01" "b\xff" "c\u202e", 8));
  EXPECT_EQ(n.n_control, 2u);
  EXPECT_FALSE(n.valid_utf8);
}

}  // namespace
}  // namespace moerag::safety
