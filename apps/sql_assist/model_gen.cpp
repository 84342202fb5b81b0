// The model path of the assistant: which tables to show, the prompt text, decoding
// under the decoding grammar (chat template first, a plain completion prompt for
// models without one), and a one-line explanation of the statement it wrote.
#include "apps/sql_assist/model_gen.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "apps/sql_assist/words.h"

namespace moerag::sql_assist {
namespace {

const char* const kSystem =
    "You write one SQLite SELECT statement that answers the user's question over the database described. "
    "Use only the tables and columns shown and join tables along the listed foreign keys. Answer with the "
    "SQL only.";

std::set<std::string> stems_of(const std::string& text) {
  std::set<std::string> out;
  for (const auto& t : tokenize_question(text)) out.insert(t.stem);
  return out;
}

std::vector<ExamplePair> closest_examples(const Catalog& cat, const std::string& question, int n) {
  if (n <= 0) return {};
  const std::set<std::string> q = stems_of(question);
  std::vector<std::pair<double, size_t>> scored;
  for (size_t i = 0; i < cat.info.examples.size(); ++i) {
    const std::set<std::string> e = stems_of(cat.info.examples[i].question);
    size_t common = 0;
    for (const auto& w : e) common += q.count(w);
    const size_t uni = q.size() + e.size() - common;
    scored.push_back({uni ? static_cast<double>(common) / static_cast<double>(uni) : 0.0, i});
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<ExamplePair> out;
  for (size_t i = 0; i < scored.size() && static_cast<int>(out.size()) < n; ++i)
    out.push_back(cat.info.examples[scored[i].second]);
  return out;
}

std::string table_line(const TableInfo& t) {
  std::string s = sql_identifier(t.name) + "(";
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const auto& c = t.columns[i];
    if (i) s += ", ";
    s += sql_identifier(c.name) + " " +
         (c.type.empty() ? std::string(c.numeric ? "NUMERIC" : "TEXT") : c.type);
    if (c.primary_key) s += " PRIMARY KEY";
    if (!c.samples.empty()) {
      s += " e.g.";
      for (size_t k = 0; k < c.samples.size() && k < 3; ++k)
        s += (k ? ", '" : " '") + c.samples[k].substr(0, 40) + "'";
    }
    if (!c.description.empty()) s += " -- " + c.description;
  }
  s += ")";
  if (!t.description.empty()) s += " -- " + t.description;
  return s;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::vector<int> linked_tables(const Linking& linking, const Catalog& cat, size_t max_tables) {
  std::map<int, double> score;
  for (const auto& m : linking.mentions)
    for (const auto& c : m.cands)
      if (c.table >= 0 && c.table < static_cast<int>(cat.info.tables.size())) score[c.table] += c.score;
  std::vector<std::pair<double, int>> order;
  for (const auto& [t, s] : score) order.push_back({s, t});
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<int> out;
  for (size_t i = 0; i < order.size() && out.size() < max_tables; ++i) out.push_back(order[i].second);
  return out;
}

std::string model_prompt(const Catalog& cat, const std::vector<int>& tables, const Linking& linking,
                         const std::string& question, int n_examples) {
  std::vector<int> shown = tables;
  if (shown.empty())
    for (size_t i = 0; i < cat.info.tables.size(); ++i) shown.push_back(static_cast<int>(i));
  // Tables one foreign key away are shown too: the grammar may join through them.
  std::set<int> set(shown.begin(), shown.end());
  std::string fks;
  for (const auto& fk : cat.info.foreign_keys) {
    int a = cat.table_index(fk.from_table), b = cat.table_index(fk.to_table);
    if (a < 0 || b < 0 || !(set.count(a) || set.count(b))) continue;
    if (!set.count(a)) shown.push_back(a), set.insert(a);
    if (!set.count(b)) shown.push_back(b), set.insert(b);
    fks += fk.from_table + "." + fk.from_column + " = " + fk.to_table + "." + fk.to_column + "\n";
  }
  std::string p = "Database " + cat.info.db + ", tables:\n";
  for (int ti : shown) p += table_line(cat.info.tables[static_cast<size_t>(ti)]) + "\n";
  if (!fks.empty()) p += "Foreign keys:\n" + fks;
  std::string links;
  for (const auto& m : linking.mentions) {
    if (m.number || m.cands.empty()) continue;
    const Candidate& c = m.cands[0];
    std::string target = c.table >= 0 ? cat.info.tables[static_cast<size_t>(c.table)].name : "";
    if (c.column >= 0) target += "." + cat.column(c.table, c.column).name;
    if (c.kind == Candidate::Kind::VALUE) target += (target.empty() ? "value '" : " = '") + c.value + "'";
    links += "\"" + m.phrase + "\" -> " + target + "\n";
  }
  if (!links.empty()) p += "Question words found in the database:\n" + links;
  for (const auto& ex : closest_examples(cat, question, n_examples))
    p += "Example question: " + ex.question + "\nSQL: " + ex.sql + "\n";
  p += "Question: " + question + "\n";
  return p;
}

Result<ModelSql> model_sql(engine::Generator& gen, const Catalog& cat, const Linking& linking,
                           const std::string& question, const AssistOptions& options,
                           const DecodeLimits& limits) {
  const std::vector<int> tables = linked_tables(linking, cat);
  const Grammar g = build_decoding_grammar(cat, tables, limits);
  if (g.rules.empty() || g.rules[0].alternatives.empty())
    return Error(ErrorCode::INVALID_INPUT, "the database has no table with columns to query");
  MOERAG_ASSIGN_OR_RETURN(auto compiled, engine::Grammar::compile(to_engine_rules(g, limits)));
  MOERAG_ASSIGN_OR_RETURN(int max_bytes, max_sentence_bytes(g, limits));
  engine::GenerateRequest req;
  req.grammar = compiled;
  // Every token the grammar admits carries at least one byte, so this many tokens
  // always reach the end of the longest sentence (plus one for end-of-generation).
  req.max_tokens = max_bytes + 1;
  req.sampling.temperature = 0.0f;
  req.timeout_ms = options.model_timeout_ms;
  // With examples first; without them (a shorter prompt) when the context is too small.
  Result<engine::GenerateResult> res = Error(ErrorCode::INTERNAL, "no attempt");
  for (int n_examples : {options.model_examples, 0}) {
    const std::string user = model_prompt(cat, tables, linking, question, n_examples);
    req.messages = {{"system", kSystem}, {"user", user}};
    req.prompt.clear();
    res = gen.generate(req, nullptr);
    if (!res.ok() && res.error().code == ErrorCode::INVALID_INPUT &&
        res.error().message.find("chat template") != std::string::npos) {
      // A model without a chat template: the same text as a completion prompt.
      req.messages.clear();
      req.prompt = std::string(kSystem) + "\n\n" + user + "SQL: ";
      res = gen.generate(req, nullptr);
    }
    if (res.ok() || res.error().code != ErrorCode::CONTEXT_TOO_LONG || n_examples == 0) break;
  }
  if (!res.ok()) return res.error();
  ModelSql out;
  out.finish_reason = res->finish_reason;
  out.budget_tokens = req.max_tokens;
  if (res->finish_reason == "stop" && grammar_accepts(g, res->text)) out.sql = res->text;
  return out;
}

std::string explain_sql(const std::string& sql) {
  std::vector<SqlToken> toks;
  if (!lex_sql(sql, toks)) return "A query written by the model.";
  auto word = [&](size_t i, const char* w) {
    return i < toks.size() && toks[i].kind == SqlToken::Kind::WORD && toks[i].text == w;
  };
  std::vector<std::string> tables, aggs;
  int depth = 0, n_cond = 0;
  bool between = false, grouped = false, desc = false, ordered = false;
  std::string limit;
  for (size_t i = 0; i < toks.size(); ++i) {
    if (toks[i].kind == SqlToken::Kind::PUNCT)
      depth += toks[i].text == "(" ? 1 : toks[i].text == ")" ? -1 : 0;
    if ((word(i, "from") || word(i, "join")) && i + 1 < toks.size() && depth == 0)
      tables.push_back(toks[i + 1].text);
    for (const char* f : {"count", "sum", "avg", "min", "max"})
      if (word(i, f) && depth == 0 && std::find(aggs.begin(), aggs.end(), f) == aggs.end()) aggs.push_back(f);
    if (word(i, "between")) between = true;
    if (depth == 0 && (word(i, "where") || word(i, "or") || (word(i, "and") && !between))) ++n_cond;
    if (word(i, "and")) between = false;
    grouped = grouped || word(i, "group");
    ordered = ordered || word(i, "order");
    desc = desc || (ordered && word(i, "desc"));
    if (word(i, "limit") && i + 1 < toks.size()) limit = toks[i + 1].text;
  }
  std::string s = aggs.empty() ? "Lists rows" : "Computes " + upper(aggs[0]);
  for (size_t i = 1; i < aggs.size(); ++i) s += "/" + upper(aggs[i]);
  std::string from;
  for (size_t i = 0; i < tables.size(); ++i)
    from += (i ? (i + 1 == tables.size() ? " and " : ", ") : "") + tables[i];
  if (!from.empty()) s += " from " + from + (tables.size() > 1 ? " (joined)" : "");
  if (n_cond) s += ", with " + std::to_string(n_cond) + (n_cond == 1 ? " condition" : " conditions");
  if (grouped) s += ", grouped";
  if (ordered) s += desc ? ", sorted descending" : ", sorted";
  if (!limit.empty()) s += ", first " + limit + (limit == "1" ? " row" : " rows");
  return s + " (written by the model under the schema grammar).";
}

}  // namespace moerag::sql_assist
