// FAQ CSV reading (see faq.h).
#include "apps/chat/faq.h"

#include <fstream>
#include <sstream>

namespace moerag::chat {

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
      }
      row.clear();
      field.clear();
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (any || !field.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::vector<FaqPair>> read_faq_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::NOT_FOUND, "cannot read FAQ file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto rows = parse_csv(ss.str());
  if (rows.empty()) return Error(ErrorCode::INVALID_INPUT, path + " is empty");
  int q = -1, a = -1;
  for (size_t i = 0; i < rows[0].size(); ++i) {
    std::string h = rows[0][i];
    if (i == 0 && h.rfind("\xEF\xBB\xBF", 0) == 0) h = h.substr(3);  // UTF-8 BOM
    if (h == "question") q = static_cast<int>(i);
    if (h == "answer") a = static_cast<int>(i);
  }
  if (q < 0 || a < 0) return Error(ErrorCode::INVALID_INPUT, path + ": the header needs 'question' and 'answer' columns");
  std::vector<FaqPair> out;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    if (static_cast<int>(row.size()) <= std::max(q, a)) continue;
    if (row[q].empty() || row[a].empty()) continue;
    out.push_back({row[q], row[a]});
  }
  return out;
}

}  // namespace moerag::chat
