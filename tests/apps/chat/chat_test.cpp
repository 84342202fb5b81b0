// Unit tests of the chat building blocks: terms and follow-up cues, the memory
// window and budget split, extractive answers, citation checking and FAQ CSV parsing.
#include <gtest/gtest.h>

#include "apps/chat/answer.h"
#include "apps/chat/faq.h"
#include "apps/chat/memory.h"
#include "apps/chat/terms.h"

namespace moerag::chat {
namespace {

retrieval::Passage passage(const std::string& doc, const std::string& text, int position = 0,
                           const std::string& heading = "") {
  retrieval::Passage p;
  p.document_id = doc;
  p.source = doc + ".md";
  p.text = text;
  p.position = position;
  p.heading_path = heading;
  p.chunk_id = static_cast<int64_t>(std::hash<std::string>()(doc + text) % 100000);
  return p;
}

TEST(Terms, CountsWordsAndCjkCharacters) {
  EXPECT_EQ(count_tokens("How long does it last?"), 5);
  EXPECT_EQ(count_tokens("疫苗的保护期"), 6);
  EXPECT_EQ(count_tokens("COVID-19 疫苗"), 4);
}

TEST(Terms, ContentTermsDropStopWordsAndStem) {
  auto t = content_terms("What are the vaccines for measles?");
  EXPECT_EQ(t, (std::vector<std::string>{"vaccin", "measl"}));  // Porter stems, as in the lexical index
  // A word family meets on one term, so a passage about "vaccination" covers "vaccines".
  EXPECT_EQ(content_terms("vaccination")[0], t[0]);
  auto zh = content_terms("疫苗的保护期是多久？");
  EXPECT_NE(std::find(zh.begin(), zh.end(), "疫苗"), zh.end());
  EXPECT_NE(std::find(zh.begin(), zh.end(), "保护"), zh.end());
}

TEST(Terms, FollowUpCues) {
  EXPECT_TRUE(is_follow_up("and how long does it last?"));
  EXPECT_TRUE(is_follow_up("What about children?"));
  EXPECT_TRUE(is_follow_up("Is it safe?"));
  EXPECT_FALSE(is_follow_up("How long does the measles vaccine protect adults?"));
  EXPECT_TRUE(is_follow_up("它的副作用是什么？"));
  EXPECT_TRUE(is_follow_up("那儿童呢？"));
  EXPECT_FALSE(is_follow_up("麻疹疫苗的副作用是什么？"));
}

TEST(Terms, CarryForwardAddsThePreviousKeyTerms) {
  EXPECT_EQ(carry_forward("and how long does it last?", "What is the measles vaccine?"),
            "and how long does it last? measles vaccine");
  EXPECT_EQ(carry_forward("How do I install moerag on a Debian server?", "What is the measles vaccine?"),
            "How do I install moerag on a Debian server?");
  EXPECT_EQ(carry_forward("它的副作用是什么？", "麻疹疫苗是什么？"), "它的副作用是什么？ 麻疹疫苗");
  EXPECT_EQ(carry_forward("Is it safe?", ""), "Is it safe?");
}

TEST(Terms, AsksForHuman) {
  EXPECT_TRUE(asks_for_human("Can I talk to a human please"));
  EXPECT_TRUE(asks_for_human("转人工"));
  EXPECT_FALSE(asks_for_human("How do vaccines work?"));
}

TEST(Memory, BudgetSplitFollowsShares) {
  ChatOptions o;
  o.context_tokens = 1000;
  auto b = split_budget(o);
  EXPECT_EQ(b.history, 250);
  EXPECT_EQ(b.passages, 500);
  EXPECT_EQ(b.answer, 250);
  o.history_share = o.passage_share = o.answer_share = 1.0;  // normalised
  b = split_budget(o);
  EXPECT_EQ(b.history + b.passages + b.answer, 999);
}

TEST(Memory, WindowKeepsTheMostRecentTurnsThatFit) {
  std::vector<Turn> turns(6);
  for (size_t i = 0; i < turns.size(); ++i) turns[i].content = "one two three four five six";  // 6 + 4 tokens
  auto w = fit_window(turns, 35, 10);
  EXPECT_EQ(w.kept, (std::vector<size_t>{3, 4, 5}));
  EXPECT_EQ(w.dropped, (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(w.tokens, 30);
  w = fit_window(turns, 1000, 2);
  EXPECT_EQ(w.kept, (std::vector<size_t>{4, 5}));
  w = fit_window(turns, 35, 10, 20);  // a summary takes its share first
  EXPECT_EQ(w.kept, (std::vector<size_t>{5}));
}

TEST(Answer, ExtractiveTakesTheBestSentencesWithCitations) {
  auto cands = rank_candidates(
      "how long does the measles vaccine protect",
      {passage("pets", "Dogs need walks. Cats sleep a lot."),
       passage("measles", "The measles vaccine is given in two doses. Protection from the measles vaccine lasts for life "
                          "in most people. Side effects are rare."),
       passage("flu", "The flu vaccine protects for about six months. It is given every autumn.")});
  ASSERT_EQ(cands[0].passage.document_id, "measles");
  auto ex = extractive_answer("how long does the measles vaccine protect", cands, 2, 200, 0.3);
  ASSERT_TRUE(ex.answered);
  ASSERT_FALSE(ex.citations.empty());
  EXPECT_EQ(ex.citations[0].document_id, "measles");
  EXPECT_EQ(ex.citations[0].n, 1);
  EXPECT_NE(ex.answer.find("lasts for life"), std::string::npos);
  EXPECT_NE(ex.answer.find("[1]"), std::string::npos);
  EXPECT_EQ(ex.answer.find("Dogs"), std::string::npos);
}

TEST(Answer, NothingRelevantMeansNoAnswer) {
  auto cands = rank_candidates("quantum chromodynamics lattice", {passage("pets", "Dogs need walks. Cats sleep a lot.")});
  auto ex = extractive_answer("quantum chromodynamics lattice", cands, 3, 200, 0.3);
  EXPECT_FALSE(ex.answered);
  EXPECT_TRUE(ex.citations.empty());
  EXPECT_LT(ex.confidence, 0.3);
}

TEST(Answer, ChineseSentences) {
  auto cands = rank_candidates("麻疹疫苗 保护 多久", {passage("zh", "麻疹疫苗需要接种两剂。接种后的保护通常可以持续终身。副作用很少见。")});
  auto ex = extractive_answer("麻疹疫苗 保护 多久", cands, 2, 200, 0.3);
  ASSERT_TRUE(ex.answered);
  EXPECT_NE(ex.answer.find("持续终身"), std::string::npos);
}

TEST(Answer, CheckCitationsDropsUnsupportedMarkers) {
  std::vector<Candidate> cands = {{passage("a", "The vaccine is given in two doses."), 1},
                                  {passage("b", "Dogs need daily walks."), 1}};
  std::vector<size_t> cited;
  std::string out = check_citations("The vaccine needs two doses [1]. Dogs love vaccines [2]. Cats fly [7].", cands, 2, &cited);
  EXPECT_EQ(out, "The vaccine needs two doses [1]. Dogs love vaccines [2]. Cats fly.");
  EXPECT_EQ(cited, (std::vector<size_t>{0, 1}));
  cited.clear();
  out = check_citations("Paris is in France [2].", cands, 2, &cited);
  EXPECT_EQ(out, "Paris is in France.");
  EXPECT_TRUE(cited.empty());
}

TEST(Answer, RagPromptNumbersPassagesWithinBudget) {
  std::vector<Candidate> cands = {{passage("a", "alpha beta gamma"), 1}, {passage("b", "delta epsilon"), 1}};
  size_t used = 0;
  std::string p = rag_prompt("What is alpha?", cands, "User: hi\n", 1000, &used);
  EXPECT_EQ(used, 2u);
  EXPECT_NE(p.find("[1] (a.md) alpha beta gamma"), std::string::npos);
  EXPECT_NE(p.find("[2] (b.md) delta epsilon"), std::string::npos);
  EXPECT_NE(p.find("Question: What is alpha?"), std::string::npos);
  rag_prompt("q", cands, "", 12, &used);
  EXPECT_EQ(used, 1u);
}

TEST(Faq, ParsesQuotedMultilineCsv) {
  auto rows = parse_csv("question,answer\r\n\"Why, though?\",\"Line one.\nLine \"\"two\"\".\"\nq2,a2\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][0], "Why, though?");
  EXPECT_EQ(rows[1][1], "Line one.\nLine \"two\".");
  EXPECT_EQ(rows[2][1], "a2");
}

}  // namespace
}  // namespace moerag::chat
