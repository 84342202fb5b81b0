// GBNF text -> GrammarRules, and the gbnf:: builder helpers. The parser is a small
// recursive descent over the text; a sequence ends at `|`, `)`, the end, or where
// the next rule (`name ::=`) starts, so rules may span lines.
#include <cctype>

#include "engine/grammar.h"

namespace moerag::engine {
namespace gbnf {

GrammarExpr lit(std::string text) {
  GrammarExpr e;
  e.kind = GrammarExpr::Kind::LITERAL;
  e.text = std::move(text);
  return e;
}

GrammarExpr chars(std::vector<std::pair<uint32_t, uint32_t>> ranges, bool negated) {
  GrammarExpr e;
  e.kind = GrammarExpr::Kind::CLASS;
  e.ranges = std::move(ranges);
  e.negated = negated;
  return e;
}

GrammarExpr any_char() { return chars({}, true); }

GrammarExpr ref(std::string rule) {
  GrammarExpr e;
  e.kind = GrammarExpr::Kind::REF;
  e.text = std::move(rule);
  return e;
}

GrammarExpr seq(std::vector<GrammarExpr> items) {
  GrammarExpr e;
  e.kind = GrammarExpr::Kind::SEQ;
  e.items = std::move(items);
  return e;
}

GrammarExpr alt(std::vector<GrammarExpr> items) {
  GrammarExpr e;
  e.kind = GrammarExpr::Kind::ALT;
  e.items = std::move(items);
  return e;
}

GrammarExpr rep(GrammarExpr item, int32_t min, int32_t max) {
  GrammarExpr e;
  e.kind = GrammarExpr::Kind::REPEAT;
  e.items.push_back(std::move(item));
  e.min = min;
  e.max = max;
  return e;
}

GrammarExpr one_of(const std::vector<std::string>& words) {
  std::vector<GrammarExpr> alts;
  for (const auto& w : words) alts.push_back(lit(w));
  return alt(std::move(alts));
}

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          static const char* hex = "0123456789ABCDEF";
          out += "\\x";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace gbnf

namespace {

void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view t) : t_(t) {}

  Result<GrammarRules> run() {
    GrammarRules rules;
    skip_ws();
    while (i_ < t_.size()) {
      std::string name = ident();
      if (name.empty()) return fail("expected a rule name");
      skip_ws();
      if (t_.substr(i_, 3) != "::=") return fail("expected '::=' after rule name '" + name + "'");
      i_ += 3;
      MOERAG_ASSIGN_OR_RETURN(GrammarExpr body, alternatives());
      rules.emplace_back(std::move(name), std::move(body));
      skip_ws();
    }
    if (rules.empty()) return Error(ErrorCode::INVALID_INPUT, "the grammar has no rules");
    return rules;
  }

 private:
  Error fail(const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t k = 0; k < i_ && k < t_.size(); ++k) {
      if (t_[k] == '\n') ++line, col = 1;
      else ++col;
    }
    return Error(ErrorCode::INVALID_INPUT,
                 "grammar: " + what + " at line " + std::to_string(line) + ", column " + std::to_string(col));
  }

  void skip_ws() {
    while (i_ < t_.size()) {
      if (std::isspace(static_cast<unsigned char>(t_[i_]))) {
        ++i_;
      } else if (t_[i_] == '#') {
        while (i_ < t_.size() && t_[i_] != '\n') ++i_;
      } else {
        break;
      }
    }
  }

  static bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

  std::string ident() {
    size_t s = i_;
    while (i_ < t_.size() && name_char(t_[i_])) ++i_;
    return std::string(t_.substr(s, i_ - s));
  }

  // True when a new rule (`name ::=`) starts at the current position.
  bool at_rule_start() const {
    size_t k = i_;
    while (k < t_.size() && name_char(t_[k])) ++k;
    if (k == i_) return false;
    while (k < t_.size() && std::isspace(static_cast<unsigned char>(t_[k]))) ++k;
    return t_.substr(k, 3) == "::=";
  }

  Result<GrammarExpr> alternatives() {
    std::vector<GrammarExpr> alts;
    MOERAG_ASSIGN_OR_RETURN(GrammarExpr first, sequence());
    alts.push_back(std::move(first));
    skip_ws();
    while (i_ < t_.size() && t_[i_] == '|') {
      ++i_;
      MOERAG_ASSIGN_OR_RETURN(GrammarExpr next, sequence());
      alts.push_back(std::move(next));
      skip_ws();
    }
    return alts.size() == 1 ? std::move(alts[0]) : gbnf::alt(std::move(alts));
  }

  Result<GrammarExpr> sequence() {
    std::vector<GrammarExpr> items;
    for (;;) {
      skip_ws();
      if (i_ >= t_.size() || t_[i_] == '|' || t_[i_] == ')' || at_rule_start()) break;
      MOERAG_ASSIGN_OR_RETURN(GrammarExpr item, primary());
      MOERAG_ASSIGN_OR_RETURN(item, postfix(std::move(item)));
      items.push_back(std::move(item));
    }
    return items.size() == 1 ? std::move(items[0]) : gbnf::seq(std::move(items));
  }

