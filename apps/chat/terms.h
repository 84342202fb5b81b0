// Word-level helpers for chat: token counting (a word or a CJK character = 1),
// content terms for matching (English stop words removed and Porter stemming, Chinese
// function characters removed and Han bigrams), and the cues of follow-up questions
// and of requests for a person, in English and Chinese.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace moerag::chat {

/// Tokens of text as budgets count them: ASCII words/numbers + CJK characters.
int count_tokens(std::string_view text);

/// Matching terms: lower-case stemmed English content words, numbers, and Han
/// bigrams (single characters for one-character runs); unique, in text order.
std::vector<std::string> content_terms(std::string_view text);

/// The key words of text in their written form (English content words, Chinese
/// runs without question/function words), joined by spaces: what a follow-up carries.
std::string key_terms(std::string_view text, int max_terms = 8);

/// True when a message reads as depending on the previous turn (pronouns such as
/// it/they/它/这, leading "and"/"what about"/那, a trailing 呢, or too few content words).
bool is_follow_up(std::string_view message);

/// The self-contained query for `message`: unchanged unless it is a follow-up and
/// there is a previous query, then the previous query's key terms not already in
/// the message are appended ("and how long does it last?" + "measles vaccine").
std::string carry_forward(std::string_view message, std::string_view previous_query);

/// True when the user asks for a person (human, agent, 人工, 客服, ...).
bool asks_for_human(std::string_view message);

/// English stemmer used by content_terms: the index's Porter stemmer (retrieval::porter_stem).
std::string stem(std::string_view lower_word);

}  // namespace moerag::chat
