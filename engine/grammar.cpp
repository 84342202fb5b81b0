// Grammar compilation (expressions -> flat alternatives of char classes and rule
// references; repetitions become right-recursive helper rules), the byte-level
// matcher (a set of pushdown stacks, expanded until every top is a char class) and
// the token mask (a depth-first walk of the vocabulary trie that prunes a subtree as
// soon as no stack survives its prefix).
#include "engine/grammar.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>

#include "engine/tokenizer.h"

namespace moerag::engine {
namespace {

using Sym = Grammar::Sym;
using Alt = std::vector<Sym>;

std::vector<uint32_t> utf8_cps(const std::string& s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    uint32_t cp = len == 1 ? b : b & (0xFF >> (len + 1));
    for (int k = 1; k < len && i + static_cast<size_t>(k) < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0x3F);
    out.push_back(cp);
    i += static_cast<size_t>(len);
  }
  return out;
}

class Compiler {
 public:
  Result<std::shared_ptr<const Grammar>> run(const GrammarRules& rules, const std::string& root) {
    for (const auto& [name, expr] : rules) {
      if (index_.count(name)) return Error(ErrorCode::INVALID_INPUT, "grammar: rule '" + name + "' is defined twice");
      index_[name] = new_rule();
    }
    if (!index_.count(root)) return Error(ErrorCode::INVALID_INPUT, "grammar: no '" + root + "' rule");
    for (const auto& [name, expr] : rules) {
      std::vector<Alt> alts;
      MOERAG_TRY(alternatives(expr, alts));
      alts_[static_cast<size_t>(index_[name])] = std::move(alts);
    }
    auto g = std::make_shared<Grammar>();
    g->classes = std::move(classes_);
    g->root = index_[root];
    for (const auto& alts : alts_) {
      std::vector<int32_t> starts;
      for (const Alt& a : alts) {
        starts.push_back(static_cast<int32_t>(g->syms.size()));
        g->syms.insert(g->syms.end(), a.begin(), a.end());
        g->syms.push_back({Sym::END, 0});
      }
      g->rules.push_back(std::move(starts));
    }
    MOERAG_TRY(check_left_recursion(*g));
    for (auto& c : g->classes) fill_first_bytes(c);
    return std::shared_ptr<const Grammar>(std::move(g));
  }

 private:
  // Which UTF-8 lead bytes can begin a character of the class: ASCII bytes exactly,
  // a multi-byte lead byte when the class meets the code points it introduces.
  static void fill_first_bytes(Grammar::CharClass& c) {
    auto set = [&c](uint32_t b) { c.first_bytes[b >> 6] |= uint64_t{1} << (b & 63); };
    for (uint32_t b = 0; b < 0x80; ++b)
      if (c.matches(b)) set(b);
    for (uint32_t b = 0xC2; b <= 0xDF; ++b)  // 2 bytes: 5 payload bits of the lead, 6 more
      if (c.intersects((b & 0x1F) << 6, ((b & 0x1F) << 6) | 0x3F)) set(b);
    for (uint32_t b = 0xE0; b <= 0xEF; ++b)  // 3 bytes: 4 + 12 bits
      if (c.intersects(std::max<uint32_t>((b & 0x0F) << 12, 0x800), ((b & 0x0F) << 12) | 0xFFF)) set(b);
    for (uint32_t b = 0xF0; b <= 0xF4; ++b)  // 4 bytes: 3 + 18 bits, up to U+10FFFF
      if (c.intersects(std::max<uint32_t>((b & 0x07) << 18, 0x10000), std::min<uint32_t>(((b & 0x07) << 18) | 0x3FFFF, 0x10FFFF)))
        set(b);
  }

  int32_t new_rule() {
    alts_.emplace_back();
    return static_cast<int32_t>(alts_.size() - 1);
  }

  int32_t add_class(std::vector<std::pair<uint32_t, uint32_t>> r, bool negated) {
    std::sort(r.begin(), r.end());
    Grammar::CharClass c;
    c.negated = negated;
    for (const auto& p : r) {
      if (!c.ranges.empty() && p.first <= c.ranges.back().second + 1) {
        c.ranges.back().second = std::max(c.ranges.back().second, p.second);
      } else {
        c.ranges.push_back(p);
      }
    }
    classes_.push_back(std::move(c));
    return static_cast<int32_t>(classes_.size() - 1);
  }

