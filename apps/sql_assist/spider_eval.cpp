// `moerag eval sql`: Spider-format evaluation. Execution accuracy compares result
// multisets of gold and predicted SQL (sequences when the gold has ORDER BY),
// allowing the columns to come in another order; hardness follows the published
// Spider counting rules over the parsed gold SQL in dev.json.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "apps/sql_assist/readonly_db.h"
#include "apps/sql_assist/spider_metric.h"
#include "apps/sql_assist/sql_assist.h"

namespace moerag::sql_assist {
namespace {

using json = nlohmann::json;

// ---- hardness (Spider's evaluation: components 1/2 and "others") ----
bool has_agg(const json& unit) { return !unit.is_array() || unit.empty() || !(unit[0].is_number() && unit[0].get<int>() == 0); }

int count_agg(const std::vector<json>& units) {
  int n = 0;
  for (const auto& u : units) n += has_agg(u) ? 1 : 0;
  return n;
}

std::vector<json> every_other(const json& a, size_t start) {
  std::vector<json> out;
  if (!a.is_array()) return out;
  for (size_t i = start; i < a.size(); i += 2) out.push_back(a[i]);
  return out;
}

int count_nested(const json& sql) {
  int n = 0;
  for (const char* part : {"where", "having"})
    for (const auto& cond : every_other(sql[part], 0))
      if (cond.is_array() && cond.size() >= 5) n += (cond[3].is_object() ? 1 : 0) + (cond[4].is_object() ? 1 : 0);
  for (const char* iue : {"intersect", "except", "union"})
    if (sql.contains(iue) && sql[iue].is_object()) ++n;
  return n;
}

int count_component1(const json& sql) {
  int n = 0;
  if (!sql["where"].empty()) ++n;
  if (!sql["groupBy"].empty()) ++n;
  if (!sql["orderBy"].empty()) ++n;
  if (!sql["limit"].is_null()) ++n;
  if (!sql["from"]["table_units"].empty()) n += static_cast<int>(sql["from"]["table_units"].size()) - 1;
  std::vector<json> ao;
  for (const char* p : {"where", "having"})
    for (auto& x : every_other(sql[p], 1)) ao.push_back(x);
  for (auto& x : every_other(sql["from"]["conds"], 1)) ao.push_back(x);
  for (const auto& tok : ao) n += tok == "or" ? 1 : 0;
  std::vector<json> units = every_other(sql["from"]["conds"], 0);
  for (const char* p : {"where", "having"})
    for (auto& x : every_other(sql[p], 0)) units.push_back(x);
  const int kLike = 9;  // WHERE_OPS index of 'like'
  for (const auto& u : units) n += (u.is_array() && u.size() > 1 && u[1] == kLike) ? 1 : 0;
  return n;
}

int count_others(const json& sql) {
  int n = 0;
  std::vector<json> sel(sql["select"][1].begin(), sql["select"][1].end());
  int agg = count_agg(sel) + count_agg(every_other(sql["where"], 0));
  agg += count_agg(std::vector<json>(sql["groupBy"].begin(), sql["groupBy"].end()));
  if (!sql["orderBy"].empty()) {
    std::vector<json> units;
    for (const auto& vu : sql["orderBy"][1]) {
      if (!vu[1].is_null()) units.push_back(vu[1]);
      if (!vu[2].is_null()) units.push_back(vu[2]);
    }
    agg += count_agg(units);
  }
  // The reference passes the whole having list (conditions and 'and'/'or' words).
  agg += count_agg(std::vector<json>(sql["having"].begin(), sql["having"].end()));
  if (agg > 1) ++n;
  if (sql["select"][1].size() > 1) ++n;
  if (sql["where"].size() > 1) ++n;
  if (sql["groupBy"].size() > 1) ++n;
  return n;
}

}  // namespace

std::string spider_hardness(const json& sql) {
  int c1 = count_component1(sql), c2 = count_nested(sql), o = count_others(sql);
  if (c1 <= 1 && o == 0 && c2 == 0) return "easy";
  if ((o <= 2 && c1 <= 1 && c2 == 0) || (c1 <= 2 && o < 2 && c2 == 0)) return "medium";
  if ((o > 2 && c1 <= 2 && c2 == 0) || (c1 > 2 && c1 <= 3 && o <= 2 && c2 == 0) || (c1 <= 1 && o == 0 && c2 <= 1))
    return "hard";
  return "extra";
}

namespace {

std::string norm(const Cell& c) {
  switch (c.kind) {
    case Cell::Kind::NUL: return std::string("\x01null");
    case Cell::Kind::INTEGER: return std::to_string(c.i);
    case Cell::Kind::REAL: {
      if (c.d == static_cast<double>(static_cast<int64_t>(c.d)) && std::abs(c.d) < 1e15) return std::to_string(static_cast<int64_t>(c.d));
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.10g", c.d);
      return buf;
    }
    case Cell::Kind::TEXT: return c.s;
  }
  return "";
}

using Rows = std::vector<std::vector<std::string>>;

Rows normalise(const Table& t) {
  Rows out;
  for (const auto& r : t.rows) {
    std::vector<std::string> row;
    for (const auto& c : r) row.push_back(norm(c));
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

bool results_match(const Rows& gold, const Rows& pred, size_t n_gold_cols, size_t n_pred_cols, bool ordered) {
  if (gold.size() != pred.size() || n_gold_cols != n_pred_cols) return false;
  if (gold.empty()) return true;
  const size_t nc = n_gold_cols;
  auto column = [](const Rows& rs, size_t c) {
    std::vector<std::string> v;
    for (const auto& r : rs) v.push_back(r[c]);
    std::sort(v.begin(), v.end());
    return v;
  };
  std::vector<std::vector<std::string>> gc, pc;
  for (size_t c = 0; c < nc; ++c) gc.push_back(column(gold, c)), pc.push_back(column(pred, c));
  std::vector<int> perm(nc, -1);
  std::vector<bool> taken(nc, false);
  auto check = [&]() {
    Rows p2;
    for (const auto& r : pred) {
      std::vector<std::string> row(nc);
      for (size_t c = 0; c < nc; ++c) row[c] = r[perm[c]];
      p2.push_back(std::move(row));
    }
    if (ordered) return p2 == gold;
    Rows g2 = gold;
    std::sort(g2.begin(), g2.end());
    std::sort(p2.begin(), p2.end());
    return p2 == g2;
  };
  // Each gold column maps to a distinct predicted column with the same values.
  std::function<bool(size_t)> dfs = [&](size_t c) -> bool {
    if (c == nc) return check();
    for (size_t p = 0; p < nc; ++p) {
      if (taken[p] || gc[c] != pc[p]) continue;
      taken[p] = true;
      perm[c] = static_cast<int>(p);
      if (dfs(c + 1)) return true;
      taken[p] = false;
    }
    return false;
  };
  return dfs(0);
}

Result<SpiderEvalReport> run_spider_eval(const SpiderEvalOptions& o, const std::function<void(const SpiderItem&)>& on_item) {
  namespace fs = std::filesystem;
  std::ifstream in(fs::path(o.dir) / "dev.json");
  if (!in) return Error(ErrorCode::NOT_FOUND, "no dev.json in '" + o.dir + "'");
  json dev = json::parse(in, nullptr, false);
  if (!dev.is_array()) return Error(ErrorCode::INVALID_INPUT, "dev.json is not a JSON array");
  MOERAG_ASSIGN_OR_RETURN(auto assistant, Assistant::create(o.assist, nullptr, o.generator));
  SpiderEvalReport rep;
  int emitted = 0, executable = 0, declined = 0, correct = 0;
  for (const auto& ex : dev) {
    if (o.limit > 0 && rep.n >= o.limit) break;
    SpiderItem it;
    it.db = ex.value("db_id", "");
    if (!o.db_filter.empty() && std::find(o.db_filter.begin(), o.db_filter.end(), it.db) == o.db_filter.end()) continue;
    it.question = ex.value("question", "");
    it.gold_sql = ex.value("query", "");
    it.hardness = ex.contains("sql") ? spider_hardness(ex["sql"]) : "unknown";
    std::string path = (fs::path(o.dir) / "database" / it.db / (it.db + ".sqlite")).string();
    bool known = false;
    for (const auto& d : assistant->databases()) known = known || d.name == it.db;
    if (!known) MOERAG_TRY(assistant->register_db(it.db, path));
    ++rep.n;
    auto& level = rep.by_hardness[it.hardness];
    ++level.n;
    auto resp = assistant->query({it.db, it.question, "", false});
    if (!resp.ok() || resp->declined) {
      it.declined = true;
      it.error = resp.ok() ? resp->explanation : resp.error().message;
      ++declined;
    } else {
      ++emitted;
      it.pred_sql = resp->sql;
      AssistOptions big = o.assist;
      big.max_rows = 1000000;
      MOERAG_ASSIGN_OR_RETURN(auto db, ReadOnlyDb::open(path, big));
      auto pred = db->execute(it.pred_sql);
      auto gold = db->execute(it.gold_sql);
      if (pred.ok()) {
        ++executable;
        it.executable = true;
        if (gold.ok()) {
          bool ordered = ex.contains("sql") && !ex["sql"]["orderBy"].empty();
          it.correct = results_match(normalise(*gold), normalise(*pred), gold->columns.size(), pred->columns.size(), ordered);
        } else {
          it.error = "gold SQL failed: " + gold.error().message;
        }
      } else {
        it.error = pred.error().message;
      }
    }
    if (it.correct) ++correct, ++level.correct;
    if (on_item) on_item(it);
    rep.items.push_back(std::move(it));
  }
  if (rep.n > 0) {
    rep.execution_accuracy = static_cast<double>(correct) / rep.n;
    rep.declined_rate = static_cast<double>(declined) / rep.n;
  }
  rep.executable_rate = emitted > 0 ? static_cast<double>(executable) / emitted : 0;
  for (auto& [k, l] : rep.by_hardness) l.accuracy = l.n ? static_cast<double>(l.correct) / l.n : 0;
  return rep;
}

}  // namespace moerag::sql_assist
