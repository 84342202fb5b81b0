// Tokenizer metadata for synthesised models: copied from a vocab GGUF, or a small
// synthetic vocabulary of the architecture's kind, complete enough for the
// tokenizers to load: SentencePiece-style with byte fallback (llama), GPT-2 byte-level
// BPE with merges (qwen2moe, qwen3moe, olmoe, deepseek2), WordPiece (bert).
#include <set>

#include "engine/synth.h"

namespace moerag::engine {
namespace {

// llama.cpp token types (tokenizer.ggml.token_type).
constexpr int32_t kNormal = 1, kUnknown = 2, kControl = 3, kByte = 6;

const char* const kWords[] = {
    "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not",
    "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they", "you", "were",
    "their", "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when", "will", "would",
    "who", "so", "no", "what", "model", "data", "document", "question", "answer", "search", "user", "system",
    "hello", "world", "expert", "token", "query", "table", "select", "where", "count", "name", "time", "year",
    "people", "way", "day", "man", "thing", "woman", "life", "child", "work", "school", "number", "group",
    "problem", "fact", "hand", "part", "place", "case", "week", "company", "point", "government", "home",
};

struct Vocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  std::set<std::string> seen;
  bool add(const std::string& t, int32_t type, float score = 0.0f) {
    if (!seen.insert(t).second) return false;
    tokens.push_back(t);
    types.push_back(type);
    scores.push_back(score);
    return true;
  }
};

// GPT-2's byte-to-unicode table: printable Latin-1 bytes stand for themselves, the
// rest are shifted to U+0100 and up, so every byte is a visible character.
std::string byte_char(int b) {
  bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  int cp = b;
  if (!printable) {
    int n = 0;
    for (int x = 0; x < b; ++x) {
      if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255))) ++n;
    }
    cp = 256 + n;
  }
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// Splits a byte-level word into its characters (each 1 or 2 UTF-8 bytes here).
std::vector<std::string> chars_of(const std::string& w) {
  std::vector<std::string> out;
  for (size_t i = 0; i < w.size();) {
    size_t n = (static_cast<unsigned char>(w[i]) >= 0xC0) ? 2 : 1;
    out.push_back(w.substr(i, n));
    i += n;
  }
  return out;
}

Status spm_vocab(int64_t n_vocab, GgufWriter& w) {
  if (n_vocab < 300) return Error(ErrorCode::INVALID_INPUT, "--vocab must be at least 300 for a llama (SPM) vocabulary");
  Vocab v;
  v.add("<unk>", kUnknown);
  v.add("<s>", kControl);
  v.add("</s>", kControl);
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    v.add(buf, kByte);
  }
  const std::string sp = "\xE2\x96\x81";  // U+2581, SentencePiece's space marker
  std::vector<std::string> pieces = {sp};
  for (char c = 'a'; c <= 'z'; ++c) pieces.push_back(std::string(1, c));
  for (char c = 'a'; c <= 'z'; ++c) pieces.push_back(sp + c);
  for (const char* word : kWords) pieces.push_back(sp + word);
  for (const char* word : kWords) pieces.push_back(word);
  for (char c = 'A'; c <= 'Z'; ++c) pieces.push_back(std::string(1, c));
  for (char c = '0'; c <= '9'; ++c) pieces.push_back(std::string(1, c));
  for (const char* p : {".", ",", "!", "?", "'", "-", ":", ";", "(", ")"}) pieces.push_back(p);
  for (char a = 'a'; a <= 'z'; ++a) {
    for (char b = 'a'; b <= 'z'; ++b) pieces.push_back(std::string{a, b});
  }
  float score = 0;
  for (const auto& p : pieces) {
    if (static_cast<int64_t>(v.tokens.size()) >= n_vocab) break;
    if (v.add(p, kNormal, score)) score -= 1.0f;
  }
  for (int i = 0; static_cast<int64_t>(v.tokens.size()) < n_vocab; ++i) v.add("<extra_" + std::to_string(i) + ">", kNormal, score--);
  w.set_str("tokenizer.ggml.model", "llama");
  w.set_str("tokenizer.ggml.pre", "default");
  w.set_arr_str("tokenizer.ggml.tokens", v.tokens);
  w.set_arr_f32("tokenizer.ggml.scores", v.scores);
  w.set_arr_i32("tokenizer.ggml.token_type", v.types);
  w.set_u32("tokenizer.ggml.bos_token_id", 1);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);
  w.set_u32("tokenizer.ggml.unknown_token_id", 0);
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  w.set_bool("tokenizer.ggml.add_eos_token", false);
  return ok_status();
}