  Status alternatives(const GrammarExpr& e, std::vector<Alt>& out) {
    if (e.kind == GrammarExpr::Kind::ALT) {
      for (const auto& item : e.items) MOERAG_TRY(alternatives(item, out));
      return ok_status();
    }
    Alt a;
    MOERAG_TRY(sequence(e, a));
    out.push_back(std::move(a));
    return ok_status();
  }

  // An anonymous rule for `e`, returned as a reference symbol.
  Result<Sym> anon(const GrammarExpr& e) {
    const int32_t r = new_rule();
    std::vector<Alt> alts;
    MOERAG_TRY(alternatives(e, alts));
    alts_[static_cast<size_t>(r)] = std::move(alts);
    return Sym{Sym::RULE, r};
  }

  Status sequence(const GrammarExpr& e, Alt& out) {
    using K = GrammarExpr::Kind;
    switch (e.kind) {
      case K::LITERAL:
        for (uint32_t cp : utf8_cps(e.text)) out.push_back({Sym::CHAR, add_class({{cp, cp}}, false)});
        return ok_status();
      case K::CLASS:
        out.push_back({Sym::CHAR, add_class(e.ranges, e.negated)});
        return ok_status();
      case K::REF: {
        auto it = index_.find(e.text);
        if (it == index_.end()) return Error(ErrorCode::INVALID_INPUT, "grammar: undefined rule '" + e.text + "'");
        out.push_back({Sym::RULE, it->second});
        return ok_status();
      }
      case K::SEQ:
        for (const auto& item : e.items) MOERAG_TRY(sequence(item, out));
        return ok_status();
      case K::ALT: {
        MOERAG_ASSIGN_OR_RETURN(Sym s, anon(e));
        out.push_back(s);
        return ok_status();
      }
      case K::REPEAT: return repeat(e, out);
    }
    return ok_status();
  }

  // x{min,max}: min copies of x, then a right-recursive tail rule:
  //   unbounded: S ::= x S | ε;  bounded: O_k ::= x O_{k-1} | ε, O_1 ::= x | ε.
  Status repeat(const GrammarExpr& e, Alt& out) {
    if (e.items.size() != 1 || e.min < 0 || (e.max >= 0 && e.max < e.min)) {
      return Error(ErrorCode::INVALID_INPUT, "grammar: bad repetition");
    }
    const GrammarExpr& x = e.items[0];
    Alt item;  // x as one or a few symbols
    if (x.kind == GrammarExpr::Kind::CLASS || x.kind == GrammarExpr::Kind::REF ||
        x.kind == GrammarExpr::Kind::LITERAL) {
      MOERAG_TRY(sequence(x, item));
    } else {
      MOERAG_ASSIGN_OR_RETURN(Sym s, anon(x));
      item.push_back(s);
    }
    for (int32_t k = 0; k < e.min; ++k) out.insert(out.end(), item.begin(), item.end());
    if (e.max == e.min) return ok_status();
    if (e.max < 0) {
      const int32_t r = new_rule();
      Alt more = item;
      more.push_back({Sym::RULE, r});
      alts_[static_cast<size_t>(r)] = {more, Alt{}};
      out.push_back({Sym::RULE, r});
      return ok_status();
    }
    int32_t prev = -1;
    for (int32_t k = 0; k < e.max - e.min; ++k) {
      const int32_t r = new_rule();
      Alt more = item;
      if (prev >= 0) more.push_back({Sym::RULE, prev});
      alts_[static_cast<size_t>(r)] = {more, Alt{}};
      prev = r;
    }
    out.push_back({Sym::RULE, prev});
    return ok_status();
  }

