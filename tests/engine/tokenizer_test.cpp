// Tokenizer acceptance test against llama.cpp's published vectors (every
// ggml-vocab-*.gguf under shared/data/llama-cpp-vocab with its .inp/.out files must
// pass 100%), plus unit tests on small hand-built vocabularies: decode round trips,
// UTF-8 reassembly in the stream decoder, special and added tokens, WordPiece.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/text.h"
#include "engine/gguf.h"
#include "engine/tokenizer.h"
#include "engine/tokenizer_impl.h"
#include "tests/support/test_support.h"

namespace moerag::engine {
namespace {

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// .inp: texts separated by "\n__ggml_vocab_test__\n" (the file ends with one).
std::vector<std::string> split_inputs(const std::string& s) {
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t pos; (pos = s.find(sep, start)) != std::string::npos; start = pos + sep.size()) {
    out.push_back(s.substr(start, pos - start));
  }
  if (start < s.size()) out.push_back(s.substr(start));
  return out;
}

// .out: one line of space-separated ids per text.
std::vector<std::vector<int32_t>> read_expected(const std::string& s) {
  std::vector<std::vector<int32_t>> out;
  std::istringstream lines(s);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream ids(line);
    std::vector<int32_t> v;
    for (int32_t id; ids >> id;) v.push_back(id);
    out.push_back(std::move(v));
  }
  return out;
}

std::string ids_str(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
  return s;
}

TEST(LlamaCppVocabVectors, EveryCaseOfEveryVocabPasses) {
  const std::string dir = moerag::testing::shared_data("llama-cpp-vocab");
  if (dir.empty()) GTEST_SKIP() << "shared/data/llama-cpp-vocab is absent";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("ggml-vocab-", 0) == 0 && e.path().extension() == ".gguf") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) GTEST_SKIP() << "no ggml-vocab-*.gguf files in " << dir;

  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    auto file = GgufFile::open(path.string());
    ASSERT_TRUE(file.ok()) << file.error().message;
    auto tok = Tokenizer::from_gguf(**file);
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    const auto inputs = split_inputs(read_all(path.string() + ".inp"));
    const auto expected = read_expected(read_all(path.string() + ".out"));
    ASSERT_FALSE(inputs.empty());
    ASSERT_EQ(inputs.size(), expected.size());
    size_t passed = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto got = (*tok)->encode(inputs[i], /*add_special=*/false, /*parse_special=*/false);
      EXPECT_EQ(ids_str(got), ids_str(expected[i])) << "case " << i << ": '" << inputs[i] << "'";
      if (got == expected[i]) ++passed;
      // Byte-level and SentencePiece vocabularies are lossless: decoding restores the text.
      if ((*tok)->kind() != VocabKind::WPM) {
        EXPECT_EQ((*tok)->decode(got), inputs[i]) << "round trip of case " << i;
      }
    }
    std::printf("[ vectors  ] %s: %zu/%zu cases pass\n", path.filename().string().c_str(), passed, inputs.size());
  }
}

// ---- small hand-built vocabularies ----

// An SPM vocabulary: <unk> <s> </s>, 256 byte tokens, then pieces with scores.
Vocab tiny_spm() {
  Vocab v;
  v.kind = VocabKind::SPM;
  v.model = "llama";
  v.tokens.push_back({"<unk>", 0, TokenType::UNKNOWN});
  v.tokens.push_back({"<s>", 0, TokenType::CONTROL});
  v.tokens.push_back({"</s>", 0, TokenType::CONTROL});
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    v.tokens.push_back({name, 0, TokenType::BYTE});
  }
  const std::pair<const char*, float> pieces[] = {
      {"▁", -1}, {"h", -2}, {"e", -2}, {"l", -2}, {"o", -2}, {"▁h", -3}, {"he", -4}, {"ll", -3},
      {"▁he", -5}, {"llo", -6}, {"▁hello", -7}, {"é", -2}, {"中", -2},
  };
  for (auto [t, s] : pieces) v.tokens.push_back({t, s, TokenType::NORMAL});
  v.bos_id = 1;
  v.eos_id = 2;
  v.unk_id = 0;
  v.add_bos = true;
  v.add_space_prefix = true;
  return v;
}

TEST(Tokenizer, SpmMergesByScoreAndFallsBackToBytes) {
  auto tok = Tokenizer::from_vocab(tiny_spm());
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  const auto& t = **tok;
  const auto ids = t.encode("hello", true, false);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], t.bos());
  EXPECT_EQ(t.token_text(ids[1]), "▁hello");
  // "🦙" has no piece: its four bytes come out as <0xF0> <0x9F> <0xA6> <0x99>.
  const auto llama = t.encode("🦙", false, false);
  ASSERT_EQ(llama.size(), 5u);
  EXPECT_EQ(t.token_text(llama[0]), "▁");
  EXPECT_EQ(t.token_text(llama[1]), "<0xF0>");
  EXPECT_EQ(t.decode(llama), "🦙");
  EXPECT_EQ(t.decode(t.encode(" hello  héllo 中🦙\n", true, false)), " hello  héllo 中🦙\n");
  EXPECT_TRUE(t.encode("", false, false).empty());
  EXPECT_EQ(t.encode("", true, false), std::vector<int32_t>{1});
}

