// File formats into parsed documents: .txt, .md, .html (gumbo), .pdf (poppler, one
// block per page), and .json/.jsonl/.csv with one document per row. Bad input
// (empty, binary, invalid UTF-8, unknown format, PDF without text) is an Error.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "retrieval/chunker.h"
#include "retrieval/retriever.h"

namespace moerag::retrieval {

/// One document produced from an input (table formats give one per row).
struct ParsedItem {
  std::string id;             ///< document id
  std::string source;
  std::string metadata_json;  ///< the input's metadata merged with the row's other fields
  ParsedDocument doc;
};

/// Lower-case extension of `source` without the dot ("" when none).
std::string format_of(const std::string& source);

/// Parses an input; `max_bytes` bounds content size (TOO_LARGE beyond).
Result<std::vector<ParsedItem>> parse_input(const DocumentInput& in, int64_t max_bytes);

/// Individual parsers (exposed for tests); `text` is valid UTF-8.
ParsedDocument parse_plain(const std::string& text);
ParsedDocument parse_markdown(const std::string& text);
Result<ParsedDocument> parse_html(const std::string& html);
Result<ParsedDocument> parse_pdf(const std::string& bytes);
/// RFC 4180 CSV: rows of fields (quotes, doubled quotes, CRLF, newlines in quotes).
Result<std::vector<std::vector<std::string>>> parse_csv(const std::string& text);

}  // namespace moerag::retrieval
