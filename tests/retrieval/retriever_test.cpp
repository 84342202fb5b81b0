// The Retriever on a temporary database: ingest, skip unchanged, replace changed,
// delete everywhere, filters and access inside the search, Chinese lexical search,
// and a vector index rebuilt when its file is missing or stale.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/sqlite.h"
#include "retrieval/retriever.h"
#include "tests/support/test_support.h"

using namespace moerag;
using namespace moerag::retrieval;
using moerag::testing::TempDir;

namespace {

std::unique_ptr<Retriever> open(const TempDir& dir) {
  auto db = sql::Database::open(dir.file("moerag.db"));
  EXPECT_TRUE(db.ok());
  auto r = Retriever::create(*db, RetrievalOptions{});
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return std::move(r).value();
}

DocumentInput doc(const std::string& source, const std::string& text, const std::string& meta = "{}") {
  DocumentInput in;
  in.source = source;
  in.content = text;
  in.metadata_json = meta;
  return in;
}

std::vector<std::string> ids(const std::vector<Passage>& ps) {
  std::vector<std::string> out;
  for (auto& p : ps) out.push_back(p.document_id);
  return out;
}

std::vector<Passage> find(Retriever& r, const std::string& q, SearchMode mode = SearchMode::HYBRID,
                          std::vector<MetadataFilter> filters = {}, Access access = {}) {
  SearchRequest req;
  req.kb = "kb";
  req.query = q;
  req.mode = mode;
  req.filters = std::move(filters);
  req.access = std::move(access);
  auto res = r.search(req);
  EXPECT_TRUE(res.ok()) << (res.ok() ? "" : res.error().message);
  return res.ok() ? *res : std::vector<Passage>{};
}

const char* kAnimals[] = {"Elephants are the largest land animals and live in herds.",
                          "Penguins are flightless birds living in the southern hemisphere.",
                          "Octopuses have three hearts and blue blood.",
                          "Honey bees communicate by dancing inside the hive."};

}  // namespace

TEST(Retriever, IngestSearchReingestDelete) {
  TempDir dir;
  auto r = open(dir);
  ASSERT_TRUE(r->create_kb({0, "kb"}).ok());
  EXPECT_EQ(r->create_kb({0, "kb"}).error().code, ErrorCode::CONFLICT);
  EXPECT_EQ(r->create_kb({0, "bad name!"}).error().code, ErrorCode::INVALID_INPUT);
  std::vector<DocumentInput> in;
  for (int i = 0; i < 4; ++i) in.push_back(doc("a" + std::to_string(i) + ".txt", kAnimals[i]));
  in.push_back(doc("bad.bin", "x"));
  auto rep = r->ingest("kb", in);
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->n_added, 4);
  EXPECT_EQ(rep->n_failed, 1);
  ASSERT_EQ(rep->errors.size(), 1u);
  EXPECT_EQ(rep->errors[0].source, "bad.bin");
  for (auto mode : {SearchMode::HYBRID, SearchMode::LEXICAL, SearchMode::DENSE}) {
    auto hits = find(*r, "how many hearts does an octopus have", mode);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits[0].document_id, "a2.txt");
  }
  auto hits = find(*r, "penguin birds");
  ASSERT_FALSE(hits.empty());
  EXPECT_NE(hits[0].snippet.find("<mark>"), std::string::npos);

  // Unchanged: skipped. Changed: replaced in place.
  auto again = r->ingest("kb", {doc("a0.txt", kAnimals[0])});
  EXPECT_EQ(again->n_skipped, 1);
  auto changed = r->ingest("kb", {doc("a0.txt", "Giraffes have very long necks.")});
  EXPECT_EQ(changed->n_updated, 1);
  EXPECT_TRUE(find(*r, "elephants herds", SearchMode::LEXICAL).empty());
  EXPECT_EQ(find(*r, "giraffe necks")[0].document_id, "a0.txt");
  EXPECT_EQ(r->get_kb("kb")->n_chunks, 4);

  // Deleted: never returned again, by either list.
  ASSERT_TRUE(r->delete_document("kb", "a2.txt").ok());
  for (auto mode : {SearchMode::HYBRID, SearchMode::LEXICAL, SearchMode::DENSE})
    for (auto& id : ids(find(*r, "octopus hearts blue blood", mode))) EXPECT_NE(id, "a2.txt");
  EXPECT_EQ(r->delete_document("kb", "a2.txt").error().code, ErrorCode::NOT_FOUND);
  EXPECT_EQ(r->get_document("kb", "a2.txt").error().code, ErrorCode::NOT_FOUND);
  EXPECT_EQ(r->list_documents("kb")->size(), 3u);
}

