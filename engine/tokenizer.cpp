// Tokenizer front door: builds the text->id map and the special-token table, splits
// input at special/added tokens (leftmost-longest, as Hugging Face's added-token
// matcher does), dispatches raw fragments to the family encoder, adds BOS/EOS, and
// decodes ids back to bytes (whole or streamed).
#include "engine/tokenizer.h"

#include <algorithm>

#include "core/text.h"
#include "engine/gguf.h"
#include "engine/tokenizer_impl.h"
#include "engine/unicode_props.h"

namespace moerag::engine {
namespace {

// Texts of control/added tokens that end a turn in the families we know.
constexpr std::string_view kEogTexts[] = {
    "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
    "<|end_of_text|>", "<|EOT|>", "<｜end▁of▁sentence｜>", "<｜EOT｜>", "</s>",
};

bool is_special_type(TokenType t) {
  return t == TokenType::CONTROL || t == TokenType::UNKNOWN || t == TokenType::USER_DEFINED;
}

const std::string kEmpty;

}  // namespace

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {}
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_gguf(const GgufFile& file) {
  MOERAG_ASSIGN_OR_RETURN(Vocab vocab, load_vocab(file));
  return from_vocab(std::move(vocab));
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_vocab(Vocab vocab) {
  MOERAG_TRY(validate_vocab(vocab));
  std::unique_ptr<Tokenizer> tok(new Tokenizer(std::move(vocab)));
  MOERAG_TRY(tok->init());
  return tok;
}

Status Tokenizer::init() {
  const auto& toks = vocab_.tokens;
  by_text_.reserve(toks.size());
  // Later duplicates win, as in llama.cpp's loader.
  for (size_t i = 0; i < toks.size(); ++i) by_text_[toks[i].text] = static_cast<int32_t>(i);

  specials_by_byte_.assign(256, {});
  for (size_t i = 0; i < toks.size(); ++i) {
    if (!is_special_type(toks[i].type) || toks[i].text.empty()) continue;
    specials_by_byte_[static_cast<unsigned char>(toks[i].text[0])].push_back(static_cast<int32_t>(i));
  }
  for (auto& bucket : specials_by_byte_) {
    std::stable_sort(bucket.begin(), bucket.end(),
                     [&](int32_t a, int32_t b) { return toks[a].text.size() > toks[b].text.size(); });
  }

  eog_.assign(toks.size(), false);
  for (int32_t id : {vocab_.eos_id, vocab_.eot_id, vocab_.eom_id}) {
    if (id >= 0) eog_[id] = true;
  }
  for (size_t i = 0; i < toks.size(); ++i) {
    if (toks[i].type != TokenType::CONTROL && toks[i].type != TokenType::USER_DEFINED) continue;
    for (auto marker : kEogTexts) {
      if (toks[i].text == marker) eog_[i] = true;
    }
  }

  strip_leading_space_ = (vocab_.kind == VocabKind::SPM && vocab_.add_space_prefix) || vocab_.kind == VocabKind::WPM;
  switch (vocab_.kind) {
    case VocabKind::SPM: impl_ = make_spm_tokenizer(vocab_, by_text_); break;
    case VocabKind::WPM: impl_ = make_wpm_tokenizer(vocab_, by_text_); break;
    case VocabKind::BPE: {
      MOERAG_ASSIGN_OR_RETURN(impl_, make_bpe_tokenizer(vocab_, by_text_));
      break;
    }
  }
  return ok_status();
}

void Tokenizer::partition(std::string_view text, bool parse_special, std::vector<Fragment>& out) const {
  const auto& toks = vocab_.tokens;
  size_t raw_start = 0;
  size_t i = 0;
  while (i < text.size()) {
    int32_t hit = -1;
    for (int32_t id : specials_by_byte_[static_cast<unsigned char>(text[i])]) {
      const auto& tok = toks[id];
      if (!parse_special && tok.type != TokenType::USER_DEFINED) continue;
      if (text.compare(i, tok.text.size(), tok.text) == 0) {
        hit = id;
        break;  // longest first
      }
    }
    if (hit < 0) {
      ++i;
      continue;
    }
    if (raw_start < i) out.push_back({text.substr(raw_start, i - raw_start), -1});
    out.push_back({{}, hit});
    i += toks[hit].text.size();
    raw_start = i;
  }
  if (raw_start < text.size()) out.push_back({text.substr(raw_start), -1});
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<int32_t> out;
  const bool wpm = vocab_.kind == VocabKind::WPM;
  const int32_t first = wpm && vocab_.cls_id >= 0 ? vocab_.cls_id : vocab_.bos_id;
  const int32_t last = wpm && vocab_.sep_id >= 0 ? vocab_.sep_id : vocab_.eos_id;
  if (add_special && vocab_.add_bos && first >= 0) out.push_back(first);

  std::vector<Fragment> fragments;
  partition(text, parse_special, fragments);
  bool after_special = true;
  for (const auto& f : fragments) {
    if (f.id >= 0) {
      out.push_back(f.id);
      after_special = true;
    } else {
      impl_->encode(f.text, after_special, out);
      after_special = false;
    }
  }
  if (add_special && vocab_.add_eos && last >= 0) out.push_back(last);
  return out;
}

std::string Tokenizer::piece(int32_t id, bool render_special) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_.tokens.size()) return {};
  const auto& tok = vocab_.tokens[id];
  if (tok.type == TokenType::CONTROL) return render_special ? tok.text : std::string();
  if (tok.type == TokenType::UNKNOWN) return tok.text;
  return impl_->piece(id);
}

