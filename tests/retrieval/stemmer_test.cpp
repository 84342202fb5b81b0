// The Porter stemmer against outputs of the published algorithm (Porter 1980), and
// what it is for: word families meet on one term in the lexical index, and stop
// words are recognised in their stemmed form.
#include <gtest/gtest.h>

#include "retrieval/analyzer.h"
#include "retrieval/stemmer.h"

using namespace moerag::retrieval;

TEST(PorterStemmer, StepByStepExamplesOfThePaper) {
  const std::pair<const char*, const char*> cases[] = {
      // step 1a
      {"caresses", "caress"}, {"ponies", "poni"}, {"ties", "ti"}, {"caress", "caress"}, {"cats", "cat"},
      // step 1b, with the clean-up after -ed / -ing
      {"feed", "feed"}, {"plastered", "plaster"}, {"bled", "bled"}, {"motoring", "motor"}, {"sing", "sing"},
      {"sized", "size"}, {"hopping", "hop"}, {"tanned", "tan"}, {"falling", "fall"}, {"hissing", "hiss"},
      {"fizzed", "fizz"}, {"failing", "fail"}, {"filing", "file"},
      // step 1c
      {"happy", "happi"}, {"sky", "sky"},
      // steps 2-5 on whole words
      {"relational", "relat"}, {"conditional", "condit"}, {"rational", "ration"}, {"generalizations", "gener"},
      {"oscillators", "oscil"}, {"agreed", "agre"}, {"adjustable", "adjust"}, {"dependent", "depend"},
      {"goodness", "good"}, {"controll", "control"}, {"roll", "roll"}, {"hope", "hope"}};
  for (auto [in, out] : cases) EXPECT_EQ(porter_stem(in), out) << in;
}

TEST(PorterStemmer, WordFamiliesShareAStem) {
  for (const char* w : {"connect", "connected", "connecting", "connection", "connections"})
    EXPECT_EQ(porter_stem(w), "connect") << w;
  for (const char* w : {"infect", "infected", "infects", "infection", "infections"})
    EXPECT_EQ(porter_stem(w), "infect") << w;
  for (const char* w : {"prepare", "prepared", "preparing", "preparation"}) EXPECT_EQ(porter_stem(w), "prepar") << w;
  for (const char* w : {"recommend", "recommended", "recommendation", "recommendations"})
    EXPECT_EQ(porter_stem(w), "recommend") << w;
}

TEST(PorterStemmer, LeavesShortAndNonAsciiWordsAlone) {
  EXPECT_EQ(porter_stem("is"), "is");
  EXPECT_EQ(porter_stem("as"), "as");
  EXPECT_EQ(porter_stem("café"), "café");
  EXPECT_EQ(porter_stem("covid19"), "covid19");
  EXPECT_EQ(porter_stem(""), "");
}

TEST(PorterStemmer, StemmedStopWordsAreStillStopWords) {
  // "this" -> "thi", "was" -> "wa", "does" -> "doe": queries see stems.
  EXPECT_EQ(fts_query("Was this what his dog does?", true), "\"dog\"");
  EXPECT_EQ(fts_query("How are infections prepared?", true), "\"infect\" OR \"prepar\"");
}
