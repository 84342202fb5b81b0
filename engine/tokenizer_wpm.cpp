// WordPiece for `bert` vocabularies, with BERT's basic tokenizer in front (the
// BertNormalizer + BertPreTokenizer of Hugging Face tokenizers): drop control
// characters, put spaces around CJK ideographs, strip accents (NFD, drop Mn),
// lower-case, split on white space and punctuation; then each word is cut greedily
// into the longest pieces from the vocabulary, "##"-continued, or becomes [UNK].
// GGUF files from llama.cpp's converter store word-initial pieces as "▁word" and
// continuations bare; vocabularies with "##" continuations are read as well.
#include <algorithm>

#include "core/text.h"
#include "engine/tokenizer_impl.h"
#include "engine/unicode_props.h"

namespace moerag::engine {
namespace {

constexpr std::string_view kPhantom = "\xE2\x96\x81";  // "▁"
constexpr size_t kMaxWordChars = 100;                 // HF WordPiece max_input_chars_per_word

// BERT's _is_chinese_char: the CJK Unified Ideographs blocks and extensions.
bool is_cjk_ideograph(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// BERT's punctuation: all ASCII non-alphanumeric printables, plus Unicode P*.
bool is_bert_punct(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  return unicode::flags(c) & unicode::PUNCTUATION;
}

class WpmTokenizer final : public TokenizerImpl {
 public:
  WpmTokenizer(const Vocab& vocab, const TokenMap&) : vocab_(vocab) {
    hash_style_ = std::any_of(vocab.tokens.begin(), vocab.tokens.end(),
                                        [](const VocabToken& t) { return t.text.rfind("##", 0) == 0; });
    for (size_t i = 0; i < vocab.tokens.size(); ++i) {
      const auto& t = vocab.tokens[i];
      if (t.type == TokenType::CONTROL || t.type == TokenType::UNKNOWN) continue;
      std::string_view s = t.text;
      const auto id = static_cast<int32_t>(i);
      if (hash_style_) {
        if (s.rfind("##", 0) == 0) {
          cont_.try_emplace(s.substr(2), id);
        } else {
          start_.try_emplace(s, id);
        }
      } else if (s.rfind(kPhantom, 0) == 0) {
        start_.try_emplace(s.substr(kPhantom.size()), id);
      } else {
        cont_.try_emplace(s, id);
      }
      max_len_ = std::max(max_len_, s.size());
    }
  }

  void encode(std::string_view text, bool, std::vector<int32_t>& out) const override {
    for (const std::string& word : basic_tokenize(text)) wordpiece(word, out);
  }

  std::string piece(int32_t id) const override {
    std::string_view s = vocab_.tokens[id].text;
    if (hash_style_) return s.rfind("##", 0) == 0 ? std::string(s.substr(2)) : " " + std::string(s);
    if (s.rfind(kPhantom, 0) == 0) return " " + std::string(s.substr(kPhantom.size()));
    return std::string(s);
  }

 private:
  // Normalised words of `text` (HF BertNormalizer with lowercase=true, then
  // BertPreTokenizer).
  static std::vector<std::string> basic_tokenize(std::string_view text) {
    std::u32string cleaned;
    for (char32_t c : text::to_u32(text)) {
      const uint16_t f = unicode::flags(c);
      if (f & unicode::WHITESPACE) {
        cleaned.push_back(U' ');
      } else if (c == 0 || c == 0xFFFD || (f & unicode::OTHER)) {
        continue;
      } else if (is_cjk_ideograph(c)) {
        cleaned += U' ';
        cleaned.push_back(c);
        cleaned += U' ';
      } else {
        cleaned.push_back(c);
      }
    }
    std::vector<std::string> words(1);
    auto end_word = [&] {
      if (!words.back().empty()) words.emplace_back();
    };
    for (char32_t c : unicode::nfd(cleaned)) {
      const uint16_t f = unicode::flags(c);
      if (f & unicode::NONSPACING_MARK) continue;  // accent stripping
      if (f & unicode::WHITESPACE) {
        end_word();
      } else if (is_bert_punct(c)) {
        end_word();
        text::utf8_append(words.back(), c);
        words.emplace_back();
      } else {
        text::utf8_append(words.back(), unicode::to_lower(c));
      }
    }
    if (words.back().empty()) words.pop_back();
    return words;
  }

  // Greedy longest-match-first; the whole word is [UNK] when any part fails.
  void wordpiece(const std::string& word, std::vector<int32_t>& out) const {
    if (text::utf8_length(word) > kMaxWordChars) {
      out.push_back(vocab_.unk_id);
      return;
    }
    const size_t mark = out.size();
    for (size_t i = 0; i < word.size();) {
      const auto& table = i == 0 ? start_ : cont_;
      size_t j = std::min(word.size(), i + max_len_);
      int32_t hit = -1;
      for (; j > i; --j) {
        if (j < word.size() && (static_cast<unsigned char>(word[j]) & 0xC0) == 0x80) continue;  // mid-character
        auto it = table.find(std::string_view(word).substr(i, j - i));
        if (it != table.end()) {
          hit = it->second;
          break;
        }
      }
      if (hit < 0) {
        out.resize(mark);
        out.push_back(vocab_.unk_id);
        return;
      }
      out.push_back(hit);
      i = j;
    }
  }

  const Vocab& vocab_;
  TokenMap start_;  // word-initial pieces, without "▁"
  TokenMap cont_;   // continuation pieces, without "##"
  size_t max_len_ = 1;
  bool hash_style_ = false;  // "##" continuations instead of "▁" word starts
};

}  // namespace

std::unique_ptr<TokenizerImpl> make_wpm_tokenizer(const Vocab& vocab, const TokenMap& map) {
  return std::make_unique<WpmTokenizer>(vocab, map);
}

}  // namespace moerag::engine