  // A rule that can reach itself before consuming a character would expand forever.
  Status check_left_recursion(const Grammar& g) {
    const size_t n = g.rules.size();
    std::vector<bool> nullable(n, false);
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t r = 0; r < n; ++r) {
        if (nullable[r]) continue;
        for (int32_t p : g.rules[r]) {
          bool all = true;
          for (; g.syms[static_cast<size_t>(p)].kind != Sym::END; ++p) {
            const Sym& s = g.syms[static_cast<size_t>(p)];
            if (s.kind == Sym::CHAR || !nullable[static_cast<size_t>(s.arg)]) {
              all = false;
              break;
            }
          }
          if (all) nullable[r] = changed = true;
        }
      }
    }
    std::vector<std::vector<int32_t>> left(n);  // rules reachable at the left edge
    for (size_t r = 0; r < n; ++r) {
      for (int32_t p : g.rules[r]) {
        for (; g.syms[static_cast<size_t>(p)].kind == Sym::RULE; ++p) {
          const int32_t t = g.syms[static_cast<size_t>(p)].arg;
          left[r].push_back(t);
          if (!nullable[static_cast<size_t>(t)]) break;
        }
      }
    }
    std::vector<int> mark(n, 0);  // 0 new, 1 on the path, 2 done
    std::function<bool(size_t)> cyclic = [&](size_t r) {
      if (mark[r] == 1) return true;
      if (mark[r] == 2) return false;
      mark[r] = 1;
      for (int32_t t : left[r])
        if (cyclic(static_cast<size_t>(t))) return true;
      mark[r] = 2;
      return false;
    };
    for (size_t r = 0; r < n; ++r) {
      if (cyclic(r)) {
        std::string name = "(anonymous)";
        for (const auto& [k, v] : index_)
          if (static_cast<size_t>(v) == r) name = k;
        return Error(ErrorCode::INVALID_INPUT, "grammar: left recursion through rule '" + name + "'");
      }
    }
    return ok_status();
  }

  std::map<std::string, int32_t> index_;
  std::vector<std::vector<Alt>> alts_;
  std::vector<Grammar::CharClass> classes_;
};

}  // namespace

bool Grammar::CharClass::matches(uint32_t cp) const {
  bool in = false;
  for (const auto& [lo, hi] : ranges) {
    if (cp < lo) break;
    if (cp <= hi) {
      in = true;
      break;
    }
  }
  return in != negated;
}

bool Grammar::CharClass::intersects(uint32_t lo, uint32_t hi) const {
  if (!negated) {
    for (const auto& r : ranges)
      if (r.first <= hi && r.second >= lo) return true;
    return false;
  }
  uint32_t next = lo;  // first code point in [lo, hi] not yet known to be covered
  for (const auto& r : ranges) {
    if (r.second < next) continue;
    if (r.first > next) return true;
    if (r.second >= hi) return false;
    next = r.second + 1;
  }
  return next <= hi;
}

Result<std::shared_ptr<const Grammar>> Grammar::compile(const GrammarRules& rules, const std::string& root) {
  return Compiler().run(rules, root);
}

Result<std::shared_ptr<const Grammar>> Grammar::parse(std::string_view gbnf, const std::string& root) {
  MOERAG_ASSIGN_OR_RETURN(GrammarRules rules, parse_gbnf(gbnf));
  return compile(rules, root);
}

bool Grammar::accepts(std::string_view text) const {
  // A non-owning shared_ptr: the state does not outlive this call.
  GrammarState st(std::shared_ptr<const Grammar>(std::shared_ptr<const Grammar>{}, this));
  return st.advance(text) && st.accepting();
}

GrammarState::GrammarState(std::shared_ptr<const Grammar> grammar) : g_(std::move(grammar)) {
  for (int32_t start : g_->rules[static_cast<size_t>(g_->root)]) expand({start}, stacks_);
  std::sort(stacks_.begin(), stacks_.end());
  stacks_.erase(std::unique(stacks_.begin(), stacks_.end()), stacks_.end());
}

