// FAQ files for evaluating and benchmarking chat: question/answer pairs read from a
// CSV with a header row (RFC 4180 quoting, fields may span lines), such as the
// deepset COVID-QA faq_covidbert.csv (columns question, answer, ...).
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace moerag::chat {

/// One FAQ entry.
struct FaqPair {
  std::string question;
  std::string answer;
};

/// Reads the `question` and `answer` columns; rows with either empty are skipped.
/// NOT_FOUND when the file is missing, INVALID_INPUT when a column is missing.
Result<std::vector<FaqPair>> read_faq_csv(const std::string& path);

/// Parses CSV text into rows of fields (quotes, doubled quotes, CRLF, embedded newlines).
std::vector<std::vector<std::string>> parse_csv(const std::string& text);

}  // namespace moerag::chat