TEST(Retriever, FiltersAndAccessApplyInsideTheSearch) {
  TempDir dir;
  auto r = open(dir);
  ASSERT_TRUE(r->create_kb({0, "kb"}).ok());
  std::vector<DocumentInput> in;
  // 30 near-identical documents: only the filtered few may come back, even at k=3.
  for (int i = 0; i < 30; ++i) {
    auto d = doc("d" + std::to_string(i), "Quarterly report about revenue and costs number " + std::to_string(i),
                 "{\"year\": " + std::to_string(2000 + i) + ", \"tags\": [\"" + (i % 10 == 0 ? "gold" : "plain") +
                     "\"], \"team\": \"" + (i < 15 ? "red" : "blue") + "\"}");
    d.format = "txt";
    if (i == 29) d.allowed = {"finance"};
    in.push_back(d);
  }
  ASSERT_EQ(r->ingest("kb", in)->n_added, 30);
  for (auto mode : {SearchMode::HYBRID, SearchMode::LEXICAL, SearchMode::DENSE}) {
    auto tagged = find(*r, "quarterly revenue report", mode, {{"tags", MetadataFilter::Op::HAS_TAG, "gold"}});
    EXPECT_EQ(tagged.size(), 3u);
    for (auto& p : tagged) EXPECT_TRUE(p.document_id == "d0" || p.document_id == "d10" || p.document_id == "d20");
    auto range = find(*r, "quarterly revenue report", mode,
                      {{"year", MetadataFilter::Op::GE, "2027", true}, {"team", MetadataFilter::Op::EQ, "blue"}});
    EXPECT_EQ(range.size(), 3u);  // 2027, 2028, 2029
    Access user{false, "", {"user"}};
    for (auto& id : ids(find(*r, "quarterly revenue report number 29", mode, {}, user))) EXPECT_NE(id, "d29");
    Access fin{false, "", {"finance"}};
    EXPECT_EQ(find(*r, "quarterly revenue report number 29", SearchMode::LEXICAL, {}, fin)[0].document_id, "d29");
  }
  SearchRequest bad;
  bad.kb = "kb";
  bad.query = "x";
  bad.filters = {{"year; DROP", MetadataFilter::Op::EQ, "1"}};
  EXPECT_EQ(r->search(bad).error().code, ErrorCode::INVALID_INPUT);
  bad.kb = "nope";
  bad.filters.clear();
  EXPECT_EQ(r->search(bad).error().code, ErrorCode::NOT_FOUND);
}

TEST(Retriever, ChineseLexicalSearchFindsBigrams) {
  TempDir dir;
  auto r = open(dir);
  ASSERT_TRUE(r->create_kb({0, "kb"}).ok());
  auto rep = r->ingest("kb", {doc("a.md", "# 历史\n\n长城是中国古代的军事防御工程。"),
                              doc("b.md", "# 科技\n\n深度学习是机器学习的一个分支。"),
                              doc("c.md", "# 地理\n\n长江是亚洲最长的河流。")});
  ASSERT_EQ(rep->n_added, 3);
  auto hits = find(*r, "机器学习是什么？", SearchMode::LEXICAL);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].document_id, "b.md");
  EXPECT_EQ(hits[0].heading_path, "科技");
  EXPECT_EQ(find(*r, "亚洲最长的河流", SearchMode::DENSE)[0].document_id, "c.md");
}

TEST(Retriever, VectorIndexRebuiltWhenMissingOrStale) {
  TempDir dir;
  {
    auto r = open(dir);
    ASSERT_TRUE(r->create_kb({0, "kb"}).ok());
    std::vector<DocumentInput> in;
    for (int i = 0; i < 4; ++i) in.push_back(doc("a" + std::to_string(i) + ".txt", kAnimals[i]));
    ASSERT_TRUE(r->ingest("kb", in).ok());
  }
  auto index = dir.path() / "indexes" / "kb-1.faiss";
  ASSERT_TRUE(std::filesystem::exists(index));
  std::filesystem::remove(index);
  {
    auto r = open(dir);
    EXPECT_EQ(find(*r, "bees dancing in the hive", SearchMode::DENSE)[0].document_id, "a3.txt");
    // A second process (here: a second Retriever) changes the KB; the first notices.
    auto other = open(dir);
    ASSERT_TRUE(other->ingest("kb", {doc("z.txt", "Zebras have black and white stripes.")}).ok());
    EXPECT_EQ(find(*r, "striped zebra", SearchMode::DENSE)[0].document_id, "z.txt");
  }
  // A stale sidecar (wrong generation) is ignored rather than trusted.
  moerag::testing::write_file(index.string() + ".json", "{\"generation\": 0, \"embedder\": \"x\", \"n\": 5}");
  auto r = open(dir);
  EXPECT_EQ(find(*r, "striped zebra", SearchMode::DENSE)[0].document_id, "z.txt");
}

