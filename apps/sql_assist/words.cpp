// Word-level text handling for linking: identifier splitting, question tokens,
// a plural-only English stemmer, number words and a small Chinese glossary.
#include "apps/sql_assist/words.h"

#include <cctype>
#include <cstdlib>
#include <unordered_map>
#include <unordered_set>

#include "core/text.h"

namespace moerag::sql_assist {
namespace {

bool is_word_byte(unsigned char c) { return std::isalnum(c) || c == '_' || c == '-' || c >= 0x80; }

// Han run starting at byte i of s; returns its end.
size_t han_run_end(const std::string& s, size_t i) {
  while (i < s.size()) {
    char32_t cp;
    size_t n = text::utf8_decode(s, i, cp);
    if (n == 0 || !text::is_han(cp)) break;
    i += n;
  }
  return i;
}

bool starts_han(const std::string& s, size_t i) {
  char32_t cp;
  size_t n = text::utf8_decode(s, i, cp);
  return n > 0 && text::is_han(cp);
}

}  // namespace

std::optional<double> parse_number(const std::string& w) {
  static const std::unordered_map<std::string, double> kWords = {
      {"zero", 0},   {"one", 1},     {"two", 2},      {"three", 3},     {"four", 4},     {"five", 5},
      {"six", 6},    {"seven", 7},   {"eight", 8},    {"nine", 9},      {"ten", 10},     {"eleven", 11},
      {"twelve", 12}, {"fifteen", 15}, {"twenty", 20}, {"thirty", 30},  {"forty", 40},   {"fifty", 50},
      {"hundred", 100}, {"thousand", 1000}, {"million", 1000000}};
  if (auto it = kWords.find(w); it != kWords.end()) return it->second;
  std::string digits;
  bool any = false;
  for (char c : w) {
    if (std::isdigit(static_cast<unsigned char>(c))) { digits += c; any = true; }
    else if (c == '.' || c == '-') digits += c;
    else if (c == ',' || c == '%') continue;
    else return std::nullopt;
  }
  if (!any) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(digits.c_str(), &end);
  if (!end || *end) return std::nullopt;
  return v;
}

std::string stem(const std::string& w) {
  static const std::unordered_map<std::string, std::string> kIrregular = {
      {"people", "person"}, {"children", "child"}, {"men", "man"}, {"women", "woman"}, {"feet", "foot"},
      {"data", "data"},     {"series", "series"},  {"status", "status"}, {"address", "address"},
      {"countries", "country"}, {"was", "was"}, {"has", "has"}, {"is", "is"}, {"this", "this"},
      {"does", "do"}, {"less", "less"}, {"its", "its"}, {"us", "us"}, {"bus", "bus"}};
  if (auto it = kIrregular.find(w); it != kIrregular.end()) return it->second;
  auto ends = [&](const char* suf) {
    size_t n = std::char_traits<char>::length(suf);
    return w.size() > n + 1 && w.compare(w.size() - n, n, suf) == 0;
  };
  if (ends("ies")) return w.substr(0, w.size() - 3) + "y";
  if (ends("sses") || ends("xes") || ends("ches") || ends("shes")) return w.substr(0, w.size() - 2);
  if (ends("ss") || ends("us") || ends("is")) return w;
  if (ends("s")) return w.substr(0, w.size() - 1);
  return w;
}

std::vector<std::string> split_identifier(const std::string& name) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) out.push_back(text::fold_case(cur));
    cur.clear();
  };
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = name[i];
    if (c == '_' || c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')') { flush(); continue; }
    // camelCase boundary: lower->Upper, or digit<->letter.
    if (!cur.empty() && std::isupper(c) && std::islower(static_cast<unsigned char>(cur.back()))) flush();
    else if (!cur.empty() && (std::isdigit(c) != 0) != (std::isdigit(static_cast<unsigned char>(cur.back())) != 0) &&
             c < 0x80 && static_cast<unsigned char>(cur.back()) < 0x80)
      flush();
    cur += static_cast<char>(c);
  }
  flush();
  return out;
}

std::vector<std::string> stem_words(const std::string& name) {
  std::vector<std::string> out;
  for (auto& w : split_identifier(name)) out.push_back(stem(w));
  return out;
}

bool is_stopword(const std::string& s) {
  static const std::unordered_set<std::string> kStop = {
      "a", "an", "the", "of", "in", "on", "for", "to", "by", "with", "and", "or", "is", "are", "was", "were", "be",
      "what", "which", "who", "whom", "whose", "that", "this", "these", "those", "how", "many", "much", "do", "did",
      "all", "each", "every", "there", "their", "it", "its", "as", "at", "from", "have", "has", "had", "give", "me",
      "show", "list", "find", "return", "tell", "id", "number", "name", "different", "distinct", "also", "we",
      "they", "any", "some", "than", "more", "less", "most", "least", "total", "average", "count", "whose", "when"};
  return kStop.count(s) > 0;
}