// Expands until the top is a char class (or the stack is empty: accepted).
void GrammarState::expand(Stack s, std::vector<Stack>& out) const {
  while (!s.empty() && g_->syms[static_cast<size_t>(s.back())].kind == Sym::END) s.pop_back();
  if (s.empty() || g_->syms[static_cast<size_t>(s.back())].kind == Sym::CHAR) {
    out.push_back(std::move(s));
    return;
  }
  const int32_t rule = g_->syms[static_cast<size_t>(s.back())].arg;
  ++s.back();  // the caller continues after the reference
  while (!s.empty() && g_->syms[static_cast<size_t>(s.back())].kind == Sym::END) s.pop_back();  // tail position
  for (int32_t start : g_->rules[static_cast<size_t>(rule)]) {
    Stack t = s;
    t.push_back(start);
    expand(std::move(t), out);
  }
}

bool GrammarState::advance_cp(uint32_t cp) {
  std::vector<Stack>& next = scratch_;
  next.clear();
  for (const Stack& s : stacks_) {
    if (s.empty()) continue;
    const Sym& sym = g_->syms[static_cast<size_t>(s.back())];
    if (!g_->classes[static_cast<size_t>(sym.arg)].matches(cp)) continue;
    Stack t = s;
    ++t.back();
    expand(std::move(t), next);
  }
  std::sort(next.begin(), next.end());
  next.erase(std::unique(next.begin(), next.end()), next.end());
  stacks_.swap(next);
  return !stacks_.empty();
}

void GrammarState::next_bytes(uint64_t bits[4]) const {
  bits[0] = bits[1] = bits[2] = bits[3] = 0;
  if (need_ > 0) {  // inside a character: any continuation byte (advance_byte checks the rest)
    bits[2] = ~uint64_t{0};
    return;
  }
  for (const Stack& s : stacks_) {
    if (s.empty()) continue;
    const auto& fb = g_->classes[static_cast<size_t>(g_->syms[static_cast<size_t>(s.back())].arg)].first_bytes;
    for (int i = 0; i < 4; ++i) bits[i] |= fb[i];
  }
}

// Some stack accepts a character that starts with the bytes held so far.
bool GrammarState::viable_partial() const {
  static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};  // shortest form per length (no overlongs)
  const uint32_t hi = std::min<uint32_t>((cp_ << (6 * need_)) | ((1u << (6 * need_)) - 1), 0x10FFFF);
  const uint32_t lo = std::max(cp_ << (6 * need_), kMin[len_]);
  if (lo > hi || (lo >= 0xD800 && hi <= 0xDFFF)) return false;  // beyond Unicode, or only surrogates
  for (const Stack& s : stacks_) {
    if (s.empty()) continue;
    if (g_->classes[static_cast<size_t>(g_->syms[static_cast<size_t>(s.back())].arg)].intersects(lo, hi)) return true;
  }
  return false;
}

bool GrammarState::advance_byte(uint8_t b) {
  if (stacks_.empty()) return false;
  bool ok;
  if (need_ == 0) {
    if (b < 0x80) return advance_cp(b);
    const int len = b >= 0xF8 ? 0 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
    if (len == 0) {
      ok = false;
    } else {
      cp_ = b & (0xFFu >> (len + 1));
      need_ = len - 1;
      len_ = len;
      ok = viable_partial();
    }
  } else if ((b & 0xC0) != 0x80) {
    ok = false;
  } else {
    cp_ = (cp_ << 6) | (b & 0x3Fu);
    if (--need_ == 0) {
      static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
      if (cp_ >= kMin[len_] && cp_ <= 0x10FFFF && (cp_ < 0xD800 || cp_ > 0xDFFF)) return advance_cp(cp_);
      stacks_.clear();
      return false;
    }
    ok = viable_partial();
  }
  if (!ok) stacks_.clear();
  return ok;
}

bool GrammarState::advance(std::string_view bytes) {
  for (char c : bytes)
    if (!advance_byte(static_cast<uint8_t>(c))) return false;
  return true;
}

bool GrammarState::accepting() const {
  if (need_ != 0) return false;
  for (const Stack& s : stacks_)
    if (s.empty()) return true;
  return false;
}

bool GrammarState::can_continue() const {
  for (const Stack& s : stacks_)
    if (!s.empty()) return true;
  return false;
}

