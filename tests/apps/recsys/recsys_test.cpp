// Recommender unit tests on a generated two-cluster dataset: meta-path validation,
// CSV import errors with line numbers, cold start, fold-in, cold items, filters,
// explanations whose paths exist in the graph, and the calibrated fusion fit.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "apps/recsys/graph.h"
#include "apps/recsys/import.h"
#include "apps/recsys/model.h"
#include "apps/recsys/recsys.h"
#include "core/sqlite.h"
#include "tests/support/test_support.h"

using namespace moerag;
using namespace moerag::recsys;
using moerag::testing::TempDir;

namespace {

// Items c0..c19 are genre:crime, r0..r19 genre:romance; users uc* like crime, ur* romance.
void synthetic(std::vector<ItemRecord>& items, std::vector<InteractionRecord>& xs, int n_users = 30) {
  for (int i = 0; i < 20; ++i) {
    items.push_back({"c" + std::to_string(i), "Crime " + std::to_string(i), {"genre:crime", "decade:1990s"}});
    items.push_back({"r" + std::to_string(i), "Romance " + std::to_string(i), {"genre:romance"}});
  }
  std::mt19937 rng(1);
  for (int u = 0; u < n_users; ++u)
    for (const char* g : {"c", "r"}) {
      std::set<int> picked;
      while (picked.size() < 8) picked.insert(static_cast<int>(rng() % 20));
      int t = 1000;
      for (int i : picked)
        xs.push_back({std::string("u") + g + std::to_string(u), g + std::to_string(i), InteractionKind::VIEW, 1.0, t++});
    }
}

struct Fixture {
  TempDir dir;
  std::shared_ptr<Recommender> rec;
  Fixture() {
    auto db = sql::Database::open(dir.file("moerag.db"));
    EXPECT_TRUE(db.ok());
    RecsysOptions o;
    o.dim = 16;
    o.walks_per_node = 4;
    o.fusion_epochs = 5;
    auto r = Recommender::create(*db, dir.file("recsys"), o);
    EXPECT_TRUE(r.ok()) << r.error().message;
    rec = *r;
    std::vector<ItemRecord> items;
    std::vector<InteractionRecord> xs;
    synthetic(items, xs);
    auto rep = rec->import({}, items, xs);
    EXPECT_TRUE(rep.ok());
    EXPECT_EQ(rep->interactions, static_cast<int64_t>(xs.size()));
  }
};

int count_prefix(const std::vector<Recommendation>& recs, char p) {
  int n = 0;
  for (const auto& r : recs) n += r.item_id[0] == p;
  return n;
}

}  // namespace

TEST(MetaPath, ParsesAndValidatesAgainstTheSchema) {
  auto p = parse_meta_path("u-i-a-i-u");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->text, "U-I-A-I-U");
  auto bad = parse_meta_path("U-X-U");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unknown node type 'X'"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(parse_meta_path("U-U").ok());
  EXPECT_FALSE(parse_meta_path("I-I-I").ok());
  EXPECT_FALSE(parse_meta_path("U-I-A").ok());  // must end where it starts
}