  Result<GrammarExpr> primary() {
    const char c = t_[i_];
    if (c == '"') {
      ++i_;
      std::string text;
      while (i_ < t_.size() && t_[i_] != '"') {
        MOERAG_ASSIGN_OR_RETURN(uint32_t cp, char_or_escape());
        append_utf8(cp, text);
      }
      if (i_ >= t_.size()) return fail("unterminated string literal");
      ++i_;
      return gbnf::lit(std::move(text));
    }
    if (c == '[') return char_class();
    if (c == '.') {
      ++i_;
      return gbnf::any_char();
    }
    if (c == '(') {
      ++i_;
      MOERAG_ASSIGN_OR_RETURN(GrammarExpr inner, alternatives());
      skip_ws();
      if (i_ >= t_.size() || t_[i_] != ')') return fail("expected ')'");
      ++i_;
      return inner;
    }
    std::string name = ident();
    if (name.empty()) return fail(std::string("unexpected character '") + c + "'");
    return gbnf::ref(std::move(name));
  }

  Result<GrammarExpr> char_class() {
    ++i_;  // '['
    bool neg = false;
    if (i_ < t_.size() && t_[i_] == '^') neg = true, ++i_;
    std::vector<std::pair<uint32_t, uint32_t>> ranges;
    while (i_ < t_.size() && t_[i_] != ']') {
      MOERAG_ASSIGN_OR_RETURN(uint32_t lo, char_or_escape());
      uint32_t hi = lo;
      if (i_ + 1 < t_.size() && t_[i_] == '-' && t_[i_ + 1] != ']') {
        ++i_;
        MOERAG_ASSIGN_OR_RETURN(hi, char_or_escape());
        if (hi < lo) return fail("character range is reversed");
      }
      ranges.emplace_back(lo, hi);
    }
    if (i_ >= t_.size()) return fail("unterminated character class");
    ++i_;
    return gbnf::chars(std::move(ranges), neg);
  }

  Result<uint32_t> hex(int n) {
    uint32_t v = 0;
    for (int k = 0; k < n; ++k, ++i_) {
      if (i_ >= t_.size() || !std::isxdigit(static_cast<unsigned char>(t_[i_]))) return fail("bad hex escape");
      const char h = static_cast<char>(std::tolower(static_cast<unsigned char>(t_[i_])));
      v = v * 16 + static_cast<uint32_t>(h <= '9' ? h - '0' : h - 'a' + 10);
    }
    return v;
  }

  // One code point of a literal or class, decoding UTF-8 and backslash escapes.
  Result<uint32_t> char_or_escape() {
    const auto b = static_cast<unsigned char>(t_[i_]);
    if (b == '\\') {
      if (++i_ >= t_.size()) return fail("dangling backslash");
      const char e = t_[i_++];
      switch (e) {
        case 'n': return uint32_t{'\n'};
        case 'r': return uint32_t{'\r'};
        case 't': return uint32_t{'\t'};
        case 'x': return hex(2);
        case 'u': return hex(4);
        case 'U': return hex(8);
        default: return static_cast<uint32_t>(static_cast<unsigned char>(e));
      }
    }
    int len = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
    if (len == 0 || i_ + static_cast<size_t>(len) > t_.size()) return fail("invalid UTF-8");
    uint32_t cp = len == 1 ? b : b & (0xFF >> (len + 1));
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(t_[i_ + static_cast<size_t>(k)]) & 0x3F);
    i_ += static_cast<size_t>(len);
    return cp;
  }

  Result<int32_t> number() {
    size_t s = i_;
    while (i_ < t_.size() && std::isdigit(static_cast<unsigned char>(t_[i_]))) ++i_;
    if (s == i_ || i_ - s > 6) return fail("expected a repetition count");
    return static_cast<int32_t>(std::stoi(std::string(t_.substr(s, i_ - s))));
  }

  Result<GrammarExpr> postfix(GrammarExpr e) {
    while (i_ < t_.size()) {
      const char c = t_[i_];
      if (c == '*' || c == '+' || c == '?') {
        ++i_;
        e = gbnf::rep(std::move(e), c == '+' ? 1 : 0, c == '?' ? 1 : -1);
      } else if (c == '{') {
        ++i_;
        skip_ws();
        MOERAG_ASSIGN_OR_RETURN(int32_t lo, number());
        int32_t hi = lo;
        skip_ws();
        if (i_ < t_.size() && t_[i_] == ',') {
          ++i_;
          skip_ws();
          hi = -1;
          if (i_ < t_.size() && t_[i_] != '}') {
            MOERAG_ASSIGN_OR_RETURN(hi, number());
            if (hi < lo) return fail("repetition {m,n} needs m <= n");
          }
          skip_ws();
        }
        if (i_ >= t_.size() || t_[i_] != '}') return fail("expected '}'");
        ++i_;
        e = gbnf::rep(std::move(e), lo, hi);
      } else {
        break;
      }
    }
    return e;
  }

  std::string_view t_;
  size_t i_ = 0;
};

}  // namespace

Result<GrammarRules> parse_gbnf(std::string_view text) { return Parser(text).run(); }

}  // namespace moerag::engine
