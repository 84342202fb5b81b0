// Parsers for every supported format, plus the checks every input passes first
// (size, emptiness, binary content, UTF-8). Library errors end here as Errors.
#include "retrieval/parsers.h"

#include <gumbo.h>
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/text.h"

namespace moerag::retrieval {
namespace {

using json = nlohmann::json;

Error bad(const std::string& m) { return Error(ErrorCode::INVALID_INPUT, m); }

// Blank-line separated paragraphs; single newlines inside one are kept as spaces.
void add_paragraphs(const std::string& text, int page, std::vector<Block>& out) {
  std::string para;
  std::istringstream in(text);
  std::string line;
  auto flush = [&] {
    if (!text::trim(para).empty()) out.push_back({0, std::string(text::trim(para)), page});
    para.clear();
  };
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (text::trim(line).empty()) {
      flush();
      continue;
    }
    if (!para.empty()) para += '\n';
    para += line;
  }
  flush();
}

// ---- HTML ----

bool is_skipped(GumboTag t) {
  return t == GUMBO_TAG_SCRIPT || t == GUMBO_TAG_STYLE || t == GUMBO_TAG_NOSCRIPT || t == GUMBO_TAG_TEMPLATE ||
         t == GUMBO_TAG_HEAD || t == GUMBO_TAG_SVG || t == GUMBO_TAG_IFRAME || t == GUMBO_TAG_OBJECT;
}

bool is_block(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_P: case GUMBO_TAG_DIV: case GUMBO_TAG_LI: case GUMBO_TAG_UL: case GUMBO_TAG_OL:
    case GUMBO_TAG_TR: case GUMBO_TAG_TD: case GUMBO_TAG_TH: case GUMBO_TAG_TABLE: case GUMBO_TAG_BR:
    case GUMBO_TAG_PRE: case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_SECTION: case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_HEADER: case GUMBO_TAG_FOOTER: case GUMBO_TAG_DD: case GUMBO_TAG_DT: case GUMBO_TAG_HR:
    case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_MAIN: case GUMBO_TAG_NAV: case GUMBO_TAG_ASIDE:
      return true;
    default:
      return false;
  }
}

int heading_level(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_H1: return 1;
    case GUMBO_TAG_H2: return 2;
    case GUMBO_TAG_H3: return 3;
    case GUMBO_TAG_H4: return 4;
    case GUMBO_TAG_H5: return 5;
    case GUMBO_TAG_H6: return 6;
    default: return 0;
  }
}

struct HtmlWalker {
  std::vector<Block> blocks;
  std::string current;

  void flush(int level = 0) {
    // Collapse white space runs; HTML source layout is not meaningful.
    std::string collapsed;
    bool space = false;
    for (char c : current) {
      bool ws = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f';
      if (ws) {
        space = !collapsed.empty();
        continue;
      }
      if (space) collapsed += ' ';
      space = false;
      collapsed += c;
    }
    if (!collapsed.empty()) blocks.push_back({level, collapsed, 0});
    current.clear();
  }

  void walk(const GumboNode* n) {
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_CDATA || n->type == GUMBO_NODE_WHITESPACE) {
      current += n->v.text.text;
      return;
    }
    if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_DOCUMENT && n->type != GUMBO_NODE_TEMPLATE) return;
    const GumboVector* children = n->type == GUMBO_NODE_DOCUMENT ? &n->v.document.children : &n->v.element.children;
    if (n->type == GUMBO_NODE_ELEMENT) {
      GumboTag tag = n->v.element.tag;
      if (is_skipped(tag)) return;
      if (int level = heading_level(tag)) {
        flush();
        for (unsigned i = 0; i < children->length; ++i) walk(static_cast<const GumboNode*>(children->data[i]));
        flush(level);
        return;
      }
      if (is_block(tag)) flush();
    }
    for (unsigned i = 0; i < children->length; ++i) walk(static_cast<const GumboNode*>(children->data[i]));
    if (n->type == GUMBO_NODE_ELEMENT && is_block(n->v.element.tag)) flush();
  }
};

// ---- tables (json, jsonl, csv) ----

std::string scalar_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

