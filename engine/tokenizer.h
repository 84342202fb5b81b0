// Tokenizer: the engine's front door for text <-> token ids, built from a GGUF
// vocabulary. One class covers the three algorithm families (SentencePiece-style
// BPE, byte-level BPE with per-model pre-tokenizers, WordPiece); special tokens,
// BOS/EOS and decoding are shared. StreamDecoder turns a token stream into
// well-formed UTF-8 text chunks for streaming responses.
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

class GgufFile;
class TokenizerImpl;

/// Encodes and decodes text for one vocabulary. Immutable after creation, so one
/// instance may be used from many threads at once.
class Tokenizer {
 public:
  /// Reads the vocabulary of a GGUF file (see load_vocab) and builds the tokenizer.
  /// INVALID_INPUT for unsupported models or pre-tokenizers, naming the known ones.
  static Result<std::unique_ptr<Tokenizer>> from_gguf(const GgufFile& file);
  /// Builds a tokenizer from a vocabulary assembled in memory (tests, synth).
  static Result<std::unique_ptr<Tokenizer>> from_vocab(Vocab vocab);
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  /// Token ids of `text` (UTF-8; invalid bytes are encoded as bytes where the
  /// vocabulary can, else as UNK). `add_special` adds BOS/EOS as the vocabulary asks
  /// (WordPiece: CLS ... SEP). `parse_special` turns the text of control tokens
  /// (e.g. "<|im_start|>") into their ids; user-defined (added) tokens are always
  /// matched, as Hugging Face tokenizers and llama.cpp do.
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

  /// Text of a sequence of ids: the bytes of every piece joined, with the space
  /// SentencePiece/WordPiece put before the first word removed. Control tokens are
  /// rendered only when `render_special`. The result may end in (or, for
  /// byte-level vocabularies, contain) incomplete UTF-8 when the ids do;
  /// StreamDecoder gives well-formed text. Ids outside the vocabulary are skipped.
  std::string decode(const std::vector<int32_t>& ids, bool render_special = false) const;

  /// The bytes one token stands for ("▁the" -> " the", "<0x0A>" -> "\n", control
  /// tokens -> their text when `render_special`, else ""); "" for a bad id.
  std::string piece(int32_t id, bool render_special = true) const;
  /// The vocabulary text of a token as stored ("▁the", "Ġthe"); "" for a bad id.
  const std::string& token_text(int32_t id) const;
  /// The id whose vocabulary text is exactly `text`, or -1.
  int32_t find_token(std::string_view text) const;

  int32_t bos() const { return vocab_.bos_id; }  ///< -1 when the vocabulary has none
  int32_t eos() const { return vocab_.eos_id; }  ///< -1 when the vocabulary has none
  int32_t unk() const { return vocab_.unk_id; }
  int32_t pad() const { return vocab_.pad_id; }
  /// True for ids that end a generation: EOS, EOT, EOM and control tokens whose
  /// text is a known end-of-turn marker (<|im_end|>, <|eot_id|>, <|EOT|>, ...).
  bool is_eog(int32_t id) const;
  /// True for CONTROL/UNKNOWN tokens (never printed to users by default).
  bool is_control(int32_t id) const;
  size_t n_vocab() const { return vocab_.tokens.size(); }
  VocabKind kind() const { return vocab_.kind; }
  /// The vocabulary it was built from (ids, types, chat template, flags).
  const Vocab& vocab() const { return vocab_; }

 private:
  explicit Tokenizer(Vocab vocab);
  Status init();
  // Splits text at special tokens: pieces of raw text and ids, in order.
  struct Fragment {
    std::string_view text;  // raw text when id < 0
    int32_t id = -1;
  };
  void partition(std::string_view text, bool parse_special, std::vector<Fragment>& out) const;

  Vocab vocab_;
  std::unordered_map<std::string_view, int32_t> by_text_;  // views into vocab_.tokens
  // Special/added tokens by first byte, longest first: candidates for partition().
  std::vector<std::vector<int32_t>> specials_by_byte_;
  std::vector<bool> eog_;
  bool strip_leading_space_ = false;
  std::unique_ptr<TokenizerImpl> impl_;

  friend class StreamDecoder;
};

/// Incremental detokenizer: push ids as they are generated, get back the text that
/// is complete so far. Bytes of a UTF-8 character split across tokens are held
/// back until the character is complete; invalid sequences become U+FFFD, so every
/// returned chunk is well-formed UTF-8.
class StreamDecoder {
 public:
  /// `tok` must outlive the decoder.
  explicit StreamDecoder(const Tokenizer& tok, bool render_special = false);
  /// Text made complete by this id ("" when everything is still held back).
  std::string push(int32_t id);
  /// Everything still held back (incomplete sequences become U+FFFD); call at the end.
  std::string flush();
  /// Forgets all state, ready for a new sequence.
  void reset();

 private:
  const Tokenizer& tok_;
  bool render_special_;
  bool at_start_ = true;
  std::string pending_;  // bytes not yet returned: at most one incomplete character
};

}  // namespace moerag::engine
