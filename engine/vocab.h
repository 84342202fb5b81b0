// Vocab: the tokenizer metadata of a GGUF file (`tokenizer.ggml.*`) as plain data:
// token texts, scores and types, BPE merges, special token ids and flags, and the
// chat template. load_vocab() is the one place that reads those keys and applies
// the defaults llama.cpp's converter conventions imply when a key is absent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace moerag::engine {

class GgufFile;

/// Which tokenization algorithm a vocabulary uses (`tokenizer.ggml.model`).
enum class VocabKind {
  SPM,  ///< "llama": SentencePiece-style BPE over scores with byte fallback
  BPE,  ///< "gpt2": byte-level BPE with merges and a pre-tokenizer
  WPM,  ///< "bert": WordPiece
};

/// "spm", "bpe", "wpm".
const char* vocab_kind_name(VocabKind kind);

/// Token type ids as stored in `tokenizer.ggml.token_type` (llama.cpp's
/// llama_token_type values).
enum class TokenType : uint8_t {
  UNDEFINED = 0,
  NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,       ///< BOS/EOS/chat markers: only parsed from text with parse_special
  USER_DEFINED = 4,  ///< added tokens: always matched in raw text, as HF does
  UNUSED = 5,
  BYTE = 6,          ///< SPM byte-fallback tokens "<0xXX>"
};

/// One vocabulary entry.
struct VocabToken {
  std::string text;  ///< as stored: "▁the" (SPM/WPM), "Ġthe" (byte-level BPE)
  float score = 0.0f;  ///< SPM merge priority (higher merges first); 0 elsewhere
  TokenType type = TokenType::NORMAL;
};

/// The tokenizer part of a GGUF file. Ids index `tokens`; -1 means "none".
struct Vocab {
  VocabKind kind = VocabKind::SPM;
  std::string model;  ///< `tokenizer.ggml.model` as written
  std::string pre;    ///< `tokenizer.ggml.pre` ("default" when absent)
  std::vector<VocabToken> tokens;    ///< size n_vocab
  std::vector<std::string> merges;   ///< BPE merges "left right", rank = index
  int32_t bos_id = -1;
  int32_t eos_id = -1;
  int32_t eot_id = -1;   ///< end of turn (`tokenizer.ggml.eot_token_id`)
  int32_t eom_id = -1;   ///< end of message (`tokenizer.ggml.eom_token_id`)
  int32_t unk_id = -1;
  int32_t sep_id = -1;
  int32_t pad_id = -1;
  int32_t cls_id = -1;
  int32_t mask_id = -1;
  bool add_bos = false;           ///< prepend BOS (WPM: CLS) when add_special
  bool add_eos = false;           ///< append EOS (WPM: SEP) when add_special
  bool add_space_prefix = false;  ///< SPM: text starts with "▁" as sentencepiece does
  std::string chat_template;      ///< `tokenizer.chat_template`, may be empty
};

/// Reads `tokenizer.ggml.*` and `tokenizer.chat_template` from a GGUF file.
/// INVALID_INPUT when the tokens are missing, arrays disagree in length, a
/// special id is out of range, or the model is not llama/gpt2/bert.
Result<Vocab> load_vocab(const GgufFile& file);

/// Checks a Vocab built by hand (tests, synthetic models) the same way.
Status validate_vocab(const Vocab& vocab);

}  // namespace moerag::engine