Result<ParsedItem> row_item(const DocumentInput& in, const json& row, size_t index) {
  if (!row.is_object()) return bad("row " + std::to_string(index + 1) + " is not an object");
  std::string field = in.text_field.empty() ? "text" : in.text_field;
  if (!row.contains(field) || scalar_text(row[field]).empty())
    return bad("row " + std::to_string(index + 1) + " has no text in field '" + field + "'");
  json meta = json::parse(in.metadata_json.empty() ? "{}" : in.metadata_json, nullptr, false);
  if (!meta.is_object()) meta = json::object();
  ParsedItem item;
  item.source = in.source;
  for (const char* k : {"_id", "id"})
    if (row.contains(k) && item.id.empty()) item.id = scalar_text(row[k]);
  if (item.id.empty()) item.id = (in.id.empty() ? in.source : in.id) + "#" + std::to_string(index + 1);
  std::string title = row.contains(in.title_field) ? scalar_text(row[in.title_field]) : "";
  if (!title.empty()) item.doc.blocks.push_back({1, title, 0});
  add_paragraphs(scalar_text(row[field]), 0, item.doc.blocks);
  for (auto it = row.begin(); it != row.end(); ++it)
    if (it.key() != field && !it.value().is_object() && !it.value().is_array()) meta[it.key()] = it.value();
    else if (it.key() != field && it.value().is_array()) meta[it.key()] = it.value();
  item.metadata_json = meta.dump();
  return item;
}

Result<std::vector<ParsedItem>> parse_rows(const DocumentInput& in, const std::vector<json>& rows) {
  std::vector<ParsedItem> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    auto item = row_item(in, rows[i], i);
    if (!item.ok()) return item.error();
    out.push_back(std::move(item).value());
  }
  if (out.empty()) return bad("no rows");
  return out;
}

Result<std::vector<json>> table_rows(const std::string& fmt, const std::string& text) {
  std::vector<json> rows;
  try {
    if (fmt == "json") {
      json j = json::parse(text);
      if (j.is_array()) for (auto& r : j) rows.push_back(r);
      else rows.push_back(j);
    } else if (fmt == "jsonl") {
      std::istringstream in(text);
      std::string line;
      size_t n = 0;
      while (std::getline(in, line)) {
        ++n;
        if (text::trim(line).empty()) continue;
        auto j = json::parse(line, nullptr, false);
        if (j.is_discarded()) return bad("line " + std::to_string(n) + " is not valid JSON");
        rows.push_back(std::move(j));
      }
    } else {
      MOERAG_ASSIGN_OR_RETURN(auto table, parse_csv(text));
      if (table.size() < 2) return bad("CSV needs a header row and at least one data row");
      for (size_t r = 1; r < table.size(); ++r) {
        json row = json::object();
        for (size_t c = 0; c < table[0].size() && c < table[r].size(); ++c) row[table[0][c]] = table[r][c];
        rows.push_back(std::move(row));
      }
    }
  } catch (const json::exception& e) {
    return bad(std::string("invalid JSON: ") + e.what());
  }
  return rows;
}

}  // namespace

std::string format_of(const std::string& source) {
  auto slash = source.find_last_of('/');
  auto dot = source.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = source.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == "htm") ext = "html";
  if (ext == "markdown") ext = "md";
  if (ext == "text") ext = "txt";
  if (ext == "ndjson") ext = "jsonl";
  return ext;
}

const std::vector<std::string>& supported_formats() {
  static const std::vector<std::string> f = {"txt", "md", "html", "pdf", "json", "jsonl", "csv"};
  return f;
}

ParsedDocument parse_plain(const std::string& text) {
  ParsedDocument d;
  add_paragraphs(text, 0, d.blocks);
  return d;
}

ParsedDocument parse_markdown(const std::string& text) {
  ParsedDocument d;
  std::istringstream in(text);
  std::string line, para;
  bool fence = false;
  auto flush = [&] {
    if (!text::trim(para).empty()) add_paragraphs(para, 0, d.blocks);
    para.clear();
  };
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("```", 0) == 0 || line.rfind("~~~", 0) == 0) {
      fence = !fence;
      continue;
    }
    size_t hashes = 0;
    while (!fence && hashes < line.size() && line[hashes] == '#') ++hashes;
    if (hashes >= 1 && hashes <= 6 && hashes < line.size() && line[hashes] == ' ') {
      flush();
      std::string title(text::trim(std::string_view(line).substr(hashes)));
      while (!title.empty() && title.back() == '#') title.pop_back();
      d.blocks.push_back({static_cast<int>(hashes), std::string(text::trim(title)), 0});
      continue;
    }
    para += line + "\n";
  }
  flush();
  return d;
}

