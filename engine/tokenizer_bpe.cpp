// Byte-level BPE for `gpt2` vocabularies (GPT-2, DeepSeek, Qwen, Llama 3): the
// model's pre-tokenizer cuts the text into words; each word's bytes are mapped to
// GPT-2's printable code points, start as one symbol per byte, and the adjacent
// pair with the lowest merge rank is merged until none applies (leftmost first on
// ties). Merges are keyed by token-id pairs, so a word costs one hash lookup per
// candidate pair and no string building.
#include <array>
#include <queue>

#include "core/text.h"
#include "engine/pretokenize.h"
#include "engine/tokenizer_impl.h"

namespace moerag::engine {
namespace {

// GPT-2's byte map: printable Latin-1 bytes (! .. ~, ¡ .. ¬, ® .. ÿ) stand for
// themselves; the other 68 bytes map, in byte order, to U+0100, U+0101, ...
struct ByteMap {
  std::array<std::string, 256> utf8;
  std::array<char32_t, 256> cp{};
  ByteMap() {
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool keeps = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      cp[b] = keeps ? static_cast<char32_t>(b) : next++;
      text::utf8_append(utf8[b], cp[b]);
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap map;
  return map;
}

class BpeTokenizer final : public TokenizerImpl {
 public:
  BpeTokenizer(const Vocab& vocab, const TokenMap& map, PreTokenizer pre)
      : vocab_(vocab), map_(map), pre_(pre), ignore_merges_(pre == PreTokenizer::LLAMA3) {
    for (int b = 0; b < 256; ++b) byte_ids_[b] = find(byte_map().utf8[b]);
    merges_.reserve(vocab.merges.size());
    std::string joined;
    for (size_t rank = 0; rank < vocab.merges.size(); ++rank) {
      const std::string& m = vocab.merges[rank];
      const size_t sp = m.find(' ', 1);
      if (sp == std::string::npos) continue;
      const int32_t l = find(std::string_view(m).substr(0, sp));
      const int32_t r = find(std::string_view(m).substr(sp + 1));
      joined.assign(m, 0, sp);
      joined.append(m, sp + 1);
      const int32_t merged = find(joined);
      if (l < 0 || r < 0 || merged < 0) continue;  // unusable merge: a part is no token
      merges_.try_emplace(pair_key(l, r), Merge{static_cast<int32_t>(rank), merged});
    }
  }

  void encode(std::string_view text, bool, std::vector<int32_t>& out) const override {
    std::vector<Sym> syms;
    std::string mapped;
    for (const auto& [b, e] : pretokenize(pre_, text)) encode_word(text.substr(b, e - b), syms, mapped, out);
  }

  std::string piece(int32_t id) const override {
    const auto& tok = vocab_.tokens[id];
    if (tok.type == TokenType::USER_DEFINED) return tok.text;  // added tokens are raw text
    std::string s;
    s.reserve(tok.text.size());
    for (size_t i = 0; i < tok.text.size();) {
      char32_t cp = 0;
      size_t len = text::utf8_decode(tok.text, i, cp);
      if (len == 0) {  // not UTF-8: keep the byte
        s += tok.text[i++];
        continue;
      }
      const int b = unicode_to_byte(cp);
      if (b >= 0) {
        s += static_cast<char>(b);
      } else {
        s.append(tok.text, i, len);
      }
      i += len;
    }
    return s;
  }

 private:
  struct Merge {
    int32_t rank;
    int32_t merged;
  };
  struct Sym {
    int32_t id;  // -1: a byte with no token; kDead once merged away
    int32_t prev;
    int32_t next;
  };
  struct Cand {
    int32_t rank;
    int32_t left;
    int32_t right;
    int32_t left_id;
    int32_t right_id;
    int32_t merged;
    bool operator>(const Cand& o) const { return rank > o.rank || (rank == o.rank && left > o.left); }
  };
  static constexpr int32_t kDead = -2;

  static uint64_t pair_key(int32_t l, int32_t r) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) | static_cast<uint32_t>(r);
  }
  int32_t find(std::string_view s) const {
    auto it = map_.find(s);
    return it == map_.end() ? -1 : it->second;
  }

  void push_pair(const std::vector<Sym>& syms, int32_t l, int32_t r,
                 std::priority_queue<Cand, std::vector<Cand>, std::greater<>>& q) const {
    if (l < 0 || r < 0 || syms[l].id < 0 || syms[r].id < 0) return;
    auto it = merges_.find(pair_key(syms[l].id, syms[r].id));
    if (it == merges_.end()) return;
    q.push({it->second.rank, l, r, syms[l].id, syms[r].id, it->second.merged});
  }

  void encode_word(std::string_view word, std::vector<Sym>& syms, std::string& mapped,
                   std::vector<int32_t>& out) const {
    if (word.size() == 1) {
      emit(byte_ids_[static_cast<unsigned char>(word[0])], out);
      return;
    }
    if (ignore_merges_) {  // Llama 3: a word that is a token is taken whole
      mapped.clear();
      for (char c : word) mapped += byte_map().utf8[static_cast<unsigned char>(c)];
      const int32_t id = find(mapped);
      if (id >= 0) {
        out.push_back(id);
        return;
      }
    }
    syms.clear();
    const auto n = static_cast<int32_t>(word.size());
    for (int32_t i = 0; i < n; ++i) {
      syms.push_back({byte_ids_[static_cast<unsigned char>(word[i])], i - 1, i + 1 < n ? i + 1 : -1});
    }
    std::priority_queue<Cand, std::vector<Cand>, std::greater<>> q;
    for (int32_t i = 0; i + 1 < n; ++i) push_pair(syms, i, i + 1, q);
    while (!q.empty()) {
      const Cand c = q.top();
      q.pop();
      Sym& l = syms[c.left];
      Sym& r = syms[c.right];
      if (l.id != c.left_id || r.id != c.right_id || l.next != c.right) continue;  // stale
      l.id = c.merged;
      l.next = r.next;
      if (r.next >= 0) syms[r.next].prev = c.left;
      r.id = kDead;
      push_pair(syms, l.prev, c.left, q);
      push_pair(syms, c.left, l.next, q);
    }
    for (int32_t i = 0; i != -1; i = syms[i].next) emit(syms[i].id, out);
  }

  void emit(int32_t id, std::vector<int32_t>& out) const {
    if (id >= 0) {
      out.push_back(id);
    } else if (vocab_.unk_id >= 0) {
      out.push_back(vocab_.unk_id);
    }
  }

  const Vocab& vocab_;
  const TokenMap& map_;
  PreTokenizer pre_;
  bool ignore_merges_;
  std::array<int32_t, 256> byte_ids_{};
  std::unordered_map<uint64_t, Merge> merges_;
};

}  // namespace

const std::string& byte_to_unicode(uint8_t b) { return byte_map().utf8[b]; }

int unicode_to_byte(char32_t cp) {
  static const auto inverse = [] {
    std::array<int16_t, 512> inv;
    inv.fill(-1);
    for (int b = 0; b < 256; ++b) inv[byte_map().cp[b]] = static_cast<int16_t>(b);
    return inv;
  }();
  return cp < inverse.size() ? inverse[cp] : -1;
}

Result<std::unique_ptr<TokenizerImpl>> make_bpe_tokenizer(const Vocab& vocab, const TokenMap& map) {
  MOERAG_ASSIGN_OR_RETURN(PreTokenizer pre, pre_tokenizer_from_name(vocab.pre));
  std::unique_ptr<TokenizerImpl> impl = std::make_unique<BpeTokenizer>(vocab, map, pre);
  return impl;
}

}  // namespace moerag::engine
