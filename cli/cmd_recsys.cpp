// `moerag recsys import|train|recommend|similar|status` over the data folder, and
// `moerag eval recsys`: the offline comparison of the fused meta-path model with
// popularity, ItemKNN, BPR-MF and a single meta-path on a temporal split. Both use
// the `recsys.*` settings; flags such as -k, --threads and --seed override them.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "apps/recsys/evaluate.h"
#include "apps/recsys/recsys.h"
#include "apps/recsys/settings.h"
#include "cli/common.h"

namespace moerag::cli {
namespace {

using nlohmann::json;

std::string fmt(double x) {
  if (x < 0) return "    -";
  char b[16];
  std::snprintf(b, sizeof b, "%.4f", x);
  return b;
}

Result<std::shared_ptr<recsys::Recommender>> open_recommender(const config::Settings& s,
                                                              const std::optional<int>& threads = std::nullopt,
                                                              const std::optional<uint64_t>& seed = std::nullopt) {
  MOERAG_ASSIGN_OR_RETURN(auto o, recsys::options_from_settings(s));
  if (threads) o.threads = *threads;
  if (seed) o.seed = *seed;
  MOERAG_ASSIGN_OR_RETURN(auto db, open_main_db(s));
  return recsys::Recommender::create(db, (std::filesystem::path(s.data_dir) / "recsys").string(), o);
}

// Positive thread counts only; CLI11 checks the type.
std::optional<int> positive(const std::optional<int>& v) { return v && *v > 0 ? v : std::nullopt; }

void print_recs(const std::vector<recsys::Recommendation>& recs) {
  for (size_t i = 0; i < recs.size(); ++i) {
    std::printf("%2zu. %-12s %8.4f  %s\n", i + 1, recs[i].item_id.c_str(), recs[i].score, recs[i].title.c_str());
    for (const auto& e : recs[i].explanations) std::printf("      [%s] %s\n", e.meta_path.c_str(), e.text.c_str());
  }
}

void add_recsys(CLI::App& app) {
  auto* grp = group(app, "recsys", "Recommendations: import data, train, recommend, similar items, status");
  {
    auto* cmd = grp->add_subcommand("import", "Import users/items/interactions from CSV or JSONL (incremental)");
    auto flags = std::make_shared<SettingsFlags>();
    auto users = std::make_shared<std::string>(), items = std::make_shared<std::string>(),
         xs = std::make_shared<std::string>();
    auto c = std::make_shared<recsys::ColumnMap>();
    auto sep = std::make_shared<std::string>("|");
    cmd->add_option("--users", *users, "Users file (.csv or .jsonl)");
    cmd->add_option("--items", *items, "Items file (.csv or .jsonl)");
    cmd->add_option("--interactions", *xs, "Interactions file (.csv or .jsonl)");
    cmd->add_option("--user-col", c->user_id, "Column of the user id")->capture_default_str();
    cmd->add_option("--item-col", c->item_id, "Column of the item id")->capture_default_str();
    cmd->add_option("--title-col", c->title, "Column of the item title")->capture_default_str();
    cmd->add_option("--item-attr-cols", c->item_attrs, "Attribute columns as COLUMN[=KIND]")->capture_default_str();
    cmd->add_option("--user-attr-cols", c->user_attrs, "User attribute columns as COLUMN[=KIND]");
    cmd->add_option("--kind-col", c->kind, "Column of the interaction kind")->capture_default_str();
    cmd->add_option("--default-kind", c->default_kind, "Kind when there is no kind column")
        ->check(CLI::IsMember({"view", "click", "buy", "rating"}));
    cmd->add_option("--weight-col", c->weight, "Column of the weight")->capture_default_str();
    cmd->add_option("--time-col", c->time, "Column of the time (epoch seconds)")->capture_default_str();
    cmd->add_option("--list-sep", *sep, "Separator of several values in one attribute cell")->capture_default_str();
    flags->add_to(cmd, false);
    on_run(cmd, [=] {
      auto s = flags->load();
      if (!s) return 2;
      if (sep->size() != 1) return fail("--list-sep must be one character", 2);
      c->list_separator = (*sep)[0];
      auto rec = open_recommender(*s);
      if (!rec.ok()) return fail(rec.error().message);
      auto rep = (*rec)->import_files(*users, *items, *xs, *c);
      if (!rep.ok()) return fail(rep.error().message);
      for (const auto& e : rep->errors) std::cerr << "skipped " << e << "\n";
      std::cout << "imported " << rep->users << " users, " << rep->items << " items, " << rep->interactions
                << " interactions; " << rep->errors.size() << " rows skipped\n";
      return 0;
    });
  }
  {
    auto* cmd = grp->add_subcommand("train", "Train a new model version on all data (progress on stderr)");
    auto flags = std::make_shared<SettingsFlags>();
    auto threads = std::make_shared<std::optional<int>>();
    auto seed = std::make_shared<std::optional<uint64_t>>();
    cmd->add_option("--threads", *threads, "Training threads (default recsys.threads)")->check(CLI::PositiveNumber);
    cmd->add_option("--seed", *seed, "Random seed (default recsys.seed)");
    flags->add_to(cmd, false);
    on_run(cmd, [=] {
      auto s = flags->load();
      if (!s) return 2;
      auto rec = open_recommender(*s, positive(*threads), *seed);
      if (!rec.ok()) return fail(rec.error().message);
      std::string last;
      auto st = (*rec)->train([&](const std::string& phase, double f) {
        if (phase != last) std::cerr << "[" << static_cast<int>(f * 100) << "%] " << phase << std::endl;
        last = phase;
      });
      if (!st.ok()) return fail(st.error().message);
      auto status = (*rec)->status();
      std::cout << "model version " << status.model_version << " trained in " << status.train_seconds << " s\n";
      return 0;
    });
  }
  {
    auto* cmd = grp->add_subcommand("recommend", "Recommendations for a user");
    auto flags = std::make_shared<SettingsFlags>();
    auto r = std::make_shared<recsys::RecommendRequest>();
    auto k = std::make_shared<std::optional<int>>();
    cmd->add_option("user", r->user_id, "User id")->required();
    cmd->add_option("-k", *k, "How many (default recsys.default_k)");
    cmd->add_option("--filter", r->require_attrs, "Only items with one of these attributes (kind:value)");
    cmd->add_option("--deny", r->deny_items, "Never these item ids");
    cmd->add_option("--diversity", r->diversity, "MMR trade-off 0..1");
    cmd->add_flag("--explain", r->explain, "Show explanations");
    flags->add_to(cmd, false);
    on_run(cmd, [=] {
      auto s = flags->load();
      if (!s) return 2;
      auto rec = open_recommender(*s);
      if (!rec.ok()) return fail(rec.error().message);
      r->k = k->value_or((*rec)->options().default_k);
      auto recs = (*rec)->recommend(*r);
      if (!recs.ok()) return fail(recs.error().message);
      print_recs(*recs);
      return 0;
    });
  }
  {
    auto* cmd = grp->add_subcommand("similar", "Items similar to an item");
    auto flags = std::make_shared<SettingsFlags>();
    auto item = std::make_shared<std::string>();
    auto k = std::make_shared<std::optional<int>>();
    auto explain = std::make_shared<bool>(false);
    cmd->add_option("item", *item, "Item id")->required();
    cmd->add_option("-k", *k, "How many (default recsys.default_k)");
    cmd->add_flag("--explain", *explain, "Show explanations");
    flags->add_to(cmd, false);
    on_run(cmd, [=] {
      auto s = flags->load();
      if (!s) return 2;
      auto rec = open_recommender(*s);
      if (!rec.ok()) return fail(rec.error().message);
      auto recs = (*rec)->similar(*item, k->value_or((*rec)->options().default_k), *explain);
      if (!recs.ok()) return fail(recs.error().message);
      print_recs(*recs);
      return 0;
    });
  }
  {
    auto* cmd = grp->add_subcommand("status", "Data sizes and the serving model");
    auto flags = std::make_shared<SettingsFlags>();
    flags->add_to(cmd, false);
    on_run(cmd, [=] {
      auto s = flags->load();
      if (!s) return 2;
      auto rec = open_recommender(*s);
      if (!rec.ok()) return fail(rec.error().message);
      auto st = (*rec)->status();
      std::cout << "state " << st.state << ", model version " << st.model_version << " (" << st.trained_at << ")\n"
                << st.n_users << " users, " << st.n_items << " items, " << st.n_attrs << " attributes, "
                << st.n_interactions << " interactions\n";
      std::string paths;
      for (const auto& p : st.meta_paths) paths += (paths.empty() ? "" : ", ") + p;
      std::cout << "meta-paths " << paths << "\n";
      for (const auto& [name, w] : st.view_weights) std::cout << "  " << name << "\t" << w << "\n";
      return 0;
    });
  }
}

void add_eval(CLI::App& app) {
  auto* grp = group(app, "eval", "Evaluate retrieval, recommendations, SQL");
  auto* cmd = grp->add_subcommand("recsys", "Compare the fused meta-path recommender with baselines on MovieLens");
  auto data = std::make_shared<std::string>();
  auto protocol = std::make_shared<std::string>("both");
  auto as_json = std::make_shared<bool>(false);
  auto threads = std::make_shared<std::optional<int>>();
  auto seed = std::make_shared<std::optional<uint64_t>>();
  auto flags = std::make_shared<SettingsFlags>();
  cmd->add_option("--data", *data, "MovieLens folder (movies.csv, ratings.csv, tags.csv)")->required();
  cmd->add_option("--protocol", *protocol, "full | sampled | both")->check(CLI::IsMember({"full", "sampled", "both"}));
  cmd->add_option("--threads", *threads, "Training and scoring threads (default recsys.threads)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", *seed, "Random seed (default recsys.seed)");
  cmd->add_flag("--json", *as_json, "Print {\"methods\":{NAME:{metrics}}} as JSON");
  flags->add_to(cmd, false);
  on_run(cmd, [=] {
    auto s = flags->load();
    if (!s) return 2;
    // The fused model trains with the configured recsys.* options (meta-paths, dim, walks, ...).
    auto model = recsys::options_from_settings(*s);
    if (!model.ok()) return fail(model.error().message, 2);
    auto ml = recsys::load_movielens(*data);
    if (!ml.ok()) return fail(ml.error().message);
    recsys::EvalOptions o;
    o.protocol = *protocol;
    o.model = *model;
    if (auto t = positive(*threads)) o.model.threads = *t;
    if (*seed) o.model.seed = **seed;
    auto t0 = std::chrono::steady_clock::now();
    auto res = recsys::evaluate_recsys(*ml, o, [&](const std::string& line) {
      char at[32];
      std::snprintf(at, sizeof at, "[%7.1f s] ", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      std::cerr << at << line << std::endl;
    });
    if (!res.ok()) return fail(res.error().message);
    if (*as_json) {
      json methods = json::object();
      for (const auto& r : *res) {
        json m = json::object();
        if (r.recall20 >= 0) m["recall@20"] = r.recall20, m["ndcg@20"] = r.ndcg20;
        if (r.hr10 >= 0) m["hr@10"] = r.hr10, m["ndcg@10"] = r.ndcg10;
        m["train_seconds"] = r.train_seconds;
        m["params"] = r.params;
        methods[r.name] = m;
      }
      std::cout << json{{"methods", methods}}.dump(2) << "\n";
      return 0;
    }
    std::printf("%-16s %9s %9s %9s %9s %9s  %s\n", "method", "recall@20", "ndcg@20", "hr@10", "ndcg@10", "train_s", "params");
    for (const auto& r : *res)
      std::printf("%-16s %9s %9s %9s %9s %9.1f  %s\n", r.name.c_str(), fmt(r.recall20).c_str(), fmt(r.ndcg20).c_str(),
                  fmt(r.hr10).c_str(), fmt(r.ndcg10).c_str(), r.train_seconds, r.params.c_str());
    return 0;
  });
}

RegisterCommand reg(45, [](CLI::App& app) {
  add_recsys(app);
  add_eval(app);
});

}  // namespace
}  // namespace moerag::cli
