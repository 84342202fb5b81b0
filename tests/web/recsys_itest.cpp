// The /v1/recsys routes through the real `moerag serve` and an HTTP client: a tiny
// two-cluster dataset imported through the API (with bad rows), background
// training, recommendations whose explanation paths exist in the imported data,
// similar items, cold start, fold-in, 404s and 400s.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <set>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/support/shared_server.h"
#include "tests/support/test_support.h"

using json = nlohmann::json;
using namespace moerag::testing;

namespace {

json parse(const httplib::Result& r) { return json::parse(r->body, nullptr, false); }

void expect_error(const httplib::Result& r, int status, const std::string& code) {
  ASSERT_TRUE(r) << "no response";
  EXPECT_EQ(r->status, status) << r->body;
  EXPECT_EQ(parse(r)["error"]["code"], code) << r->body;
}

// Items c0..c11 (genre:crime) and r0..r11 (genre:romance); users uc* watch crime, ur* romance.
struct Synthetic {
  json body = {{"users", json::array()}, {"items", json::array()}, {"interactions", json::array()}};
  std::set<std::pair<std::string, std::string>> edges;  // (user, item) and (item, attribute)
  Synthetic() {
    for (int i = 0; i < 12; ++i) {
      for (const char* g : {"c", "r"}) {
        std::string id = g + std::to_string(i), genre = g[0] == 'c' ? "genre:crime" : "genre:romance";
        body["items"].push_back({{"id", id}, {"title", (g[0] == 'c' ? "Crime " : "Romance ") + std::to_string(i)},
                                 {"attributes", {genre}}});
        edges.insert({id, genre});
      }
    }
    std::mt19937 rng(3);
    for (int u = 0; u < 16; ++u)
      for (const char* g : {"c", "r"}) {
        std::set<int> picked;
        while (picked.size() < 6) picked.insert(static_cast<int>(rng() % 12));
        int64_t t = 1000;
        for (int i : picked) {
          std::string user = std::string("u") + g + std::to_string(u), item = g + std::to_string(i);
          body["interactions"].push_back({{"user", user}, {"item", item}, {"kind", "view"}, {"time", t++}});
          edges.insert({user, item});
        }
      }
  }
  // Every consecutive pair of nodes is an interaction or an item attribute we imported.
  bool path_exists(const json& path) const {
    for (size_t k = 0; k + 1 < path.size(); ++k) {
      std::string a = path[k]["id"], b = path[k + 1]["id"], ta = path[k]["type"], tb = path[k + 1]["type"];
      bool ok = false;
      if (ta == "U" && tb == "I") ok = edges.count({a, b});
      else if (ta == "I" && tb == "U") ok = edges.count({b, a});
      else if (ta == "I" && tb == "A") ok = edges.count({a, b});
      else if (ta == "A" && tb == "I") ok = edges.count({b, a});
      if (!ok) return false;
    }
    return path.size() >= 2;
  }
};

class RecsysServer : public SharedServerSuite<RecsysServer> {
 protected:
  // Imports the dataset once and trains; later tests reuse the trained server.
  void ensure_trained() {
    if (trained_) return;
    auto c = client();
    auto imp = c.Post("/v1/recsys/interactions", data_.body.dump(), "application/json");
    ASSERT_TRUE(imp);
    ASSERT_EQ(imp->status, 200) << imp->body;
    auto rep = parse(imp);
    EXPECT_EQ(rep["items"], 24);
    EXPECT_EQ(rep["interactions"], static_cast<int>(data_.body["interactions"].size()));
    auto tr = c.Post("/v1/recsys/train", "", "application/json");  // an empty body is fine
    ASSERT_TRUE(tr);
    ASSERT_EQ(tr->status, 202) << tr->body;
    json st;
    for (int i = 0; i < 600; ++i) {
      st = parse(c.Get("/v1/recsys/status"));
      if (st["state"] != "training" && st["model_version"].get<int>() > 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(st["state"], "ready") << st.dump();
    EXPECT_EQ(st["model_version"], 1);
    EXPECT_FALSE(st["view_weights"].empty());
    trained_ = true;
  }
  static inline bool trained_ = false;
  Synthetic data_;
};

int count_prefix(const json& items, char p) {
  int n = 0;
  for (const auto& x : items) n += x["item_id"].get<std::string>()[0] == p;
  return n;
}

TEST_F(RecsysServer, RecommendationsWithExplanationsWhosePathsExist) {
  ensure_trained();
  auto c = client();
  auto r = c.Get("/v1/recsys/users/uc3/recommendations?k=5&explain=true");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto items = parse(r)["items"];
  ASSERT_EQ(items.size(), 5u);
  EXPECT_GE(count_prefix(items, 'c'), 4) << r->body;
  std::set<std::string> seen;
  for (const auto& x : data_.body["interactions"])
    if (x["user"] == "uc3") seen.insert(x["item"]);
  for (const auto& it : items) {
    EXPECT_FALSE(seen.count(it["item_id"])) << "seen items are excluded";
    ASSERT_FALSE(it["explanations"].empty()) << it.dump();
    for (const auto& e : it["explanations"]) {
      EXPECT_TRUE(data_.path_exists(e["path"])) << e.dump();
      EXPECT_EQ(e["path"].back()["id"], it["item_id"]);
      EXPECT_FALSE(e["text"].get<std::string>().empty());
    }
  }
  auto sim = c.Get("/v1/recsys/items/c1/similar?k=5&explain=true");
  ASSERT_EQ(sim->status, 200) << sim->body;
  auto sims = parse(sim)["items"];
  ASSERT_EQ(sims.size(), 5u);
  EXPECT_GE(count_prefix(sims, 'c'), 4) << sim->body;
  for (const auto& it : sims)
    for (const auto& e : it.value("explanations", json::array())) EXPECT_TRUE(data_.path_exists(e["path"])) << e.dump();
  // Filters: only romance items for a crime fan when asked.
  auto f = c.Get("/v1/recsys/users/uc3/recommendations?k=3&filter=genre:romance");
  ASSERT_EQ(f->status, 200) << f->body;
  EXPECT_EQ(count_prefix(parse(f)["items"], 'r'), 3) << f->body;
}

TEST_F(RecsysServer, ColdStartThenFoldIn) {
  ensure_trained();
  auto c = client();
  auto add = c.Post("/v1/recsys/interactions", json{{"users", {{{"id", "newbie"}}}}}.dump(), "application/json");
  ASSERT_EQ(add->status, 200) << add->body;
  auto cold = c.Get("/v1/recsys/users/newbie/recommendations?k=4&filter=genre:romance");
  ASSERT_EQ(cold->status, 200) << cold->body;
  EXPECT_EQ(count_prefix(parse(cold)["items"], 'r'), 4) << "popular items within the requested attribute";
  json xs = {{"interactions",
              {{{"user", "newbie"}, {"item", "c0"}, {"kind", "click"}, {"time", 5000}},
               {{"user", "newbie"}, {"item", "c1"}, {"kind", "click"}, {"time", 5001}}}}};
  ASSERT_EQ(c.Post("/v1/recsys/interactions", xs.dump(), "application/json")->status, 200);
  auto warm = c.Get("/v1/recsys/users/newbie/recommendations?k=4");
  ASSERT_EQ(warm->status, 200) << warm->body;
  auto items = parse(warm)["items"];
  EXPECT_GE(count_prefix(items, 'c'), 3) << warm->body;
  for (const auto& it : items) EXPECT_TRUE(it["item_id"] != "c0" && it["item_id"] != "c1");
  EXPECT_EQ(parse(c.Get("/v1/recsys/status"))["model_version"], 1) << "no retraining needed";
}

TEST_F(RecsysServer, UnknownIdsAre404AndBadInputIs400) {
  ensure_trained();
  auto c = client();
  expect_error(c.Get("/v1/recsys/users/nobody/recommendations"), 404, "not_found");
  expect_error(c.Get("/v1/recsys/items/nothing/similar"), 404, "not_found");
  expect_error(c.Get("/v1/recsys/users/uc1/recommendations?k=0"), 400, "invalid_input");
  expect_error(c.Get("/v1/recsys/users/uc1/recommendations?k=abc"), 400, "invalid_input");
  expect_error(c.Get("/v1/recsys/users/uc1/recommendations?diversity=2"), 400, "invalid_input");
  expect_error(c.Get("/v1/recsys/items/c1/similar?k=100000"), 400, "invalid_input");
  expect_error(c.Post("/v1/recsys/interactions", "{\"interactions\": [", "application/json"), 400, "invalid_input");
  // Bad rows are reported by position; the good rows are imported.
  json mixed = {{"interactions",
                 {{{"user", "uc1"}, {"item", "c2"}, {"kind", "teleport"}},
                  "not an object",
                  {{"user", "uc1"}, {"item", "c9"}, {"kind", "buy"}, {"time", 9000}}}}};
  auto r = c.Post("/v1/recsys/interactions", mixed.dump(), "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  auto rep = parse(r);
  EXPECT_EQ(rep["interactions"], 1);
  ASSERT_EQ(rep["errors"].size(), 2u) << r->body;
  EXPECT_NE(rep["errors"][0].get<std::string>().find("interactions[0]"), std::string::npos);
  EXPECT_NE(rep["errors"][1].get<std::string>().find("interactions[1]"), std::string::npos);
}

TEST_F(RecsysServer, RoutesAreListedInOpenApi) {
  auto doc = parse(client().Get("/openapi.json"));
  for (const char* p : {"/v1/recsys/users/{id}/recommendations", "/v1/recsys/items/{id}/similar",
                        "/v1/recsys/interactions", "/v1/recsys/train", "/v1/recsys/status"})
    EXPECT_TRUE(doc["paths"].contains(p)) << p;
}

}  // namespace
