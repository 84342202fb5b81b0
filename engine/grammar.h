// Constrained decoding: GBNF-style grammars (rules, alternation, grouping,
// repetition *, +, ?, {m,n}, character classes, literals, `.`), written as text
// (parse_gbnf) or built from code (the gbnf:: helpers, e.g. the SQL assistant's
// schema grammar). A Grammar is compiled once and shared; a GrammarState follows one
// generation byte by byte (UTF-8 aware, so tokens may end inside a character or span
// rule boundaries); TokenTrie + allowed_tokens() turn a state into a token mask.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/result.h"

namespace moerag::engine {

class Tokenizer;

/// One expression of a rule. Plain data: build it with the gbnf:: helpers or parse_gbnf().
struct GrammarExpr {
  enum class Kind { LITERAL, CLASS, REF, SEQ, ALT, REPEAT };
  Kind kind = Kind::SEQ;
  std::string text;                                   ///< LITERAL: UTF-8 text; REF: rule name
  std::vector<std::pair<uint32_t, uint32_t>> ranges;  ///< CLASS: inclusive code-point ranges
  bool negated = false;                               ///< CLASS: match code points outside the ranges
  std::vector<GrammarExpr> items;                     ///< SEQ / ALT parts; REPEAT: the one repeated item
  int32_t min = 0;                                    ///< REPEAT: fewest repetitions
  int32_t max = -1;                                   ///< REPEAT: most repetitions (-1 = unbounded)
};

/// Named rules in definition order; the start rule is "root" unless compile() is told otherwise.
using GrammarRules = std::vector<std::pair<std::string, GrammarExpr>>;

/// Helpers to build grammars from code.
namespace gbnf {
GrammarExpr lit(std::string text);
GrammarExpr chars(std::vector<std::pair<uint32_t, uint32_t>> ranges, bool negated = false);
GrammarExpr any_char();
GrammarExpr ref(std::string rule);
GrammarExpr seq(std::vector<GrammarExpr> items);
GrammarExpr alt(std::vector<GrammarExpr> items);
GrammarExpr rep(GrammarExpr item, int32_t min, int32_t max);
inline GrammarExpr opt(GrammarExpr e) { return rep(std::move(e), 0, 1); }
inline GrammarExpr star(GrammarExpr e) { return rep(std::move(e), 0, -1); }
inline GrammarExpr plus(GrammarExpr e) { return rep(std::move(e), 1, -1); }
/// Alternation of literals (an enum of words, table or column names).
GrammarExpr one_of(const std::vector<std::string>& words);
/// A GBNF string literal for `text` (quotes and escapes added).
std::string quote(std::string_view text);
}  // namespace gbnf

/// Parses GBNF text: `name ::= alt | alt`, rules may span lines, `#` comments.
/// INVALID_INPUT with the line and column of the problem.
Result<GrammarRules> parse_gbnf(std::string_view text);

/// A compiled grammar: immutable, shared by every sequence that uses it.
class Grammar {
 public:
  /// INVALID_INPUT for an undefined rule, a missing root or left recursion.
  static Result<std::shared_ptr<const Grammar>> compile(const GrammarRules& rules, const std::string& root = "root");
  /// parse_gbnf + compile.
  static Result<std::shared_ptr<const Grammar>> parse(std::string_view gbnf, const std::string& root = "root");
  /// True when the whole of `text` is a sentence of the grammar (the grammar's own parser).
  bool accepts(std::string_view text) const;

