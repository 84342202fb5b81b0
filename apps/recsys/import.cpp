// CSV/JSONL parsing with column mapping, and the MovieLens loader.
#include "apps/recsys/import.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fstream>
#include <functional>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace moerag::recsys {
namespace {

using Row = std::unordered_map<std::string, std::string>;

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Calls fn(line_number, row) for every data row; rows that cannot be parsed go
// to errors. `required` columns must exist in a CSV header.
Status for_each_row(const std::string& path, const std::vector<std::string>& required, char sep,
                    std::vector<std::string>& errors, const std::function<void(int64_t, const Row&)>& fn) {
  std::ifstream f(path);
  if (!f) return Error(ErrorCode::IO, "cannot open " + path);
  std::string line;
  int64_t ln = 0;
  if (ends_with(path, ".jsonl") || ends_with(path, ".json")) {
    while (std::getline(f, line)) {
      ++ln;
      if (trim(line).empty()) continue;
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        errors.push_back(path + ":" + std::to_string(ln) + ": not a JSON object");
        continue;
      }
      Row r;
      for (auto it = j.begin(); it != j.end(); ++it) {
        const auto& v = it.value();
        if (v.is_string()) r[it.key()] = v.get<std::string>();
        else if (v.is_array()) {
          std::string joined;
          for (const auto& x : v) {
            if (!joined.empty()) joined += sep;
            joined += x.is_string() ? x.get<std::string>() : x.dump();
          }
          r[it.key()] = joined;
        } else if (!v.is_null()) r[it.key()] = v.dump();
      }
      fn(ln, r);
    }
    return ok_status();
  }
  std::vector<std::string> header, fields;
  if (!std::getline(f, line)) return Error(ErrorCode::INVALID_INPUT, path + ": empty file (a header row is required)");
  ln = 1;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line = line.substr(3);
  if (!split_csv_line(line, header)) return Error(ErrorCode::INVALID_INPUT, path + ":1: unclosed quote in the header");
  for (auto& h : header) h = trim(h);
  for (const auto& r : required)
    if (std::find(header.begin(), header.end(), r) == header.end())
      return Error(ErrorCode::INVALID_INPUT, path + ": no column '" + r + "' in the header (map it with a column flag)");
  while (std::getline(f, line)) {
    ++ln;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) continue;
    if (!split_csv_line(line, fields)) {
      errors.push_back(path + ":" + std::to_string(ln) + ": unclosed quote");
      continue;
    }
    if (fields.size() != header.size()) {
      errors.push_back(path + ":" + std::to_string(ln) + ": " + std::to_string(fields.size()) + " fields, header has " +
                       std::to_string(header.size()));
      continue;
    }
    Row r;
    for (size_t i = 0; i < header.size(); ++i) r[header[i]] = fields[i];
    fn(ln, r);
  }
  return ok_status();
}

std::string get(const Row& r, const std::string& k) {
  auto it = r.find(k);
  return it == r.end() ? std::string() : trim(it->second);
}

// "genres=genre" -> (column "genres", kind "genre").
std::pair<std::string, std::string> attr_column(const std::string& spec) {
  auto eq = spec.find('=');
  if (eq == std::string::npos) return {spec, spec};
  return {spec.substr(0, eq), spec.substr(eq + 1)};
}

std::vector<std::string> attributes(const Row& r, const std::vector<std::string>& specs, char sep) {
  std::vector<std::string> out;
  for (const auto& spec : specs) {
    auto [col, kind] = attr_column(spec);
    std::string cell = get(r, col), cur;
    for (size_t i = 0; i <= cell.size(); ++i) {
      if (i == cell.size() || cell[i] == sep) {
        std::string v = trim(cur);
        if (!v.empty() && v != "(no genres listed)") out.push_back(kind + ":" + v);
        cur.clear();
      } else {
        cur += cell[i];
      }
    }
  }
  return out;
}

bool parse_number(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end && *end == '\0';
}

}  // namespace

bool split_csv_line(const std::string& line, std::vector<std::string>& out) {
  out.clear();
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char ch = line[i];
    if (quoted) {
      if (ch == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur += ch;
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += ch;
    }
  }
  out.push_back(std::move(cur));
  return !quoted;
}

