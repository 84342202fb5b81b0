// Which embedder built a knowledge base's vector index: the KB reports it (live
// state, or the saved sidecar after a restart); an index whose dimension differs
// from the configured embedder is rebuilt, never searched; vectors of the wrong size
// give a clear error; the retrieval.* settings reach RetrievalOptions.
#include <gtest/gtest.h>

#include <filesystem>

#include "config/settings.h"
#include "retrieval/hashed_embedder.h"
#include "retrieval/retriever.h"
#include "retrieval/settings.h"
#include "tests/support/test_support.h"

using namespace moerag;
using namespace moerag::retrieval;
using moerag::testing::TempDir;

namespace {

// The real hashed embedder under a fixed id, so two dimensions share one id.
class SameIdEmbedder : public HashedEmbedder {
 public:
  explicit SameIdEmbedder(size_t dim) : HashedEmbedder(dim, {}, 0) {}
  std::string id() const override { return "test-embedder"; }
};

// Claims `dim` but returns rows twice as long: a broken model must not reach FAISS.
class WrongSizeEmbedder : public HashedEmbedder {
 public:
  explicit WrongSizeEmbedder(size_t dim) : HashedEmbedder(dim, {}, 0), wide_(dim * 2, {}, 0) {}
  std::string id() const override { return "wrong-size"; }
  Result<std::vector<float>> embed(const std::vector<std::string>& texts) override { return wide_.embed(texts); }

 private:
  HashedEmbedder wide_;
};

std::unique_ptr<Retriever> open(const TempDir& dir, std::shared_ptr<engine::Embedder> e = nullptr) {
  auto db = sql::Database::open(dir.file("moerag.db"));
  EXPECT_TRUE(db.ok());
  auto r = Retriever::create(*db, RetrievalOptions{}, std::move(e));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return std::move(r).value();
}

std::vector<DocumentInput> docs() {
  std::vector<DocumentInput> out;
  for (const char* t : {"Rockets carry fuel to the moon.", "The cat sleeps on the warm mat.",
                        "Bread is baked in a hot oven."}) {
    DocumentInput in;
    in.source = std::string(t).substr(0, 6) + ".txt";
    in.content = t;
    out.push_back(in);
  }
  return out;
}

std::vector<Passage> dense(Retriever& r, const std::string& q) {
  SearchRequest req;
  req.kb = "k";
  req.query = q;
  req.mode = SearchMode::DENSE;
  auto res = r.search(req);
  EXPECT_TRUE(res.ok()) << res.error().message;
  return res.ok() ? *res : std::vector<Passage>{};
}

}  // namespace

TEST(EmbedderChoice, KnowledgeBaseReportsItsEmbedderLiveAndAfterRestart) {
  TempDir dir;
  {
    auto r = open(dir);
    KnowledgeBase spec;
    spec.name = "k";
    auto k = r->create_kb(spec);
    ASSERT_TRUE(k.ok());
    EXPECT_EQ(k->embedder, "") << "no index yet";
    EXPECT_EQ(k->embed_dim, 0);
    ASSERT_TRUE(r->ingest("k", docs()).ok());
    auto got = r->get_kb("k");
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->embedder.rfind("lsa-v1/", 0), 0u) << got->embedder;
    EXPECT_EQ(got->embed_dim, 384);
  }
  auto r = open(dir);  // nothing loaded: the saved sidecar answers
  auto all = r->list_kbs();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].embedder.rfind("lsa-v1/", 0), 0u) << (*all)[0].embedder;
  EXPECT_EQ((*all)[0].embed_dim, 384);
}

TEST(EmbedderChoice, IndexOfAnotherDimensionIsRebuiltNotSearched) {
  TempDir dir;
  {
    auto r = open(dir, std::make_shared<SameIdEmbedder>(16));
    ASSERT_TRUE(r->create_kb({0, "k"}).ok());
    ASSERT_TRUE(r->ingest("k", docs()).ok());
    EXPECT_EQ(r->get_kb("k")->embed_dim, 16);
  }
  // Same id, same generation, but 32 dimensions now: the 16-d file must not be used.
  auto r = open(dir, std::make_shared<SameIdEmbedder>(32));
  auto hits = dense(*r, "moon rockets fuel");
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].document_id, "Rocket.txt");
  EXPECT_EQ(r->get_kb("k")->embed_dim, 32);
  EXPECT_EQ(r->get_kb("k")->embedder, "test-embedder");
}

TEST(EmbedderChoice, VectorsOfTheWrongSizeGiveAClearError) {
  TempDir dir;
  auto r = open(dir, std::make_shared<WrongSizeEmbedder>(16));
  ASSERT_TRUE(r->create_kb({0, "k"}).ok());
  auto rep = r->ingest("k", docs());
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error().code, ErrorCode::INVALID_INPUT);
  EXPECT_NE(rep.error().message.find("knowledge base 'k': the embedder wrong-size gives 32-dimensional vectors but "
                                     "the vector index has 16 dimensions"),
            std::string::npos)
      << rep.error().message;
  EXPECT_EQ(r->get_kb("k")->n_chunks, 0) << "nothing committed";
}

TEST(EmbedderChoice, RetrievalSettingsReachTheOptions) {
  config::LoadOptions lo;
  lo.use_environment = false;
  lo.overrides = {{"retrieval.lexical_max_postings", "0", "test"}, {"retrieval.lexical_common_share", "0.2", "test"}};
  auto s = config::load(lo);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto o = options_from_settings(*s);
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->lexical_max_postings, 0);
  EXPECT_DOUBLE_EQ(o->lexical_common_share, 0.2);
  // Defaults in config/moerag.json equal RetrievalOptions' own.
  lo.overrides.clear();
  auto d = options_from_settings(*config::load(lo));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->lexical_max_postings, RetrievalOptions{}.lexical_max_postings);
  EXPECT_DOUBLE_EQ(d->lexical_common_share, RetrievalOptions{}.lexical_common_share);
  lo.overrides = {{"retrieval.lexical_common_share", "1.5", "--set retrieval.lexical_common_share"}};
  auto bad = options_from_settings(*config::load(lo));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("retrieval.lexical_common_share = 1.5 is out of range (allowed: 0..1; set by --set "
                                     "retrieval.lexical_common_share)"),
            std::string::npos)
      << bad.error().message;
  lo.overrides = {{"retrieval.lexical_max_postings", "-1", "test"}};
  EXPECT_FALSE(options_from_settings(*config::load(lo)).ok());
}

TEST(EmbedderChoice, EmbedModelThatIsNotAnEmbedderIsAClearError) {
  TempDir dir;
  moerag::testing::write_file(dir.file("not.gguf"), "not a gguf file");
  config::LoadOptions lo;
  lo.use_environment = false;
  lo.overrides = {{"model.embed_path", dir.file("not.gguf"), "--embed-model"}, {"data_dir", dir.file("d"), "test"}};
  auto s = config::load(lo);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto db = sql::Database::open(dir.file("moerag.db"));
  ASSERT_TRUE(db.ok());
  auto r = open_retriever(*s, *db);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("model.embed_path '" + dir.file("not.gguf") + "'"), std::string::npos)
      << r.error().message;
}