  // Compiled form (used by GrammarState). A symbol is a char class, a rule reference or
  // the end of an alternative; each rule is a list of alternative start offsets into syms.
  struct Sym {
    enum Kind : uint8_t { END, CHAR, RULE } kind = END;
    int32_t arg = 0;  ///< CHAR: class index; RULE: rule index
  };
  struct CharClass {
    std::vector<std::pair<uint32_t, uint32_t>> ranges;  ///< sorted, merged
    bool negated = false;
    /// Bit b set: a character of this class can start with UTF-8 byte b (filled by compile()).
    uint64_t first_bytes[4] = {0, 0, 0, 0};
    bool matches(uint32_t cp) const;
    bool intersects(uint32_t lo, uint32_t hi) const;
  };
  std::vector<Sym> syms;                    ///< all alternatives, each ending in END
  std::vector<std::vector<int32_t>> rules;  ///< [n_rule] alternative starts
  std::vector<CharClass> classes;
  int32_t root = 0;
};

/// Where a match stands after some bytes: the set of parse stacks (each a list of
/// symbol offsets, top last) plus an incomplete UTF-8 character.
class GrammarState {
 public:
  explicit GrammarState(std::shared_ptr<const Grammar> grammar);
  /// Feeds bytes; false (and the state is then dead) when they leave the grammar.
  bool advance(std::string_view bytes);
  bool advance_byte(uint8_t b);
  /// The bytes so far form a complete sentence.
  bool accepting() const;
  /// More bytes can follow.
  bool can_continue() const;
  bool dead() const { return stacks_.empty(); }
  const Grammar& grammar() const { return *g_; }
  const std::shared_ptr<const Grammar>& grammar_ptr() const { return g_; }
  /// Identifies the state within its grammar (equal keys allow equal tokens).
  std::string key() const;
  /// Bit b set when byte b may be the next byte (a superset: advance_byte decides);
  /// lets a token-trie walk skip whole subtrees without copying the state.
  void next_bytes(uint64_t bits[4]) const;

 private:
  using Stack = std::vector<int32_t>;
  void expand(Stack s, std::vector<Stack>& out) const;
  bool advance_cp(uint32_t cp);
  bool viable_partial() const;

  std::shared_ptr<const Grammar> g_;
  std::vector<Stack> stacks_;
  std::vector<Stack> scratch_;  // advance_cp's next stacks, kept for their capacity
  uint32_t cp_ = 0;  // bits of an incomplete UTF-8 character
  int need_ = 0;     // continuation bytes it still needs
  int len_ = 0;      // its total length in bytes
};

/// The byte pieces of a vocabulary in a trie, built once per tokenizer.
class TokenTrie {
 public:
  explicit TokenTrie(const Tokenizer& tok);
  /// Tokens that end a generation (allowed when the grammar is complete).
  const std::vector<int32_t>& eog() const { return eog_; }

  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> kids;  ///< (byte, node index)
    std::vector<int32_t> tokens;                    ///< tokens whose piece ends here
  };
  std::vector<Node> nodes;  ///< node 0 is the root

 private:
  std::vector<int32_t> eog_;
};

/// Ids of every token the grammar allows next from `state` (EOG tokens when it is
/// complete), appended to `allowed` in no particular order.
void allowed_tokens(const GrammarState& state, const TokenTrie& trie, std::vector<int32_t>* allowed);

/// Whether allowed_tokens() would list token `id` (same rules as the trie: an
/// end-of-generation token when the state is complete, no control tokens or empty
/// pieces, otherwise the piece's bytes must advance the state). One token costs a
/// state copy and its bytes instead of a walk of the whole vocabulary, so a sampler
/// can try its first choice before it builds a mask.
bool token_allowed(const GrammarState& state, const Tokenizer& tok, int32_t id);

/// Memoises allowed_tokens() by state: generations revisit the same states (inside a
/// JSON string, between list items), so most steps cost a hash lookup. Keeps the
/// grammars it has entries for alive; cleared when it holds max_entries states.
/// Not thread-safe (the engine's step loop owns one).
class MaskCache {
 public:
  explicit MaskCache(size_t max_entries = 4096) : max_(max_entries) {}
  /// Allowed tokens from `state` for the vocabulary of `trie` (one trie per cache).
  const std::vector<int32_t>& allowed(const GrammarState& state, const TokenTrie& trie);
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  size_t max_;
  std::vector<std::shared_ptr<const Grammar>> keep_;
  std::unordered_map<std::string, std::vector<int32_t>> map_;
  uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace moerag::engine