Status bpe_vocab(Arch arch, int64_t n_vocab, GgufWriter& w) {
  std::vector<std::string> specials;
  std::string pre;
  if (arch == Arch::DEEPSEEK2) {
    specials = {"<\xEF\xBD\x9C" "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
                "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"};
    pre = "deepseek-llm";
  } else if (arch == Arch::OLMOE) {
    specials = {"<|endoftext|>", "<|padding|>"};
    pre = "olmo";
  } else {
    specials = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    pre = "qwen2";
  }
  const int64_t n_normal = n_vocab - static_cast<int64_t>(specials.size());
  if (n_normal < 300) return Error(ErrorCode::INVALID_INPUT, "--vocab must be at least 303 for a byte-level BPE vocabulary");
  Vocab v;
  for (int b = 0; b < 256; ++b) v.add(byte_char(b), kNormal);
  // Merges learnt by joining each word's symbols left to right: every merge's two
  // parts exist before it, and its result becomes a token.
  std::vector<std::string> merges;
  const std::string space = byte_char(' ');  // "Ġ"
  std::vector<std::string> words;
  for (char c = 'a'; c <= 'z'; ++c) words.push_back(space + c);
  for (const char* word : kWords) words.push_back(space + word);
  for (const char* word : kWords) words.push_back(word);
  for (char a = 'a'; a <= 'z'; ++a) {
    for (char b = 'a'; b <= 'z'; ++b) words.push_back(std::string{a, b});
  }
  for (const auto& word : words) {
    auto syms = chars_of(word);
    std::string cur = syms[0];
    for (size_t i = 1; i < syms.size() && static_cast<int64_t>(v.tokens.size()) < n_normal; ++i) {
      std::string next = cur + syms[i];
      if (v.add(next, kNormal)) merges.push_back(cur + " " + syms[i]);
      cur = next;
    }
  }
  for (int i = 0; static_cast<int64_t>(v.tokens.size()) < n_normal; ++i) v.add("<extra_" + std::to_string(i) + ">", kNormal);
  const auto first_special = static_cast<uint32_t>(v.tokens.size());
  for (const auto& s : specials) v.add(s, kControl);
  w.set_str("tokenizer.ggml.model", "gpt2");
  w.set_str("tokenizer.ggml.pre", pre);
  w.set_arr_str("tokenizer.ggml.tokens", v.tokens);
  w.set_arr_i32("tokenizer.ggml.token_type", v.types);
  w.set_arr_str("tokenizer.ggml.merges", merges);
  if (arch == Arch::DEEPSEEK2) {
    w.set_u32("tokenizer.ggml.bos_token_id", first_special);
    w.set_u32("tokenizer.ggml.eos_token_id", first_special + 1);
    w.set_bool("tokenizer.ggml.add_bos_token", true);
  } else if (arch == Arch::OLMOE) {
    w.set_u32("tokenizer.ggml.bos_token_id", first_special);
    w.set_u32("tokenizer.ggml.eos_token_id", first_special);
    w.set_u32("tokenizer.ggml.padding_token_id", first_special + 1);
    w.set_bool("tokenizer.ggml.add_bos_token", false);
  } else {
    w.set_u32("tokenizer.ggml.bos_token_id", first_special);
    w.set_u32("tokenizer.ggml.eos_token_id", first_special + 2);
    w.set_u32("tokenizer.ggml.padding_token_id", first_special);
    w.set_bool("tokenizer.ggml.add_bos_token", false);
    // The ChatML template the Qwen families ship.
    w.set_str("tokenizer.chat_template",
              "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
              "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
              "{% endif %}");
  }
  return ok_status();
}

