// `moerag sql --db FILE "question"` (ask one database from the command line) and
// `moerag eval sql --spider DIR` (execution accuracy on a Spider-format folder).
// Both take --model FILE.gguf (model.path): the model then writes the SQL under the
// schema grammar instead of the rule-based parser.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "apps/sql_assist/sql_assist.h"
#include "cli/command.h"
#include "cli/common.h"
#include "engine/engine.h"
#include "web/routes_sql.h"

namespace moerag::cli {
namespace {

using nlohmann::json;
using namespace moerag::sql_assist;

// The model of model.path as a Generator (model.threads, engine.n_ctx and
// engine.chat_template apply); nullptr without one, so the rules write the SQL.
Result<std::shared_ptr<engine::Generator>> load_model(const config::Settings& s) {
  if (s.model.path.empty()) return std::shared_ptr<engine::Generator>();
  engine::EngineOptions o;
  o.n_threads = static_cast<size_t>(std::max(0, s.model.threads));
  const auto& e = s.raw.is_object() ? s.raw.value("engine", json::object()) : json::object();
  if (e.contains("n_ctx") && e["n_ctx"].is_number_integer()) o.n_ctx = e["n_ctx"].get<int64_t>();
  if (e.contains("chat_template") && e["chat_template"].is_string()) o.chat_template = e["chat_template"].get<std::string>();
  MOERAG_ASSIGN_OR_RETURN(auto eng, engine::open_engine(s.model.path, o));
  return std::shared_ptr<engine::Generator>(std::move(eng));
}

void add_model_flags(CLI::App* cmd, SettingsFlags& flags) {
  flags.add_to(cmd, false);
  cmd->add_option("-m,--model", flags.model,
                  "GGUF model that writes the SQL under the schema grammar (model.path; default: the rule-based parser)");
  cmd->add_option("--chat-template", flags.chat_template, "Chat template overriding the model's (engine.chat_template)");
}

void print_table(const QueryResponse& r) {
  for (size_t i = 0; i < r.columns.size(); ++i) std::cout << (i ? "\t" : "") << r.columns[i];
  std::cout << "\n";
  for (const auto& row : r.rows) {
    for (size_t i = 0; i < row.size(); ++i) std::cout << (i ? "\t" : "") << web::sql_cell_json(row[i]).dump();
    std::cout << "\n";
  }
  if (r.truncated) std::cout << "(more rows were cut at the row limit)\n";
}

RegisterCommand reg_sql(45, [](CLI::App& app) {
  auto* cmd = app.add_subcommand("sql", "Ask a SQLite database a question in English or Chinese (read-only)");
  struct Args {
    std::string db, question, sql;
    bool as_json = false, no_execute = false;
    int max_rows = 50, time_limit_ms = 2000;
  };
  auto a = std::make_shared<Args>();
  auto flags = std::make_shared<SettingsFlags>();
  add_model_flags(cmd, *flags);
  cmd->add_option("--db", a->db, "SQLite file (opened read-only)")->required();
  cmd->add_option("question", a->question, "The question");
  cmd->add_option("--sql", a->sql, "Run this SQL instead of a question (validated: one read-only SELECT)");
  cmd->add_flag("--json", a->as_json, "Print the full response as JSON");
  cmd->add_flag("--no-execute", a->no_execute, "Generate and validate only");
  cmd->add_option("--max-rows", a->max_rows, "Rows to print at most");
  cmd->add_option("--time-limit-ms", a->time_limit_ms, "Stop the query after this many milliseconds");
  on_run(cmd, [a, flags] {
    if (a->question.empty() && a->sql.empty()) return fail("give a question or --sql", 2);
    auto settings = flags->load();
    if (!settings) return 2;
    AssistOptions o;  // sql_assist.* settings, then the flags
    const auto& c = settings->sql_assist;
    o.sample_values = c.sample_values;
    o.value_index_rows = c.value_index_rows;
    o.max_sql_bytes = c.max_sql_bytes;
    o.model_examples = c.model_examples;
    o.model_timeout_ms = c.model_timeout_ms;
    o.max_rows = a->max_rows;
    o.time_limit_ms = a->time_limit_ms;
    auto model = load_model(*settings);
    if (!model.ok()) return fail(model.error().message);
    auto assistant = Assistant::create(o, nullptr, *model);
    if (!assistant.ok()) return fail(assistant.error().message);
    std::string name = std::filesystem::path(a->db).stem().string();
    std::string clean;
    for (char c : name) clean += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ? c : '_';
    if (clean.empty() || clean.size() > 64) clean = "db";
    if (auto st = (*assistant)->register_db(clean, a->db); !st.ok()) return fail(st.error().message);
    auto r = (*assistant)->query({clean, a->question, a->sql, !a->no_execute});
    if (!r.ok()) return fail(r.error().message);
    if (a->as_json) {
      std::cout << web::sql_response_json(*r).dump(2) << "\n";
      return r->declined ? 1 : 0;
    }
    if (r->declined) {
      std::cerr << r->explanation << "\n";
      return 1;
    }
    std::cout << r->sql << "\n-- " << r->explanation << "\n";
    if (r->executed) print_table(*r);
    return 0;
  });
});

RegisterCommand reg_eval_sql(86, [](CLI::App& app) {
  auto* grp = group(app, "eval", "Evaluate retrieval, SQL generation and other components on public data");
  auto* cmd = grp->add_subcommand("sql", "Execution accuracy of the NL-to-SQL assistant on a Spider-format folder");
  struct Args {
    std::string dir, filter;
    bool as_json = false, verbose = false;
    int limit = 0;
  };
  auto a = std::make_shared<Args>();
  auto flags = std::make_shared<SettingsFlags>();
  add_model_flags(cmd, *flags);
  cmd->add_option("--spider", a->dir, "Folder with dev.json, tables.json and database/")->required();
  cmd->add_option("--db-filter", a->filter, "Comma-separated db_ids to evaluate (default: all)");
  cmd->add_option("--limit", a->limit, "Evaluate the first N questions only");
  cmd->add_flag("--json", a->as_json, "Print the summary as JSON");
  cmd->add_flag("--verbose", a->verbose, "Print every question with gold and predicted SQL");
  on_run(cmd, [a, flags] {
    auto settings = flags->load();
    if (!settings) return 2;
    SpiderEvalOptions o;
    o.dir = a->dir;
    o.limit = a->limit;
    auto model = load_model(*settings);
    if (!model.ok()) return fail(model.error().message);
    o.generator = *model;
    const std::string generator = o.generator ? "model" : "rules";
    std::stringstream ss(a->filter);
    for (std::string s; std::getline(ss, s, ',');)
      if (!s.empty()) o.db_filter.push_back(s);
    auto rep = run_spider_eval(o, [&](const SpiderItem& it) {
      if (!a->verbose) return;
      std::cerr << (it.correct ? "OK   " : it.declined ? "DECL " : it.executable ? "WRONG" : "ERROR") << " [" << it.hardness
                << "] " << it.db << " | " << it.question << "\n   gold: " << it.gold_sql << "\n   pred: " << it.pred_sql
                << (it.error.empty() ? "" : "\n   note: " + it.error) << "\n";
    });
    if (!rep.ok()) return fail(rep.error().message);
    if (a->as_json) {
      json by = json::object();
      for (const auto& [k, l] : rep->by_hardness) by[k] = {{"n", l.n}, {"correct", l.correct}, {"execution_accuracy", l.accuracy}};
      std::cout << json{{"n", rep->n}, {"generator", generator}, {"execution_accuracy", rep->execution_accuracy},
                        {"executable_rate", rep->executable_rate}, {"declined_rate", rep->declined_rate},
                        {"by_hardness", by}}.dump(2) << "\n";
      return 0;
    }
    std::printf("generator          %s\n", generator.c_str());
    std::printf("questions          %d\n", rep->n);
    std::printf("execution accuracy %.1f%%\n", 100 * rep->execution_accuracy);
    std::printf("executable rate    %.1f%% of emitted SQL\n", 100 * rep->executable_rate);
    std::printf("declined rate      %.1f%%\n", 100 * rep->declined_rate);
    for (const char* h : {"easy", "medium", "hard", "extra"}) {
      auto it = rep->by_hardness.find(h);
      if (it == rep->by_hardness.end()) continue;
      std::printf("  %-6s %4d questions  %.1f%%\n", h, it->second.n, 100 * it->second.accuracy);
    }
    return 0;
  });
});

}  // namespace
}  // namespace moerag::cli
