// load_vocab(): GGUF `tokenizer.ggml.*` keys -> Vocab, with the defaults a key's
// absence implies (documented per key below), and validate_vocab().
#include "engine/vocab.h"

#include <optional>

#include "engine/gguf.h"

namespace moerag::engine {

const char* vocab_kind_name(VocabKind kind) {
  switch (kind) {
    case VocabKind::SPM: return "spm";
    case VocabKind::BPE: return "bpe";
    case VocabKind::WPM: return "wpm";
  }
  return "?";
}

namespace {

// A special id key: the stored value when present (u32 in converters' files; the
// value 0xFFFFFFFF, i.e. -1 as i32, means "none"), otherwise `fallback`.
int32_t special_id(const GgufFile& f, const char* key, int32_t fallback) {
  if (auto v = f.find_u32(key)) return static_cast<int32_t>(*v);
  if (auto v = f.find_i32(key)) return *v;
  return fallback;
}

Status check_id(const Vocab& v, int32_t id, const char* what) {
  if (id < -1 || id >= static_cast<int32_t>(v.tokens.size())) {
    return make_error(ErrorCode::INVALID_INPUT, std::string("tokenizer: ") + what + " id " +
                                                    std::to_string(id) + " is outside the vocabulary of " +
                                                    std::to_string(v.tokens.size()) + " tokens");
  }
  return ok_status();
}

}  // namespace

Status validate_vocab(const Vocab& v) {
  if (v.tokens.empty()) return make_error(ErrorCode::INVALID_INPUT, "tokenizer: the vocabulary is empty");
  if (v.tokens.size() > 0x7FFFFFFF) return make_error(ErrorCode::INVALID_INPUT, "tokenizer: vocabulary too large");
  MOERAG_TRY(check_id(v, v.bos_id, "BOS"));
  MOERAG_TRY(check_id(v, v.eos_id, "EOS"));
  MOERAG_TRY(check_id(v, v.eot_id, "EOT"));
  MOERAG_TRY(check_id(v, v.eom_id, "EOM"));
  MOERAG_TRY(check_id(v, v.unk_id, "UNK"));
  MOERAG_TRY(check_id(v, v.sep_id, "SEP"));
  MOERAG_TRY(check_id(v, v.pad_id, "PAD"));
  MOERAG_TRY(check_id(v, v.cls_id, "CLS"));
  MOERAG_TRY(check_id(v, v.mask_id, "MASK"));
  if (v.kind == VocabKind::WPM && v.unk_id < 0) {
    return make_error(ErrorCode::INVALID_INPUT, "tokenizer: a WordPiece vocabulary needs an unknown token");
  }
  return ok_status();
}

Result<Vocab> load_vocab(const GgufFile& f) {
  Vocab v;
  auto model = f.find_str("tokenizer.ggml.model");
  if (!model) {
    return make_error(ErrorCode::INVALID_INPUT, "tokenizer: the file has no tokenizer.ggml.model key");
  }
  v.model = *model;
  if (v.model == "llama") {
    v.kind = VocabKind::SPM;
  } else if (v.model == "gpt2") {
    v.kind = VocabKind::BPE;
  } else if (v.model == "bert") {
    v.kind = VocabKind::WPM;
  } else {
    return make_error(ErrorCode::INVALID_INPUT, "tokenizer: unsupported tokenizer.ggml.model '" + v.model +
                                                    "' (supported: llama, gpt2, bert)");
  }
  v.pre = f.find_str("tokenizer.ggml.pre").value_or("default");

  MOERAG_ASSIGN_OR_RETURN(auto texts, f.get_arr_str("tokenizer.ggml.tokens"));
  const size_t n = texts.size();
  std::vector<float> scores = f.find_arr_f32("tokenizer.ggml.scores").value_or(std::vector<float>());
  std::vector<int32_t> types = f.find_arr_i32("tokenizer.ggml.token_type").value_or(std::vector<int32_t>());
  if (!scores.empty() && scores.size() != n) {
    return make_error(ErrorCode::INVALID_INPUT, "tokenizer: tokenizer.ggml.scores has " +
                                                    std::to_string(scores.size()) + " entries for " +
                                                    std::to_string(n) + " tokens");
  }
  if (!types.empty() && types.size() != n) {
    return make_error(ErrorCode::INVALID_INPUT, "tokenizer: tokenizer.ggml.token_type has " +
                                                    std::to_string(types.size()) + " entries for " +
                                                    std::to_string(n) + " tokens");
  }
  v.tokens.resize(n);
  for (size_t i = 0; i < n; ++i) {
    v.tokens[i].text = std::move(texts[i]);
    if (!scores.empty()) v.tokens[i].score = scores[i];
    if (!types.empty()) {
      const int32_t t = types[i];
      v.tokens[i].type = (t >= 0 && t <= 6) ? static_cast<TokenType>(t) : TokenType::NORMAL;
    }
  }
  if (v.kind == VocabKind::BPE) {
    auto merges = f.find_arr_str("tokenizer.ggml.merges");
    if (!merges) return make_error(ErrorCode::INVALID_INPUT, "tokenizer: a gpt2 vocabulary needs tokenizer.ggml.merges");
    v.merges = std::move(*merges);
  }

  // Defaults when a key is absent follow the families' conventions: SentencePiece
  // llama vocabularies put <unk>, <s>, </s> at 0, 1, 2 and add BOS and a space
  // prefix; BERT vocabularies use [PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102,
  // [MASK]=103 and wrap input in CLS ... SEP; byte-level BPE adds nothing.
  const bool spm = v.kind == VocabKind::SPM;
  const bool wpm = v.kind == VocabKind::WPM;
  auto in_range = [&](int32_t id) { return id < static_cast<int32_t>(n) ? id : -1; };
  v.unk_id = special_id(f, "tokenizer.ggml.unknown_token_id", spm ? in_range(0) : wpm ? in_range(100) : -1);
  v.cls_id = special_id(f, "tokenizer.ggml.cls_token_id", wpm ? in_range(101) : -1);
  v.sep_id = special_id(f, "tokenizer.ggml.seperator_token_id", wpm ? in_range(102) : -1);  // sic: GGUF spelling
  v.pad_id = special_id(f, "tokenizer.ggml.padding_token_id", wpm ? in_range(0) : -1);
  v.mask_id = special_id(f, "tokenizer.ggml.mask_token_id", wpm ? in_range(103) : -1);
  v.bos_id = special_id(f, "tokenizer.ggml.bos_token_id", spm ? in_range(1) : wpm ? v.cls_id : -1);
  v.eos_id = special_id(f, "tokenizer.ggml.eos_token_id", spm ? in_range(2) : wpm ? v.sep_id : -1);
  v.eot_id = special_id(f, "tokenizer.ggml.eot_token_id", -1);
  v.eom_id = special_id(f, "tokenizer.ggml.eom_token_id", -1);
  v.add_bos = f.find_bool("tokenizer.ggml.add_bos_token").value_or(spm || wpm);
  v.add_eos = f.find_bool("tokenizer.ggml.add_eos_token").value_or(wpm);
  v.add_space_prefix = spm && f.find_bool("tokenizer.ggml.add_space_prefix").value_or(true);
  v.chat_template = f.find_str("tokenizer.chat_template").value_or("");

  MOERAG_TRY(validate_vocab(v));
  return v;
}

}  // namespace moerag::engine