TokenTrie::TokenTrie(const Tokenizer& tok) {
  nodes.emplace_back();
  for (int32_t id = 0; id < static_cast<int32_t>(tok.n_vocab()); ++id) {
    if (tok.is_eog(id)) {
      eog_.push_back(id);
      continue;
    }
    if (tok.is_control(id)) continue;
    const std::string piece = tok.piece(id, false);
    if (piece.empty()) continue;
    int32_t n = 0;
    for (char c : piece) {
      const auto b = static_cast<uint8_t>(c);
      int32_t next = -1;
      for (const auto& [kb, kn] : nodes[static_cast<size_t>(n)].kids)
        if (kb == b) next = kn;
      if (next < 0) {
        next = static_cast<int32_t>(nodes.size());
        nodes[static_cast<size_t>(n)].kids.emplace_back(b, next);
        nodes.emplace_back();
      }
      n = next;
    }
    nodes[static_cast<size_t>(n)].tokens.push_back(id);
  }
}

namespace {

// Depth-first over the trie with one reusable state per depth (assignment keeps the
// vectors' capacity, so a warm walk allocates little), skipping every child whose
// byte the state cannot take next without copying anything.
void walk(const TokenTrie& trie, int32_t node, const GrammarState& st, std::deque<GrammarState>& pool, size_t depth,
          std::vector<int32_t>* allowed) {
  uint64_t bits[4];
  st.next_bytes(bits);
  for (const auto& [b, kid] : trie.nodes[static_cast<size_t>(node)].kids) {
    if (((bits[b >> 6] >> (b & 63)) & 1) == 0) continue;
    if (pool.size() <= depth) pool.push_back(st);
    GrammarState& next = pool[depth];
    next = st;
    if (!next.advance_byte(b)) continue;
    const auto& toks = trie.nodes[static_cast<size_t>(kid)].tokens;
    allowed->insert(allowed->end(), toks.begin(), toks.end());
    walk(trie, kid, next, pool, depth + 1, allowed);
  }
}

}  // namespace

void allowed_tokens(const GrammarState& state, const TokenTrie& trie, std::vector<int32_t>* allowed) {
  if (state.accepting()) allowed->insert(allowed->end(), trie.eog().begin(), trie.eog().end());
  if (state.can_continue()) {
    std::deque<GrammarState> pool;  // references stay valid as it grows
    walk(trie, 0, state, pool, 0, allowed);
  }
}

bool token_allowed(const GrammarState& state, const Tokenizer& tok, int32_t id) {
  if (id < 0 || id >= static_cast<int32_t>(tok.n_vocab())) return false;
  if (tok.is_eog(id)) return state.accepting();
  if (tok.is_control(id) || !state.can_continue()) return false;
  const std::string piece = tok.piece(id, false);
  if (piece.empty()) return false;
  GrammarState next = state;
  return next.advance(piece);
}

}  // namespace moerag::engine

namespace moerag::engine {

std::string GrammarState::key() const {
  std::string k;
  const auto put = [&k](uint64_t v) { k.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(reinterpret_cast<uintptr_t>(g_.get()));
  put((static_cast<uint64_t>(cp_) << 8) | (static_cast<uint64_t>(need_) << 4) | static_cast<uint64_t>(len_));
  for (const Stack& s : stacks_) {
    put(s.size());
    k.append(reinterpret_cast<const char*>(s.data()), s.size() * sizeof(int32_t));
  }
  return k;
}

const std::vector<int32_t>& MaskCache::allowed(const GrammarState& state, const TokenTrie& trie) {
  std::string key = state.key();
  auto it = map_.find(key);
  if (it != map_.end()) {
    ++hits_;
    return it->second;
  }
  ++misses_;
  if (map_.size() >= max_) {
    map_.clear();
    keep_.clear();
  }
  if (std::find(keep_.begin(), keep_.end(), state.grammar_ptr()) == keep_.end()) keep_.push_back(state.grammar_ptr());
  std::vector<int32_t> ids;
  allowed_tokens(state, trie, &ids);
  return map_.emplace(std::move(key), std::move(ids)).first->second;
}

}  // namespace moerag::engine