std::vector<Token> tokenize_question(const std::string& q_in) {
  std::string q = text::to_halfwidth(q_in);
  std::vector<Token> out;
  size_t i = 0;
  auto push_word = [&](std::string w, bool quoted) {
    Token t;
    t.text = w;
    t.lower = text::fold_case(w);
    t.quoted = quoted;
    if (!quoted) {
      if (auto n = parse_number(t.lower)) {
        t.number = true;
        t.value = *n;
      }
    }
    t.stem = t.number || quoted ? t.lower : stem(t.lower);
    out.push_back(std::move(t));
  };
  while (i < q.size()) {
    unsigned char c = q[i];
    if (c == '"' || c == '\'' || c == '`') {
      // A quote opens a value only at a word start; apostrophes inside words ("singer's") do not.
      bool word_before = i > 0 && std::isalnum(static_cast<unsigned char>(q[i - 1]));
      size_t close = q.find(static_cast<char>(c), i + 1);
      if (!word_before && close != std::string::npos && close > i + 1) {
        push_word(q.substr(i + 1, close - i - 1), true);
        i = close + 1;
        continue;
      }
      if (word_before && c == '\'' && i + 1 < q.size() && (q[i + 1] == 's' || q[i + 1] == 'S') &&
          (i + 2 == q.size() || !std::isalnum(static_cast<unsigned char>(q[i + 2])))) {
        i += 2;  // possessive 's
        continue;
      }
      ++i;
      continue;
    }
    if (starts_han(q, i)) {
      size_t end = han_run_end(q, i);
      Token t;
      t.text = t.lower = t.stem = q.substr(i, end - i);
      t.han = true;
      out.push_back(std::move(t));
      i = end;
      continue;
    }
    if (is_word_byte(c) || (c == '.' && i + 1 < q.size() && std::isdigit(static_cast<unsigned char>(q[i + 1])))) {
      size_t j = i;
      while (j < q.size()) {
        unsigned char d = q[j];
        if (d >= 0x80 && starts_han(q, j)) break;
        if (d >= 0x80) {  // other non-ASCII letters (accents) belong to the word
          char32_t cp;
          size_t n = text::utf8_decode(q, j, cp);
          if (n == 0 || text::is_space(cp) || text::is_cjk(cp)) break;
          j += n;
          continue;
        }
        // Digits may carry , . % inside ("2,000", "3.5", "10%").
        bool num_punct = (d == ',' || d == '.') && j > i && std::isdigit(static_cast<unsigned char>(q[j - 1])) &&
                         j + 1 < q.size() && std::isdigit(static_cast<unsigned char>(q[j + 1]));
        if (!(std::isalnum(d) || d == '_' || d == '-' || num_punct || (d == '%' && j > i))) break;
        ++j;
      }
      std::string w = q.substr(i, j - i);
      while (!w.empty() && w.back() == '-') w.pop_back();
      if (!w.empty()) push_word(w, false);
      i = std::max(j, i + 1);
      continue;
    }
    ++i;
  }
  return out;
}

namespace {
// Everyday database words in Chinese with their English equivalents.
const std::vector<std::pair<std::string, std::string>>& glossary() {
  static const std::vector<std::pair<std::string, std::string>> kGlossary = {
      {"名字", "name"}, {"名称", "name"}, {"姓名", "name"}, {"年龄", "age"}, {"岁", "age"}, {"国家", "country"},
      {"城市", "city"}, {"人口", "population"}, {"价格", "price"}, {"年份", "year"}, {"年", "year"},
      
      {"容量", "capacity"}, {"学生", "student"}, {"老师", "teacher"}, {"教师", "teacher"}, {"课程", "course"},
      {"员工", "employee"}, {"雇员", "employee"}, {"部门", "department"}, {"工资", "salary"}, {"薪水", "salary"},
      {"订单", "order"}, {"客户", "customer"}, {"产品", "product"}, {"商品", "product"}, {"数量", "quantity"},
      {"日期", "date"}, {"时间", "time"}, {"地址", "address"}, {"电话", "phone"}, {"邮箱", "email"},
      {"性别", "gender"}, {"类型", "type"}, {"语言", "language"}, {"面积", "area"}, {"大陆", "continent"},
      {"洲", "continent"}, {"地区", "region"}, {"航班", "flight"}, {"航空公司", "airline"}, {"机场", "airport"},
      {"电影", "movie"}, {"导演", "director"}, {"书", "book"}, {"作者", "author"}, 
      {"演出", "performance"},
      {"文件", "document"}, {"文档", "document"}, {"描述", "description"},
      {"国籍", "nationality"}, {"身高", "height"}, {"体重", "weight"}, {"成绩", "grade"}, {"分数", "score"},
      {"颜色", "color"}, {"品牌", "brand"}, {"公司", "company"}, {"州", "state"}, {"省", "province"},
      {"首都", "capital"}, {"寿命", "life expectancy"}, {"预期寿命", "life expectancy"}, {"独立", "independence"},
      {"宠物", "pet"}, {"狗", "dog"}, {"猫", "cat"}, {"汽车", "car"}, {"车", "car"}, {"节目", "program"},
      {"电视", "tv"}, {"频道", "channel"}, {"系列", "series"}, {"票", "vote"},
      {"投票", "vote"}, {"记录", "record"}};
  return kGlossary;
}
}  // namespace

std::vector<std::string> glossary_lookup(const std::string& han) {
  std::vector<std::string> out;
  for (const auto& [zh, en] : glossary())
    if (zh == han) out.push_back(en);
  return out;
}

std::vector<HanHit> glossary_scan(const std::string& han) {
  std::vector<HanHit> out;
  size_t i = 0;
  while (i < han.size()) {
    size_t best = 0;
    std::string en;
    for (const auto& [zh, e] : glossary())
      if (zh.size() > best && han.compare(i, zh.size(), zh) == 0) {
        best = zh.size();
        en = e;
      }
    if (best) {
      out.push_back({i, best, en});
      i += best;
    } else {
      char32_t cp;
      size_t n = text::utf8_decode(han, i, cp);
      i += n ? n : 1;
    }
  }
  return out;
}

}  // namespace moerag::sql_assist