Status parse_users_file(const std::string& path, const ColumnMap& c, ParsedRecords& out) {
  return for_each_row(path, {c.user_id}, c.list_separator, out.errors, [&](int64_t ln, const Row& r) {
    UserRecord u{get(r, c.user_id), attributes(r, c.user_attrs, c.list_separator)};
    if (u.id.empty()) return out.errors.push_back(path + ":" + std::to_string(ln) + ": empty user id");
    out.users.push_back(std::move(u));
  });
}

Status parse_items_file(const std::string& path, const ColumnMap& c, ParsedRecords& out) {
  return for_each_row(path, {c.item_id}, c.list_separator, out.errors, [&](int64_t ln, const Row& r) {
    ItemRecord it{get(r, c.item_id), get(r, c.title), attributes(r, c.item_attrs, c.list_separator)};
    if (it.id.empty()) return out.errors.push_back(path + ":" + std::to_string(ln) + ": empty item id");
    out.items.push_back(std::move(it));
  });
}

Status parse_interactions_file(const std::string& path, const ColumnMap& c, ParsedRecords& out) {
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  return for_each_row(path, {c.user_id, c.item_id}, c.list_separator, out.errors, [&](int64_t ln, const Row& r) {
    std::string where = path + ":" + std::to_string(ln) + ": ";
    InteractionRecord x;
    x.user = get(r, c.user_id);
    x.item = get(r, c.item_id);
    if (x.user.empty() || x.item.empty()) return out.errors.push_back(where + "empty user or item id");
    std::string kind = r.count(c.kind) ? get(r, c.kind) : c.default_kind;
    auto k = parse_kind(kind.empty() ? c.default_kind : kind);
    if (!k.ok()) return out.errors.push_back(where + k.error().message);
    x.kind = *k;
    double v = 1;
    if (r.count(c.weight) && (!parse_number(get(r, c.weight), v) || v < 0))
      return out.errors.push_back(where + "weight '" + get(r, c.weight) + "' is not a number >= 0");
    x.weight = v;
    double t = static_cast<double>(now);
    if (r.count(c.time) && !parse_number(get(r, c.time), t))
      return out.errors.push_back(where + "time '" + get(r, c.time) + "' is not a number of seconds");
    x.time = static_cast<int64_t>(t);
    out.interactions.push_back(std::move(x));
  });
}

Result<MovieLens> load_movielens(const std::string& dir) {
  MovieLens ml;
  std::vector<std::string> errors;
  MOERAG_TRY(for_each_row(dir + "/movies.csv", {"movieId", "title", "genres"}, '|', errors, [&](int64_t, const Row& r) {
    int32_t i = ml.data.add_item(get(r, "movieId"));
    ml.data.item_titles[i] = get(r, "title");
    for (const auto& a : attributes(r, {"genres=genre"}, '|')) ml.data.add_item_attr(i, a);
  }));
  MOERAG_TRY(for_each_row(dir + "/ratings.csv", {"userId", "movieId", "rating", "timestamp"}, '|', errors,
                          [&](int64_t, const Row& r) {
                            Event e;
                            e.user = ml.data.add_user(get(r, "userId"));
                            e.item = ml.data.add_item(get(r, "movieId"));
                            e.kind = InteractionKind::RATING;
                            e.weight = std::stof(get(r, "rating"));
                            e.time = std::stoll(get(r, "timestamp"));
                            ml.data.events.push_back(e);
                          }));
  (void)for_each_row(dir + "/tags.csv", {"userId", "movieId", "tag", "timestamp"}, '|', errors, [&](int64_t, const Row& r) {
    int32_t u = ml.data.find_user(get(r, "userId")), i = ml.data.find_item(get(r, "movieId"));
    if (u < 0 || i < 0) return;
    std::string t = get(r, "tag");
    std::transform(t.begin(), t.end(), t.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    ml.tags.push_back({u, i, t, std::stoll(get(r, "timestamp"))});
  });
  if (!errors.empty()) return Error(ErrorCode::INVALID_INPUT, "MovieLens: " + errors.front());
  ml.data.reindex();
  return ml;
}

}  // namespace moerag::recsys