const std::string& Tokenizer::token_text(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_.tokens.size()) return kEmpty;
  return vocab_.tokens[id].text;
}

int32_t Tokenizer::find_token(std::string_view text) const {
  auto it = by_text_.find(text);
  return it == by_text_.end() ? -1 : it->second;
}

bool Tokenizer::is_eog(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < eog_.size() && eog_[id];
}

bool Tokenizer::is_control(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_.tokens.size()) return false;
  const auto t = vocab_.tokens[id].type;
  return t == TokenType::CONTROL || t == TokenType::UNKNOWN;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool render_special) const {
  std::string out;
  bool at_start = true;
  for (int32_t id : ids) {
    std::string p = piece(id, render_special);
    if (p.empty()) continue;
    if (at_start && strip_leading_space_ && p[0] == ' ') p.erase(0, 1);
    at_start = false;
    out += p;
  }
  return out;
}

// ---- StreamDecoder ----

namespace {

// Length of the tail of s that is an incomplete (but so far valid) UTF-8 sequence.
size_t incomplete_tail(const std::string& s) {
  const size_t n = s.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    if (c < 0x80) return 0;
    const size_t need = unicode::utf8_seq_len(c);
    return need > back ? back : 0;
  }
  return 0;
}

}  // namespace

StreamDecoder::StreamDecoder(const Tokenizer& tok, bool render_special)
    : tok_(tok), render_special_(render_special) {}

std::string StreamDecoder::push(int32_t id) {
  std::string p = tok_.piece(id, render_special_);
  if (p.empty()) return {};
  if (at_start_ && tok_.strip_leading_space_ && p[0] == ' ') p.erase(0, 1);
  at_start_ = false;
  pending_ += p;
  const size_t keep = incomplete_tail(pending_);
  std::string ready = text::utf8_sanitize(std::string_view(pending_).substr(0, pending_.size() - keep));
  pending_.erase(0, pending_.size() - keep);
  return ready;
}

std::string StreamDecoder::flush() {
  // A character cut off by the end of the stream is one U+FFFD, not one per byte.
  const size_t cut = incomplete_tail(pending_);
  std::string rest = text::utf8_sanitize(std::string_view(pending_).substr(0, pending_.size() - cut));
  if (cut > 0) rest += "\xEF\xBF\xBD";
  pending_.clear();
  return rest;
}

void StreamDecoder::reset() {
  pending_.clear();
  at_start_ = true;
}

}  // namespace moerag::engine
