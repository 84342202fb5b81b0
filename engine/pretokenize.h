// Pre-tokenizers of the byte-level BPE vocabularies: the regex splits each model
// family declares in `tokenizer.ggml.pre`, written as hand scanners over Unicode
// categories (the GPT-2/Llama-3 expressions use look-ahead, which RE2 lacks).
// Internal to engine/: used by the BPE tokenizer and its tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace moerag::engine {

/// The pre-tokenizer families we implement. Each is a sequence of regex stages;
/// every stage splits every current piece into its matches and the gaps between
/// them (HF tokenizers' Split(behavior=Isolated) in a Sequence).
enum class PreTokenizer {
  DEFAULT,         ///< llama.cpp's fallback for BPE files that name none
  GPT2,            ///< "gpt-2": 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  LLAMA3,          ///< "llama-bpe": contractions (any case), \p{N}{1,3}, newline-aware spaces
  QWEN2,           ///< "qwen2": as LLAMA3 but one digit per piece
  DEEPSEEK_LLM,    ///< "deepseek-llm": six stages (newlines, letters, punctuation, ...)
  DEEPSEEK_CODER,  ///< "deepseek-coder": five stages, one digit per piece
  DEEPSEEK_V3,     ///< "deepseek-v3": digits by three, CJK runs, then a Llama-3-like split
};

/// Maps a `tokenizer.ggml.pre` value (and its known aliases) to a family;
/// INVALID_INPUT naming the known values otherwise.
Result<PreTokenizer> pre_tokenizer_from_name(std::string_view name);

/// Canonical name ("gpt-2", "llama-bpe", ...).
const char* pre_tokenizer_name(PreTokenizer kind);

/// Comma-separated list of the accepted `tokenizer.ggml.pre` values.
std::string known_pre_tokenizers();

/// A piece of the input as a byte range [first, second).
using ByteRange = std::pair<uint32_t, uint32_t>;

/// Splits `text` into pieces (words) that BPE then encodes independently. Pieces
/// tile the text in order. Invalid UTF-8 bytes are kept, each as one unmatched
/// character.
std::vector<ByteRange> pretokenize(PreTokenizer kind, std::string_view text);

}  // namespace moerag::engine
