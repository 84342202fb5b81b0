// Internal: the word-level text handling linking relies on: splitting identifiers
// (snake_case, camelCase) and questions (English words, numbers, quoted values,
// Chinese runs) into tokens, a light English stemmer, number words.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace moerag::sql_assist {

/// A question token.
struct Token {
  std::string text;   ///< as written (case kept)
  std::string lower;  ///< case-folded
  std::string stem;   ///< stemmed lower (English); the Chinese run itself for Han text
  bool number = false;
  bool quoted = false;  ///< came from "..." or '...' (text is the inside)
  bool han = false;     ///< a run of Chinese characters
  double value = 0;     ///< for numbers
};

/// Tokens of a question: words, numbers (also "five", "2,000", "10%"), quoted
/// values, punctuation dropped; Chinese runs kept whole (the linker scans inside).
std::vector<Token> tokenize_question(const std::string& question);

/// Words of an identifier or phrase: "SongReleaseYear" / "song_release_year" ->
/// {"song","release","year"}; case-folded.
std::vector<std::string> split_identifier(const std::string& name);

/// A light English stemmer: plurals, -ing/-ed, common irregulars ("people"->"person").
std::string stem(const std::string& lower_word);

/// Stems of split_identifier(name).
std::vector<std::string> stem_words(const std::string& name);

/// English words meaning the same as a Chinese term, from a small built-in glossary
/// of everyday database words (名字 -> name, 年龄 -> age, ...); empty when unknown.
std::vector<std::string> glossary_lookup(const std::string& han);

/// Glossary terms found inside a Han run, as (start byte, length, english) spans.
struct HanHit {
  size_t start = 0, length = 0;
  std::string english;
};
std::vector<HanHit> glossary_scan(const std::string& han);

/// Parses "5", "2,000", "3.5", "five", "twenty" (English number words up to 100).
std::optional<double> parse_number(const std::string& lower_word);

/// Whether a stemmed word is a function word to ignore in partial matches.
bool is_stopword(const std::string& stem);

}  // namespace moerag::sql_assist