TEST(Tokenizer, SpmControlTokensOnlyParsedWhenAsked) {
  auto tok = Tokenizer::from_vocab(tiny_spm());
  ASSERT_TRUE(tok.ok());
  const auto& t = **tok;
  const auto plain = t.encode("</s>", false, false);
  EXPECT_GT(plain.size(), 1u);
  for (int32_t id : plain) EXPECT_NE(id, t.eos());
  const auto parsed = t.encode("hello</s>hello", false, true);
  ASSERT_EQ(parsed.size(), 3u);
  EXPECT_EQ(parsed[1], t.eos());
  // SentencePiece puts its space prefix again after a special token.
  EXPECT_EQ(t.token_text(parsed[2]), "▁hello");
  EXPECT_TRUE(t.is_eog(t.eos()));
  EXPECT_EQ(t.decode(parsed), "hello hello");
  EXPECT_EQ(t.decode(parsed, /*render_special=*/true), "hello</s> hello");
}

// A byte-level BPE vocabulary: the 256 byte symbols, a few merges, one control
// token and one added (user-defined) token.
Vocab tiny_bpe() {
  Vocab v;
  v.kind = VocabKind::BPE;
  v.model = "gpt2";
  v.pre = "gpt-2";
  for (int b = 0; b < 256; ++b) v.tokens.push_back({byte_to_unicode(static_cast<uint8_t>(b)), 0, TokenType::NORMAL});
  v.merges = {"h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"};
  for (const char* t : {"he", "ll", "hell", "hello", "Ġw", "or", "Ġwor", "ld", "Ġworld"}) {
    v.tokens.push_back({t, 0, TokenType::NORMAL});
  }
  v.tokens.push_back({"<|im_start|>", 0, TokenType::CONTROL});
  v.tokens.push_back({"<|im_end|>", 0, TokenType::CONTROL});
  v.tokens.push_back({"<tool>", 0, TokenType::USER_DEFINED});
  v.eos_id = static_cast<int32_t>(v.tokens.size()) - 2;  // <|im_end|>
  return v;
}

TEST(Tokenizer, BpeMergesByRank) {
  auto tok = Tokenizer::from_vocab(tiny_bpe());
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  const auto& t = **tok;
  const auto ids = t.encode("hello world", false, false);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(t.token_text(ids[0]), "hello");
  EXPECT_EQ(t.token_text(ids[1]), "Ġworld");
  EXPECT_EQ(t.piece(ids[1]), " world");
  const std::string mixed = "hello, 世界! \t\n  héllo\xF0\x9F\xA6\x99";
  EXPECT_EQ(t.decode(t.encode(mixed, false, false)), mixed);
}

TEST(Tokenizer, BpeSpecialAndAddedTokens) {
  auto tok = Tokenizer::from_vocab(tiny_bpe());
  ASSERT_TRUE(tok.ok());
  const auto& t = **tok;
  const int32_t start = t.find_token("<|im_start|>");
  const int32_t added = t.find_token("<tool>");
  const auto plain = t.encode("<|im_start|>hello", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), start), 0);
  EXPECT_EQ(t.decode(plain), "<|im_start|>hello");
  const auto parsed = t.encode("<|im_start|>hello<|im_end|>", false, true);
  ASSERT_EQ(parsed.size(), 3u);
  EXPECT_EQ(parsed[0], start);
  EXPECT_TRUE(t.is_eog(parsed[2]));
  // Added tokens are matched even without parse_special.
  const auto tool = t.encode("a<tool>b", false, false);
  ASSERT_EQ(tool.size(), 3u);
  EXPECT_EQ(tool[1], added);
  EXPECT_EQ(t.decode(tool), "a<tool>b");
  EXPECT_EQ(t.decode(parsed), "hello");
  EXPECT_EQ(t.decode(parsed, true), "<|im_start|>hello<|im_end|>");
}

TEST(StreamDecoder, HoldsBackIncompleteUtf8) {
  auto tok = Tokenizer::from_vocab(tiny_bpe());
  ASSERT_TRUE(tok.ok());
  const auto& t = **tok;
  const std::string text = "hello 世界🦙 é";
  const auto ids = t.encode(text, false, false);
  StreamDecoder dec(t);
  std::string joined;
  for (int32_t id : ids) {
    const std::string chunk = dec.push(id);
    EXPECT_TRUE(text::utf8_valid(chunk)) << "chunk is not well-formed";
    joined += chunk;
  }
  joined += dec.flush();
  EXPECT_EQ(joined, text);

  // A stream cut inside a character: flush() turns the rest into U+FFFD.
  StreamDecoder cut(t);
  std::string out;
  for (int32_t id : t.encode("a\xF0\x9F", false, false)) out += cut.push(id);
  EXPECT_EQ(out, "a");
  EXPECT_EQ(cut.flush(), "\xEF\xBF\xBD");
}