Status wpm_vocab(int64_t n_vocab, GgufWriter& w) {
  if (n_vocab < 100) return Error(ErrorCode::INVALID_INPUT, "--vocab must be at least 100 for a bert (WordPiece) vocabulary");
  Vocab v;
  v.add("[PAD]", kControl);
  v.add("[UNK]", kUnknown);
  v.add("[CLS]", kControl);
  v.add("[SEP]", kControl);
  v.add("[MASK]", kControl);
  std::vector<std::string> pieces;
  for (const char* p : {".", ",", "!", "?", "'", "-", ":", ";", "(", ")"}) pieces.push_back(p);
  for (char c = '0'; c <= '9'; ++c) pieces.push_back(std::string(1, c));
  for (char c = 'a'; c <= 'z'; ++c) pieces.push_back(std::string(1, c));
  for (char c = 'a'; c <= 'z'; ++c) pieces.push_back(std::string("##") + c);
  for (char c = '0'; c <= '9'; ++c) pieces.push_back(std::string("##") + c);
  for (const char* word : kWords) pieces.push_back(word);
  for (const char* word : kWords) pieces.push_back(std::string("##") + word);
  for (char a = 'a'; a <= 'z'; ++a) {
    for (char b = 'a'; b <= 'z'; ++b) pieces.push_back(std::string("##") + a + b);
  }
  for (const auto& p : pieces) {
    if (static_cast<int64_t>(v.tokens.size()) >= n_vocab) break;
    v.add(p, kNormal);
  }
  for (int i = 0; static_cast<int64_t>(v.tokens.size()) < n_vocab; ++i) v.add("[unused" + std::to_string(i) + "]", kNormal);
  w.set_str("tokenizer.ggml.model", "bert");
  w.set_str("tokenizer.ggml.pre", "default");
  w.set_arr_str("tokenizer.ggml.tokens", v.tokens);
  w.set_arr_i32("tokenizer.ggml.token_type", v.types);
  w.set_u32("tokenizer.ggml.unknown_token_id", 1);
  w.set_u32("tokenizer.ggml.seperator_token_id", 3);  // sic: llama.cpp's key spelling
  w.set_u32("tokenizer.ggml.padding_token_id", 0);
  w.set_u32("tokenizer.ggml.cls_token_id", 2);
  w.set_u32("tokenizer.ggml.mask_token_id", 4);
  return ok_status();
}

}  // namespace

Result<int64_t> synth_vocab(const SynthOptions& o, GgufWriter& w) {
  if (!o.vocab_from.empty()) {
    MOERAG_ASSIGN_OR_RETURN(auto src, GgufFile::open(o.vocab_from));
    const GgufArray* tokens = src->get_arr("tokenizer.ggml.tokens");
    if (tokens == nullptr || tokens->type != GgufType::STRING || tokens->size() == 0) {
      return Error(ErrorCode::INVALID_INPUT, "'" + o.vocab_from + "' has no tokenizer.ggml.tokens string array");
    }
    for (const auto& kv : src->metadata()) {
      if (kv.key.rfind("tokenizer.", 0) == 0) w.set(kv.key, kv.value);
    }
    return static_cast<int64_t>(tokens->size());
  }
  int64_t n = o.n_vocab > 0 ? o.n_vocab : 512;
  switch (o.arch) {
    case Arch::LLAMA: MOERAG_TRY(spm_vocab(n, w)); break;
    case Arch::BERT: MOERAG_TRY(wpm_vocab(n, w)); break;
    default: MOERAG_TRY(bpe_vocab(o.arch, n, w)); break;
  }
  return n;
}

}  // namespace moerag::engine