Result<ParsedDocument> parse_html(const std::string& html) {
  GumboOutput* out = gumbo_parse_with_options(&kGumboDefaultOptions, html.data(), html.size());
  if (!out) return Error(ErrorCode::INTERNAL, "HTML parser failed");
  HtmlWalker w;
  w.walk(out->document);
  w.flush();
  gumbo_destroy_output(&kGumboDefaultOptions, out);
  ParsedDocument d;
  d.blocks = std::move(w.blocks);
  return d;
}

Result<ParsedDocument> parse_pdf(const std::string& bytes) {
  // poppler prints parse warnings to stderr by default; keep them out of our output.
  poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr);
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (!doc) return bad("not a readable PDF (damaged or not a PDF)");
  if (doc->is_locked()) return bad("the PDF is encrypted; remove the password first");
  ParsedDocument d;
  d.n_pages = doc->pages();
  for (int i = 0; i < d.n_pages; ++i) {
    std::unique_ptr<poppler::page> p(doc->create_page(i));
    if (!p) continue;
    auto utf8 = p->text().to_utf8();
    std::string t(utf8.begin(), utf8.end());
    add_paragraphs(text::utf8_sanitize(t), i + 1, d.blocks);
  }
  if (d.blocks.empty())
    return bad("the PDF has no text layer (" + std::to_string(d.n_pages) + " pages of images?); run OCR first");
  return d;
}

Result<std::vector<std::vector<std::string>>> parse_csv(const std::string& t) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (quoted) {
      if (c == '"' && i + 1 < t.size() && t[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') {
      quoted = true, any = true;
    } else if (c == ',') {
      row.push_back(std::move(field)), field.clear(), any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < t.size() && t[i + 1] == '\n') ++i;
      if (any || !field.empty()) row.push_back(std::move(field));
      if (!row.empty()) rows.push_back(std::move(row));
      row.clear(), field.clear(), any = false;
    } else {
      field += c;
    }
  }
  if (quoted) return bad("CSV ends inside a quoted field");
  if (any || !field.empty()) row.push_back(std::move(field));
  if (!row.empty()) rows.push_back(std::move(row));
  return rows;
}

Result<std::vector<ParsedItem>> parse_input(const DocumentInput& in, int64_t max_bytes) {
  std::string fmt = in.format.empty() ? format_of(in.source) : in.format;
  const auto& all = supported_formats();
  if (std::find(all.begin(), all.end(), fmt) == all.end())
    return bad("unsupported format '" + (fmt.empty() ? std::string("(no extension)") : "." + fmt) +
               "'; supported: .txt .md .html .pdf .json .jsonl .csv");
  if (static_cast<int64_t>(in.content.size()) > max_bytes)
    return Error(ErrorCode::TOO_LARGE, "file is " + std::to_string(in.content.size()) + " bytes; the limit is " +
                                           std::to_string(max_bytes));
  if (text::trim(in.content).empty()) return bad("file is empty");
  ParsedItem one;
  one.id = in.id.empty() ? in.source : in.id;
  one.source = in.source;
  one.metadata_json = in.metadata_json.empty() ? "{}" : in.metadata_json;
  if (fmt == "pdf") {
    if (in.content.rfind("%PDF-", 0) != 0) return bad("not a PDF (missing the %PDF- header)");
    MOERAG_ASSIGN_OR_RETURN(one.doc, parse_pdf(in.content));
    return std::vector<ParsedItem>{std::move(one)};
  }
  if (in.content.find('\0') != std::string::npos) return bad("file looks binary (contains NUL bytes), not " + fmt);
  if (!text::utf8_valid(in.content)) {
    size_t bad_at = 0;
    while (bad_at < in.content.size()) {
      char32_t cp;
      size_t n = text::utf8_decode(in.content, bad_at, cp);
      if (n == 0) break;
      bad_at += n;
    }
    return bad("file is not valid UTF-8 (first bad byte at offset " + std::to_string(bad_at) +
               "); convert it to UTF-8 first");
  }
  std::string body = in.content.rfind("\xEF\xBB\xBF", 0) == 0 ? in.content.substr(3) : in.content;
  if (fmt == "txt") one.doc = parse_plain(body);
  else if (fmt == "md") one.doc = parse_markdown(body);
  else if (fmt == "html") {
    MOERAG_ASSIGN_OR_RETURN(one.doc, parse_html(body));
  } else {
    MOERAG_ASSIGN_OR_RETURN(auto rows, table_rows(fmt, body));
    return parse_rows(in, rows);
  }
  if (one.doc.blocks.empty()) return bad("no text found");
  return std::vector<ParsedItem>{std::move(one)};
}

}  // namespace moerag::retrieval