TEST(Retriever, PrunedLexicalPlanKeepsTheExhaustiveTopK) {
  TempDir dir;
  auto db = sql::Database::open(dir.file("moerag.db"));
  ASSERT_TRUE(db.ok());
  RetrievalOptions exhaustive, pruned;
  exhaustive.lexical_max_postings = 0;
  pruned.lexical_max_postings = 40;
  pruned.lexical_common_share = 0.05;
  auto full = std::move(Retriever::create(*db, exhaustive)).value();
  auto fast = std::move(Retriever::create(*db, pruned)).value();
  ASSERT_TRUE(full->create_kb({0, "kb"}).ok());
  // Every document has the common words; topic words are in 1/10 of them; each
  // document has its own unique word, repeated by a few.
  std::vector<DocumentInput> in;
  for (int i = 0; i < 300; ++i) {
    std::string t = "common words everywhere topic" + std::to_string(i % 10) + " unique" + std::to_string(i) +
                    (i % 3 == 0 ? " unique" + std::to_string(i) : "") + " filler text number" + std::to_string(i % 7);
    in.push_back(doc("d" + std::to_string(i) + ".txt", t));
  }
  ASSERT_TRUE(full->ingest("kb", in).ok());
  auto run = [&](Retriever& r, const std::string& q) {
    SearchRequest req;
    req.kb = "kb";
    req.query = q;
    req.k = 10;
    req.mode = SearchMode::LEXICAL;
    auto res = r.search(req);
    EXPECT_TRUE(res.ok());
    return res.ok() ? ids(*res) : std::vector<std::string>{};
  };
  for (const char* q : {"common words topic3 unique42", "everywhere unique7 number3", "common topic5 unique55",
                        "words everywhere unique120 unique33"}) {
    auto a = run(*full, q), b = run(*fast, q);
    ASSERT_FALSE(a.empty()) << q;
    EXPECT_EQ(a.front(), b.front()) << q;
  }
  // Terms in every document weigh (almost) nothing: dropping them keeps the order;
  // only the documents that matched nothing else (score ~0) are no longer listed.
  auto prefix = [&](const std::string& q) {
    auto a = run(*full, q), b = run(*fast, q);
    ASSERT_FALSE(b.empty()) << q;
    ASSERT_LE(b.size(), a.size()) << q;
    EXPECT_EQ(std::vector<std::string>(a.begin(), a.begin() + b.size()), b) << q;
  };
  prefix("common words everywhere unique12 unique15");
  prefix("common everywhere topic4");
  EXPECT_EQ(run(*fast, "common words everywhere unique12 unique15").size(), 2u);
}

// Word families meet in the lexical index: a question about being "infected" finds
// the passage about "infections" (the light stemmer before Porter kept them apart).
TEST(Retriever, LexicalSearchMatchesAcrossAWordFamily) {
  TempDir dir;
  auto r = open(dir);
  ASSERT_TRUE(r->create_kb({0, "kb"}).ok());
  ASSERT_TRUE(r->ingest("kb", {doc("a.txt", "Respiratory infections spread through droplets."),
                               doc("b.txt", "Preparation of a household plan helps families."),
                               doc("c.txt", "Washing hands removes germs.")})
                  .ok());
  auto hits = find(*r, "Can you be infected twice?", SearchMode::LEXICAL);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].document_id, "a.txt");
  hits = find(*r, "how do I prepare my family", SearchMode::LEXICAL);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].document_id, "b.txt");
}

// A database whose terms were made by another analyzer (here: an older one, tag '')
// is re-analysed when opened: its FTS terms are rewritten with the current stemmer.
TEST(Retriever, KnowledgeBaseOfAnOlderAnalyzerIsReanalysedOnOpen) {
  TempDir dir;
  {
    auto r = open(dir);
    ASSERT_TRUE(r->create_kb({0, "kb"}).ok());
    ASSERT_TRUE(r->ingest("kb", {doc("a.txt", "Respiratory infections spread through droplets."),
                                 doc("c.txt", "Washing hands removes germs.")})
                    .ok());
  }
  {
    // What the light stemmer stored: "infections" -> "infection", never "infect".
    auto db = sql::Database::open(dir.file("moerag.db"));
    ASSERT_TRUE(db.ok());
    auto c = (*db)->lease();
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->exec("UPDATE retrieval_kbs SET analyzer = ''").ok());
    ASSERT_TRUE((*c)->exec("UPDATE retrieval_fts_1 SET terms = replace(terms, 'infect ', 'infection ')").ok());
  }
  {
    auto db = sql::Database::open(dir.file("moerag.db"));
    ASSERT_TRUE(db.ok());
    auto c = (*db)->lease();
    auto st = (*c)->prepare("SELECT count(*) FROM retrieval_fts_1 WHERE retrieval_fts_1 MATCH 'infect'");
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE(*st->step());
    EXPECT_EQ(st->col_int(0), 0);  // the stale terms are really there before reopening
  }
  auto r = open(dir);
  auto hits = find(*r, "infected", SearchMode::LEXICAL);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].document_id, "a.txt");
  for (auto mode : {SearchMode::HYBRID, SearchMode::DENSE}) EXPECT_FALSE(find(*r, "washing hands", mode).empty());
}