TEST(StreamDecoder, SpmLeadingSpaceRemovedOnce) {
  auto tok = Tokenizer::from_vocab(tiny_spm());
  ASSERT_TRUE(tok.ok());
  const auto& t = **tok;
  StreamDecoder dec(t);
  std::string out;
  for (int32_t id : t.encode("hello hello", true, false)) out += dec.push(id);
  out += dec.flush();
  EXPECT_EQ(out, "hello hello");
}

// A WordPiece vocabulary in the original "##" spelling.
Vocab tiny_wpm() {
  Vocab v;
  v.kind = VocabKind::WPM;
  v.model = "bert";
  for (const char* t : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) v.tokens.push_back({t, 0, TokenType::CONTROL});
  for (const char* t : {"hello", "world", ",", "!", "un", "##aff", "##able", "cafe", "中", "a", "##a", "'", "s"}) {
    v.tokens.push_back({t, 0, TokenType::NORMAL});
  }
  v.pad_id = 0;
  v.unk_id = 1;
  v.cls_id = v.bos_id = 2;
  v.sep_id = v.eos_id = 3;
  v.mask_id = 4;
  v.add_bos = v.add_eos = true;
  return v;
}

std::vector<std::string> texts_of(const Tokenizer& t, const std::vector<int32_t>& ids) {
  std::vector<std::string> out;
  for (int32_t id : ids) out.push_back(t.token_text(id));
  return out;
}

TEST(WordPiece, BasicTokenizerAndGreedyPieces) {
  auto tok = Tokenizer::from_vocab(tiny_wpm());
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  const auto& t = **tok;
  using V = std::vector<std::string>;
  EXPECT_EQ(texts_of(t, t.encode("Hello, WORLD!", true, false)), (V{"[CLS]", "hello", ",", "world", "!", "[SEP]"}));
  EXPECT_EQ(texts_of(t, t.encode("unaffable", false, false)), (V{"un", "##aff", "##able"}));
  // Accents are stripped (NFD, drop Mn) before lower-casing.
  EXPECT_EQ(texts_of(t, t.encode("Café CAFÉ", false, false)), (V{"cafe", "cafe"}));
  // CJK ideographs are words of their own; an unknown one is [UNK].
  EXPECT_EQ(texts_of(t, t.encode("中文中", false, false)), (V{"中", "[UNK]", "中"}));
  // A word with any unmatched part is one [UNK], not a partial match.
  EXPECT_EQ(texts_of(t, t.encode("unaffablex hello", false, false)), (V{"[UNK]", "hello"}));
  // Punctuation splits words; control characters vanish; white space of any kind separates.
  EXPECT_EQ(texts_of(t, t.encode("a's\x01\u3000hello", false, false)), (V{"a", "'", "s", "hello"}));
  // Words over 100 characters are [UNK] even when they could be pieced together.
  EXPECT_EQ(texts_of(t, t.encode(std::string(101, 'a'), false, false)), (V{"[UNK]"}));
  EXPECT_EQ(t.encode(std::string(100, 'a'), false, false).size(), 100u);
  EXPECT_TRUE(t.encode(" \t\n ", false, false).empty());
  EXPECT_EQ(t.decode(t.encode("Hello, unaffable world", true, false)), "hello , unaffable world");
  // [MASK] written in the text is a control token: parsed only on request.
  EXPECT_EQ(texts_of(t, t.encode("hello [MASK]", false, true)), (V{"hello", "[MASK]"}));
  EXPECT_NE(texts_of(t, t.encode("hello [MASK]", false, false)), (V{"hello", "[MASK]"}));
}

TEST(Tokenizer, RejectsUnknownPreTokenizerWithTheKnownNames) {
  Vocab v = tiny_bpe();
  v.pre = "klingon";
  auto tok = Tokenizer::from_vocab(v);
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.error().code, ErrorCode::INVALID_INPUT);
  EXPECT_NE(tok.error().message.find("klingon"), std::string::npos);
  EXPECT_NE(tok.error().message.find("deepseek-llm"), std::string::npos);
}

TEST(Tokenizer, RejectsSpecialIdsOutsideTheVocabulary) {
  Vocab v = tiny_spm();
  v.eos_id = 100000;
  auto tok = Tokenizer::from_vocab(v);
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.error().message.find("EOS"), std::string::npos);
}

}  // namespace
}  // namespace moerag::engine