TEST(Recommender, UnknownNodeTypeStopsCreate) {
  TempDir dir;
  auto db = sql::Database::open(dir.file("m.db"));
  RecsysOptions o;
  o.meta_paths = {"U-I-U", "I-G-I"};
  auto r = Recommender::create(*db, dir.file("recsys"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::INVALID_INPUT);
  EXPECT_NE(r.error().message.find("'G'"), std::string::npos);
}

TEST(Import, MalformedCsvRowsAreReportedWithLineNumbers) {
  TempDir dir;
  moerag::testing::write_file(dir.file("x.csv"),
                              "user_id,item_id,weight,time\n"
                              "u1,i1,1,100\n"
                              "u1,\"i2,3\n"       // line 3: unclosed quote
                              "u2,i1,abc,100\n"   // line 4: bad weight
                              "u2,i3,1\n"         // line 5: wrong field count
                              "u3,i1,2,200\n");
  ParsedRecords rec;
  ColumnMap c;
  ASSERT_TRUE(parse_interactions_file(dir.file("x.csv"), c, rec).ok());
  EXPECT_EQ(rec.interactions.size(), 2u);
  ASSERT_EQ(rec.errors.size(), 3u);
  EXPECT_NE(rec.errors[0].find("x.csv:3:"), std::string::npos) << rec.errors[0];
  EXPECT_NE(rec.errors[1].find("x.csv:4:"), std::string::npos) << rec.errors[1];
  EXPECT_NE(rec.errors[2].find("x.csv:5:"), std::string::npos) << rec.errors[2];
}

TEST(Recommender, TrainsRecommendsAndExplainsWithRealPaths) {
  Fixture f;
  ASSERT_TRUE(f.rec->train().ok());
  EXPECT_EQ(f.rec->status().state, "ready");
  EXPECT_EQ(f.rec->status().model_version, 1);
  RecommendRequest r;
  r.user_id = "uc3";
  r.k = 5;
  r.explain = true;
  auto recs = f.rec->recommend(r);
  ASSERT_TRUE(recs.ok()) << recs.error().message;
  ASSERT_EQ(recs->size(), 5u);
  EXPECT_GE(count_prefix(*recs, 'c'), 4) << "a crime fan gets crime items";
  for (const auto& rec : *recs) {
    ASSERT_FALSE(rec.explanations.empty());
    for (const auto& e : rec.explanations) {
      EXPECT_TRUE(f.rec->path_exists(e.path)) << e.text;
      EXPECT_EQ(e.path.back().id, rec.item_id);
    }
  }
  auto sim = f.rec->similar("c1", 5, true);
  ASSERT_TRUE(sim.ok());
  EXPECT_GE(count_prefix(*sim, 'c'), 4);
  for (const auto& rec : *sim)
    for (const auto& e : rec.explanations) EXPECT_TRUE(f.rec->path_exists(e.path)) << e.text;
  // A made-up path is rejected.
  EXPECT_FALSE(f.rec->path_exists({{'U', "uc3", ""}, {'I', "r19", ""}}) && f.rec->path_exists({{'I', "r19", ""}, {'A', "genre:crime", ""}}));
  RecommendRequest nobody;
  nobody.user_id = "nobody";
  EXPECT_EQ(f.rec->recommend(nobody).error().code, ErrorCode::NOT_FOUND);
  EXPECT_EQ(f.rec->similar("nothing", 3).error().code, ErrorCode::NOT_FOUND);
}

TEST(Recommender, ColdStartThenFoldInWithoutRetraining) {
  Fixture f;
  ASSERT_TRUE(f.rec->train().ok());
  ASSERT_TRUE(f.rec->import({{"newbie", {}}}, {}, {}).ok());
  RecommendRequest r;
  r.user_id = "newbie";
  r.k = 5;
  r.require_attrs = {"genre:romance"};
  auto cold = f.rec->recommend(r);
  ASSERT_TRUE(cold.ok());
  ASSERT_EQ(cold->size(), 5u);
  EXPECT_EQ(count_prefix(*cold, 'r'), 5) << "popular items within the requested attribute";
  // First interactions: crime items; no retraining, results turn to crime.
  ASSERT_TRUE(f.rec->import({}, {}, {{"newbie", "c0", InteractionKind::CLICK, 1, 5000},
                                     {"newbie", "c1", InteractionKind::CLICK, 1, 5001}}).ok());
  r.require_attrs.clear();
  auto warm = f.rec->recommend(r);
  ASSERT_TRUE(warm.ok());
  EXPECT_GE(count_prefix(*warm, 'c'), 4);
  for (const auto& x : *warm) EXPECT_TRUE(x.item_id != "c0" && x.item_id != "c1") << "seen items excluded";
  EXPECT_EQ(f.rec->status().model_version, 1);
}

TEST(Recommender, NewItemGetsAnEmbeddingFromItsAttributes) {
  Fixture f;
  ASSERT_TRUE(f.rec->train().ok());
  ASSERT_TRUE(f.rec->import({}, {{"cnew", "Brand new crime", {"genre:crime", "decade:1990s"}}}, {}).ok());
  auto sim = f.rec->similar("cnew", 5);
  ASSERT_TRUE(sim.ok());
  EXPECT_GE(count_prefix(*sim, 'c'), 4);
  RecommendRequest r;
  r.user_id = "uc2";
  r.k = 3;
  r.allow_items = {"cnew", "r1", "r2"};
  auto recs = f.rec->recommend(r);
  ASSERT_TRUE(recs.ok());
  ASSERT_FALSE(recs->empty());
  EXPECT_EQ((*recs)[0].item_id, "cnew");
}

TEST(Recommender, ModelSurvivesRestart) {
  TempDir dir;
  {
    auto db = sql::Database::open(dir.file("moerag.db"));
    auto r = Recommender::create(*db, dir.file("recsys"));
    std::vector<ItemRecord> items;
    std::vector<InteractionRecord> xs;
    synthetic(items, xs);
    ASSERT_TRUE((*r)->import({}, items, xs).ok());
    ASSERT_TRUE((*r)->train().ok());
  }
  auto db = sql::Database::open(dir.file("moerag.db"));
  auto r = Recommender::create(*db, dir.file("recsys"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->status().state, "ready");
  EXPECT_EQ((*r)->status().n_interactions, 480);
}

TEST(Fusion, FittedFusionMatchesOrBeatsEveryViewOnTheHoldout) {
  std::vector<ItemRecord> items;
  std::vector<InteractionRecord> xs;
  synthetic(items, xs, 80);  // 160 users: enough held-out users for the fit to run
  Dataset d;
  for (const auto& it : items) {
    int32_t i = d.add_item(it.id);
    for (const auto& a : it.attributes) d.add_item_attr(i, a);
  }
  for (const auto& x : xs) d.events.push_back({d.add_user(x.user), d.find_item(x.item), x.kind, 1.0f, x.time});
  d.reindex();
  RecsysOptions o;
  o.dim = 16;
  auto m = train_model(d, o, ModelPlan{});
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_EQ(m->fit.size(), static_cast<size_t>(m->n_views()) + 2);  // each view, equal gains, fused
  const ViewFit& fused = m->fit.back();
  EXPECT_EQ(fused.name, "fused");
  for (int v = 0; v < m->n_views(); ++v) {
    EXPECT_GE(fused.recall20 + fused.ndcg20, m->fit[v].recall20 + m->fit[v].ndcg20 - 0.02) << m->fit[v].name;
    EXPECT_GT(m->gain[v], 0) << "every view keeps a small weight";
  }
  // Calibrated scores: each view's z-scores over the catalogue have mean ~0.
  UserProfile p = make_profile(*m, d, 0);
  std::vector<float> vs;
  dense_view_scores(*m, d, p, vs);
  for (int v = 0; v < m->n_views(); ++v) {
    if (m->views[v].kind == ViewKind::CONTENT) continue;  // calibrated on a sample
    double mean = 0;
    for (int32_t i = 0; i < d.n_items(); ++i) mean += vs[static_cast<size_t>(v) * d.n_items() + i];
    EXPECT_NEAR(mean / d.n_items(), 0.0, 0.05) << m->views[v].name;
  }
}
