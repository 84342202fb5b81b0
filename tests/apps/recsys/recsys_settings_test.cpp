// The `recsys` settings section: its defaults are RecsysOptions' defaults, overrides
// reach the options, meta-paths are validated against the graph schema with one
// line naming the key, the path, the allowed node types/edges and the source, and
// explanations/max_k/default_k act on a real Recommender.
#include <gtest/gtest.h>

#include "apps/recsys/settings.h"
#include "core/sqlite.h"
#include "tests/support/test_support.h"

using namespace moerag;
using namespace moerag::recsys;
using moerag::testing::TempDir;

namespace {

Result<config::Settings> load(const std::vector<config::LoadOptions::Override>& overrides) {
  config::LoadOptions o;
  o.use_environment = false;
  o.overrides = overrides;
  return config::load(o);
}

}  // namespace

TEST(RecsysSettings, DefaultsAreTheOptionsDefaults) {
  // config/moerag.json is the documented default: it must not drift from RecsysOptions{}.
  auto s = load({});
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto o = options_from_settings(*s);
  ASSERT_TRUE(o.ok()) << o.error().message;
  const RecsysOptions d;
  EXPECT_EQ(o->meta_paths, d.meta_paths);
  EXPECT_EQ(o->dim, d.dim);
  EXPECT_EQ(o->walks_per_node, d.walks_per_node);
  EXPECT_EQ(o->walk_length, d.walk_length);
  EXPECT_EQ(o->window, d.window);
  EXPECT_EQ(o->negatives, d.negatives);
  EXPECT_EQ(o->epochs, d.epochs);
  EXPECT_DOUBLE_EQ(o->learning_rate, d.learning_rate);
  EXPECT_EQ(o->knn_neighbors, d.knn_neighbors);
  EXPECT_DOUBLE_EQ(o->half_life_days, d.half_life_days);
  EXPECT_DOUBLE_EQ(o->holdout_fraction, d.holdout_fraction);
  EXPECT_EQ(o->fusion_epochs, d.fusion_epochs);
  EXPECT_EQ(o->threads, d.threads);
  EXPECT_EQ(o->seed, d.seed);
  EXPECT_EQ(o->candidates, d.candidates);
  EXPECT_EQ(o->default_k, d.default_k);
  EXPECT_EQ(o->max_k, d.max_k);
  EXPECT_EQ(o->explanations, d.explanations);
}

TEST(RecsysSettings, OverridesReachTheOptions) {
  auto s = load({{"recsys.meta_paths", "u-i-u,I-A-I", "test"},
                 {"recsys.dim", "8", "test"},
                 {"recsys.half_life_days", "30.5", "test"},
                 {"recsys.seed", "7", "test"},
                 {"recsys.explanations", "false", "test"}});
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto o = options_from_settings(*s);
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->meta_paths, (std::vector<std::string>{"u-i-u", "I-A-I"}));
  EXPECT_EQ(o->dim, 8);
  EXPECT_DOUBLE_EQ(o->half_life_days, 30.5);
  EXPECT_EQ(o->seed, 7u);
  EXPECT_FALSE(o->explanations);
}

TEST(RecsysSettings, BadMetaPathsNameTheKeyThePathAndTheSchema) {
  struct Case {
    std::string value, expect;
  };
  const std::vector<Case> cases = {
      {"U-I-U,U-I-X-I-U", "recsys.meta_paths entry 'U-I-X-I-U': unknown node type 'X'"},
      {"U-I-I-U", "recsys.meta_paths entry 'U-I-I-U': the graph has no I-I edges"},
      {"U-I-A", "recsys.meta_paths entry 'U-I-A': must end on the type it starts with"},
      {"U-I", "recsys.meta_paths entry 'U-I': needs at least 3 node types"},
      {"U--I-U", "recsys.meta_paths entry 'U--I-U': empty node type"},
  };
  for (const auto& c : cases) {
    auto s = load({{"recsys.meta_paths", c.value, "--set recsys.meta_paths"}});
    ASSERT_TRUE(s.ok()) << "the schema check is the recommender's, not config's: " << s.error().message;
    auto o = options_from_settings(*s);
    ASSERT_FALSE(o.ok()) << c.value;
    const std::string& m = o.error().message;
    EXPECT_EQ(o.error().code, ErrorCode::INVALID_INPUT);
    EXPECT_NE(m.find(c.expect), std::string::npos) << m;
    EXPECT_NE(m.find("node types: U = user, I = item, A = attribute; edges: U-I, I-A, U-A"), std::string::npos) << m;
    EXPECT_NE(m.find("set by --set recsys.meta_paths"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << "one line: " << m;
    EXPECT_FALSE(check_settings(*s).ok());
  }
}

TEST(RecsysSettings, ExplanationsOffAndConfiguredKLimits) {
  TempDir dir;
  auto db = sql::Database::open(dir.file("m.db"));
  ASSERT_TRUE(db.ok());
  auto s = load({{"recsys.explanations", "false", "test"}, {"recsys.max_k", "3", "test"},
                 {"recsys.default_k", "2", "test"}, {"recsys.dim", "8", "test"}, {"recsys.fusion_epochs", "2", "test"}});
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto o = options_from_settings(*s);
  ASSERT_TRUE(o.ok());
  auto rec = Recommender::create(*db, dir.file("recsys"), *o);
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  EXPECT_EQ((*rec)->options().default_k, 2);
  std::vector<ItemRecord> items;
  std::vector<InteractionRecord> xs;
  for (int i = 0; i < 6; ++i) items.push_back({"i" + std::to_string(i), "Item " + std::to_string(i), {"genre:g"}});
  for (int u = 0; u < 6; ++u)
    for (int i = 0; i <= u % 4; ++i) xs.push_back({"u" + std::to_string(u), "i" + std::to_string(i), InteractionKind::VIEW, 1, 100 + i});
  ASSERT_TRUE((*rec)->import({}, items, xs).ok());
  ASSERT_TRUE((*rec)->train().ok());
  RecommendRequest r;
  r.user_id = "u1";
  r.k = 3;
  r.explain = true;
  auto recs = (*rec)->recommend(r);
  ASSERT_TRUE(recs.ok()) << recs.error().message;
  ASSERT_FALSE(recs->empty());
  for (const auto& x : *recs) EXPECT_TRUE(x.explanations.empty()) << "recsys.explanations = false";
  auto sim = (*rec)->similar("i0", 3, true);
  ASSERT_TRUE(sim.ok());
  for (const auto& x : *sim) EXPECT_TRUE(x.explanations.empty());
  r.k = 4;
  auto too_many = (*rec)->recommend(r);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.error().message.find("between 1 and 3"), std::string::npos);
}
