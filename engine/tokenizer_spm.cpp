// SentencePiece-style tokenizer for `llama` vocabularies. The GGUF file carries the
// pieces and their scores but not sentencepiece's .model protobuf, so this is the
// SentencePiece BPE algorithm written over the GGUF arrays: spaces become "▁"
// (with a leading "▁" when add_space_prefix), characters start as symbols, the
// adjacent pair whose concatenation is the highest-scoring piece merges first
// (leftmost on ties), and characters no piece covers fall back to "<0xXX>" tokens.
#include <array>
#include <cstdio>
#include <queue>

#include "engine/tokenizer_impl.h"
#include "engine/unicode_props.h"

namespace moerag::engine {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581 "▁"

class SpmTokenizer final : public TokenizerImpl {
 public:
  SpmTokenizer(const Vocab& vocab, const TokenMap& map) : vocab_(vocab), map_(map) {
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      int32_t id = find(name);
      if (id < 0) id = find(std::string(1, static_cast<char>(b)));  // some vocabularies spell bytes raw
      byte_ids_[b] = id >= 0 ? id : vocab.unk_id;
    }
    // An ASCII byte that no mergeable piece contains can never join a neighbour,
    // so the text can be cut there and each part merged alone with the same result
    // (bigrams never span the cut); for Llama this cuts at newlines and keeps the
    // merge queue small on long inputs.
    barrier_.fill(true);
    for (size_t i = 0; i < vocab.tokens.size(); ++i) {
      if (!mergeable(static_cast<int32_t>(i))) continue;
      for (unsigned char c : vocab.tokens[i].text) {
        if (c < 0x80) barrier_[c] = false;
      }
    }
    for (int c = 0x80; c < 256; ++c) barrier_[c] = false;
  }

  void encode(std::string_view raw, bool after_special, std::vector<int32_t>& out) const override {
    std::string text;
    text.reserve(raw.size() + 8);
    if (vocab_.add_space_prefix && after_special) text += kSpace;
    for (char c : raw) {
      if (c == ' ') {
        text += kSpace;
      } else {
        text += c;
      }
    }
    std::string_view rest = text;
    while (!rest.empty()) {
      size_t cut = 0;
      while (cut < rest.size() && !barrier_[static_cast<unsigned char>(rest[cut])]) ++cut;
      if (cut == 0) cut = 1;  // the barrier byte on its own
      merge_and_emit(rest.substr(0, cut), out);
      rest.remove_prefix(cut);
    }
  }

  std::string piece(int32_t id) const override {
    const auto& tok = vocab_.tokens[id];
    if (tok.type == TokenType::BYTE) {
      unsigned v = 0;
      if (std::sscanf(tok.text.c_str(), "<0x%02X>", &v) == 1) return std::string(1, static_cast<char>(v));
    }
    std::string s;
    s.reserve(tok.text.size());
    for (size_t i = 0; i < tok.text.size();) {
      if (tok.text.compare(i, kSpace.size(), kSpace) == 0) {
        s += ' ';
        i += kSpace.size();
      } else {
        s += tok.text[i++];
      }
    }
    return s;
  }

 private:
  struct Symbol {
    uint32_t start;  // byte offset in the escaped text
    uint32_t len;    // bytes; 0 once merged into its left neighbour
    int32_t prev;
    int32_t next;
    int32_t id;      // token id once known (after a merge), else -1
  };
  struct Bigram {
    float score;
    int32_t left;
    int32_t right;
    uint32_t len;  // bytes of the merged text, to detect stale entries
    int32_t id;
  };
  struct BigramOrder {
    bool operator()(const Bigram& a, const Bigram& b) const {
      return a.score < b.score || (a.score == b.score && a.left > b.left);
    }
  };
  using Queue = std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder>;

  int32_t find(std::string_view s) const {
    auto it = map_.find(s);
    return it == map_.end() ? -1 : it->second;
  }
  // Control, unknown and byte tokens never come out of merging text (sentencepiece
  // treats them as reserved pieces).
  bool mergeable(int32_t id) const {
    const TokenType t = vocab_.tokens[id].type;
    return t != TokenType::CONTROL && t != TokenType::UNKNOWN && t != TokenType::BYTE;
  }

  void try_pair(std::string_view text, const std::vector<Symbol>& syms, int32_t l, int32_t r, Queue& q) const {
    if (l < 0 || r < 0) return;
    const uint32_t len = syms[l].len + syms[r].len;
    const int32_t id = find(text.substr(syms[l].start, len));
    if (id < 0 || !mergeable(id)) return;
    q.push({vocab_.tokens[id].score, l, r, len, id});
  }

  void merge_and_emit(std::string_view text, std::vector<int32_t>& out) const {
    if (text.empty()) return;
    std::vector<Symbol> syms;
    syms.reserve(text.size());
    for (size_t off = 0; off < text.size();) {
      const size_t len = std::min(unicode::utf8_seq_len(static_cast<unsigned char>(text[off])), text.size() - off);
      const auto idx = static_cast<int32_t>(syms.size());
      syms.push_back({static_cast<uint32_t>(off), static_cast<uint32_t>(len), idx - 1,
                      off + len == text.size() ? -1 : idx + 1, -1});
      off += len;
    }
    Queue q;
    for (size_t i = 1; i < syms.size(); ++i) try_pair(text, syms, static_cast<int32_t>(i - 1), static_cast<int32_t>(i), q);
    while (!q.empty()) {
      const Bigram b = q.top();
      q.pop();
      Symbol& l = syms[b.left];
      Symbol& r = syms[b.right];
      if (l.len == 0 || r.len == 0 || l.len + r.len != b.len || l.next != b.right) continue;  // stale
      l.len += r.len;
      l.id = b.id;
      r.len = 0;
      l.next = r.next;
      if (r.next >= 0) syms[r.next].prev = b.left;
      try_pair(text, syms, l.prev, b.left, q);
      try_pair(text, syms, b.left, l.next, q);
    }
    for (int32_t i = 0; i != -1; i = syms[i].next) {
      const Symbol& s = syms[i];
      int32_t id = s.id >= 0 ? s.id : find(text.substr(s.start, s.len));
      if (id >= 0 && mergeable(id)) {
        out.push_back(id);
        continue;
      }
      for (uint32_t k = 0; k < s.len; ++k) {  // byte fallback
        const int32_t bid = byte_ids_[static_cast<unsigned char>(text[s.start + k])];
        if (bid >= 0) out.push_back(bid);
      }
    }
  }

  const Vocab& vocab_;
  const TokenMap& map_;
  std::array<int32_t, 256> byte_ids_{};
  std::array<bool, 256> barrier_{};  // bytes no mergeable piece contains
};

}  // namespace

std::unique_ptr<TokenizerImpl> make_spm_tokenizer(const Vocab& vocab, const TokenMap& map) {
  return std::make_unique<SpmTokenizer>(vocab, map);
}

}  // namespace moerag::engine
