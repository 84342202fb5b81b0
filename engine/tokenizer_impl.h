// The per-family encoders behind Tokenizer (engine/tokenizer.h): each turns one
// fragment of raw text (special tokens already split out) into ids and renders
// one token back to bytes. Internal to engine/.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "engine/vocab.h"

namespace moerag::engine {

/// Vocabulary text -> id (views into Vocab::tokens, which outlive it).
using TokenMap = std::unordered_map<std::string_view, int32_t>;

/// One tokenization algorithm over one vocabulary; immutable, thread-safe.
class TokenizerImpl {
 public:
  virtual ~TokenizerImpl() = default;
  /// Appends the ids of `text`, a fragment without special tokens.
  /// `after_special` is true for the first fragment and after a special token
  /// (SentencePiece then puts its space prefix).
  virtual void encode(std::string_view text, bool after_special, std::vector<int32_t>& out) const = 0;
  /// Bytes a NORMAL/USER_DEFINED/BYTE token stands for.
  virtual std::string piece(int32_t id) const = 0;
};

/// SentencePiece-style BPE over scores with byte fallback (`llama`).
std::unique_ptr<TokenizerImpl> make_spm_tokenizer(const Vocab& vocab, const TokenMap& map);
/// Byte-level BPE (`gpt2`) with the pre-tokenizer named by vocab.pre.
Result<std::unique_ptr<TokenizerImpl>> make_bpe_tokenizer(const Vocab& vocab, const TokenMap& map);
/// WordPiece (`bert`) with the BERT basic tokenizer in front.
std::unique_ptr<TokenizerImpl> make_wpm_tokenizer(const Vocab& vocab, const TokenMap& map);

/// GPT-2's reversible byte -> printable code point map (byte b to UTF-8 text).
const std::string& byte_to_unicode(uint8_t b);
/// The inverse: code point -> byte, or -1 for code points outside the map.
int unicode_to_byte(char32_t cp);

}  // namespace moerag::engine
