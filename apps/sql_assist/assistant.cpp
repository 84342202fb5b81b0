// The Assistant: registry of databases (config + API, persisted in the main
// database when one is given), catalogs cached per file version, and the query
// path: link -> model under the decoding grammar (when a model is given) or rule
// parser -> render -> validate -> execute.
#include <chrono>
#include <filesystem>
#include <mutex>

#include <nlohmann/json.hpp>

#include "apps/sql_assist/catalog.h"
#include "apps/sql_assist/linker.h"
#include "apps/sql_assist/model_gen.h"
#include "apps/sql_assist/readonly_db.h"
#include "apps/sql_assist/rule_parser.h"
#include "apps/sql_assist/schema_grammar.h"
#include "apps/sql_assist/words.h"
#include "apps/sql_assist/sql_assist.h"
#include "core/log.h"

namespace moerag::sql_assist {
namespace {

const std::vector<sql::Migration> kMigrations = {
    {1, "registry",
     "CREATE TABLE sql_assist_databases (name TEXT PRIMARY KEY, path TEXT NOT NULL);"
     "CREATE TABLE sql_assist_annotations (db TEXT NOT NULL, table_name TEXT NOT NULL, column_name TEXT NOT NULL,"
     " description TEXT NOT NULL, synonyms TEXT NOT NULL);"
     "CREATE TABLE sql_assist_examples (db TEXT NOT NULL, question TEXT NOT NULL, sql TEXT NOT NULL);"}};

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

struct FileVersion {
  std::filesystem::file_time_type mtime;
  uintmax_t size = 0;
  bool operator==(const FileVersion& o) const { return mtime == o.mtime && size == o.size; }
};

Result<FileVersion> version_of(const std::string& path) {
  std::error_code ec;
  FileVersion v;
  v.mtime = std::filesystem::last_write_time(path, ec);
  if (!ec) v.size = std::filesystem::file_size(path, ec);
  if (ec) return Error(ErrorCode::NOT_FOUND, "database file '" + path + "' is not readable: " + ec.message());
  return v;
}

// Questions asking to change data are refused up front: this assistant only reads.
bool write_intent(const std::string& question) {
  for (const char* zh : {"删除", "删掉", "清空", "修改", "更新", "插入", "丢弃", "销毁", "改成", "添加"})
    if (question.find(zh) != std::string::npos) return true;
  auto toks = tokenize_question(question);
  for (size_t i = 0; i < toks.size(); ++i) {
    const std::string& w = toks[i].lower;
    if (w == "drop" || w == "truncate" || w == "alter") return true;
    if (w == "delete" || w == "remove" || w == "update" || w == "insert" || w == "erase" || w == "wipe" || w == "modify")
      for (size_t j = i + 1; j < toks.size() && j <= i + 4; ++j)
        for (const char* obj : {"table", "tables", "from", "into", "all", "rows", "row", "records", "record", "database", "data", "set"})
          if (toks[j].lower == obj) return true;
  }
  return false;
}

}  // namespace

struct Assistant::Impl {
  AssistOptions options;
  std::shared_ptr<sql::Database> store;
  std::shared_ptr<engine::Generator> generator;  // null: the rule-based parser writes SQL
  struct Entry {
    std::string path;
    FileVersion version;
    std::shared_ptr<const Catalog> catalog;
    std::shared_ptr<const Grammar> grammar;
    std::vector<Annotation> annotations;
    std::vector<ExamplePair> examples;
  };
  mutable std::mutex mu;
  std::map<std::string, Entry> dbs;  // guarded by mu

  // The current catalog of `name`, rebuilt when the file changed.
  Result<std::shared_ptr<const Catalog>> catalog(const std::string& name) {
    std::string path;
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = dbs.find(name);
      if (it == dbs.end()) return Error(ErrorCode::NOT_FOUND, "no database named '" + name + "' is registered");
      path = it->second.path;
    }
    MOERAG_ASSIGN_OR_RETURN(auto ver, version_of(path));
    {
      std::lock_guard<std::mutex> lock(mu);
      auto& e = dbs[name];
      if (e.catalog && e.version == ver) return e.catalog;
    }
    MOERAG_ASSIGN_OR_RETURN(auto db, ReadOnlyDb::open(path, options));
    MOERAG_ASSIGN_OR_RETURN(auto cat, load_catalog(*db, name, options));
    std::lock_guard<std::mutex> lock(mu);
    auto& e = dbs[name];
    for (const auto& a : e.annotations) (void)apply_annotation(cat, a);
    cat.info.examples = e.examples;
    e.catalog = std::make_shared<const Catalog>(std::move(cat));
    e.grammar = std::make_shared<const Grammar>(build_schema_grammar(*e.catalog));
    e.version = ver;
    return e.catalog;
  }

  Result<std::string> path_of(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mu);
    auto it = dbs.find(name);
    if (it == dbs.end()) return Error(ErrorCode::NOT_FOUND, "no database named '" + name + "' is registered");
    return it->second.path;
  }

  Status persist(const std::string& sql, const std::vector<std::string>& args) {
    if (!store) return ok_status();
    MOERAG_ASSIGN_OR_RETURN(auto lease, store->lease());
    MOERAG_ASSIGN_OR_RETURN(auto st, lease->prepare(sql));
    for (size_t i = 0; i < args.size(); ++i) st.bind(static_cast<int>(i + 1), args[i]);
    return st.run();
  }

  Status load_store() {
    MOERAG_ASSIGN_OR_RETURN(auto lease, store->lease());
    MOERAG_TRY(sql::migrate(*lease, "sql_assist", kMigrations));
    MOERAG_ASSIGN_OR_RETURN(auto st, lease->prepare("SELECT name, path FROM sql_assist_databases"));
    while (true) {
      MOERAG_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      dbs[st.col_text(0)].path = st.col_text(1);
    }
    MOERAG_ASSIGN_OR_RETURN(auto an, lease->prepare("SELECT db, table_name, column_name, description, synonyms FROM sql_assist_annotations"));
    while (true) {
      MOERAG_ASSIGN_OR_RETURN(bool row, an.step());
      if (!row) break;
      Annotation a{an.col_text(1), an.col_text(2), an.col_text(3), {}};
      auto syn = nlohmann::json::parse(an.col_text(4), nullptr, false);
      if (syn.is_array())
        for (const auto& s : syn)
          if (s.is_string()) a.synonyms.push_back(s.get<std::string>());
      dbs[an.col_text(0)].annotations.push_back(std::move(a));
    }
    MOERAG_ASSIGN_OR_RETURN(auto ex, lease->prepare("SELECT db, question, sql FROM sql_assist_examples"));
    while (true) {
      MOERAG_ASSIGN_OR_RETURN(bool row, ex.step());
      if (!row) break;
      dbs[ex.col_text(0)].examples.push_back({ex.col_text(1), ex.col_text(2)});
    }
    std::erase_if(dbs, [](const auto& kv) { return kv.second.path.empty(); });
    return ok_status();
  }
};

Assistant::Assistant(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Assistant::~Assistant() = default;

Result<std::shared_ptr<Assistant>> Assistant::create(const AssistOptions& options, std::shared_ptr<sql::Database> store,
                                                     std::shared_ptr<engine::Generator> generator) {
  if (options.max_rows < 1 || options.time_limit_ms < 1)
    return Error(ErrorCode::INVALID_INPUT, "sql_assist: max_rows and time_limit_ms must be positive");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->store = std::move(store);
  impl->generator = std::move(generator);
  if (impl->store) MOERAG_TRY(impl->load_store());
  std::shared_ptr<Assistant> a(new Assistant(std::move(impl)));
  for (const auto& d : options.databases) {
    std::lock_guard<std::mutex> lock(a->impl_->mu);
    if (!valid_name(d.name)) return Error(ErrorCode::INVALID_INPUT, "sql_assist: bad database name '" + d.name + "'");
    a->impl_->dbs[d.name].path = d.path;
  }
  return a;
}

Status Assistant::register_db(const std::string& name, const std::string& path) {
  if (!valid_name(name))
    return Error(ErrorCode::INVALID_INPUT, "database name must be 1-64 letters, digits, '_' or '-'");
  MOERAG_ASSIGN_OR_RETURN(auto db, ReadOnlyDb::open(path, impl_->options));
  MOERAG_ASSIGN_OR_RETURN(auto cat, load_catalog(*db, name, impl_->options));
  if (cat.info.tables.empty()) return Error(ErrorCode::INVALID_INPUT, "'" + path + "' has no tables (is it a SQLite file?)");
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto& e = impl_->dbs[name];
    e.path = path;
    e.catalog.reset();
  }
  return impl_->persist("INSERT OR REPLACE INTO sql_assist_databases(name, path) VALUES (?, ?)", {name, path});
}

Status Assistant::unregister_db(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (!impl_->dbs.erase(name)) return Error(ErrorCode::NOT_FOUND, "no database named '" + name + "' is registered");
  }
  return impl_->persist("DELETE FROM sql_assist_databases WHERE name = ?", {name});
}

std::vector<DatabaseSummary> Assistant::databases() const {
  std::vector<std::pair<std::string, std::string>> names;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (const auto& [n, e] : impl_->dbs) names.push_back({n, e.path});
  }
  std::vector<DatabaseSummary> out;
  for (const auto& [n, p] : names) {
    DatabaseSummary s{n, p, 0, ""};
    auto cat = impl_->catalog(n);
    if (cat.ok()) s.n_tables = static_cast<int>((*cat)->info.tables.size());
    else s.error = cat.error().message;
    out.push_back(std::move(s));
  }
  return out;
}

Result<SchemaInfo> Assistant::schema(const std::string& db) {
  MOERAG_ASSIGN_OR_RETURN(auto cat, impl_->catalog(db));
  return cat->info;
}

Status Assistant::annotate(const std::string& db, const Annotation& a) {
  MOERAG_ASSIGN_OR_RETURN(auto cat, impl_->catalog(db));
  Catalog copy = *cat;
  MOERAG_TRY(apply_annotation(copy, a));
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto& e = impl_->dbs[db];
    e.annotations.push_back(a);
    e.catalog = std::make_shared<const Catalog>(std::move(copy));
  }
  return impl_->persist("INSERT INTO sql_assist_annotations VALUES (?, ?, ?, ?, ?)",
                        {db, a.table, a.column, a.description, nlohmann::json(a.synonyms).dump()});
}

Status Assistant::add_example(const std::string& db, const ExamplePair& e) {
  MOERAG_ASSIGN_OR_RETURN(auto path, impl_->path_of(db));
  MOERAG_ASSIGN_OR_RETURN(auto rdb, ReadOnlyDb::open(path, impl_->options));
  MOERAG_TRY(rdb->validate(e.sql));
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto& entry = impl_->dbs[db];
    entry.examples.push_back(e);
    entry.catalog.reset();
  }
  return impl_->persist("INSERT INTO sql_assist_examples VALUES (?, ?, ?)", {db, e.question, e.sql});
}

Result<std::vector<SchemaLink>> Assistant::link(const std::string& db, const std::string& question) {
  MOERAG_ASSIGN_OR_RETURN(auto cat, impl_->catalog(db));
  return describe_links(link_question(question, *cat), *cat);
}

Result<QueryResponse> Assistant::query(const QueryRequest& r) {
  auto t0 = std::chrono::steady_clock::now();
  if (r.question.empty() && r.sql.empty()) return Error(ErrorCode::INVALID_INPUT, "give a question or an SQL statement");
  if (r.question.size() > 4000) return Error(ErrorCode::INVALID_INPUT, "the question is longer than 4000 bytes");
  MOERAG_ASSIGN_OR_RETURN(auto cat, impl_->catalog(r.db));
  MOERAG_ASSIGN_OR_RETURN(auto path, impl_->path_of(r.db));
  MOERAG_ASSIGN_OR_RETURN(auto db, ReadOnlyDb::open(path, impl_->options));
  QueryResponse out;
  if (!r.sql.empty()) {
    out.generator = "user";
    out.sql = r.sql;
    MOERAG_TRY(db->validate(r.sql));
    out.explanation = "Runs the given SQL statement (validated as a single read-only SELECT).";
  } else {
    if (write_intent(r.question))
      return Error(ErrorCode::INVALID_INPUT,
                   "refused: this assistant only reads data; it cannot drop, delete, insert or change anything");
    Linking linking = link_question(r.question, *cat);
    out.links = describe_links(linking, *cat);
    Status valid = ok_status();
    if (impl_->generator) {
      out.generator = "model";
      MOERAG_ASSIGN_OR_RETURN(ModelSql m, model_sql(*impl_->generator, *cat, linking, r.question, impl_->options));
      if (m.sql.empty())
        valid = Error(ErrorCode::INVALID_INPUT, m.finish_reason == "timeout"
                                                    ? "the model did not finish within " + std::to_string(impl_->options.model_timeout_ms) + " ms"
                                                    : "the model stopped before a complete statement (" + m.finish_reason + ")");
      else
        valid = db->validate(m.sql);
      out.sql = m.sql;
      out.explanation = explain_sql(m.sql);
    } else {
      out.generator = "rules";
      ParseOutcome p = parse_question(linking, *cat);
      Result<Rendered> rendered = p.ok ? render_query(p.query, *cat) : Result<Rendered>(Error(ErrorCode::INVALID_INPUT, p.reason));
      valid = rendered.ok() ? db->validate(rendered->sql) : Status(rendered.error());
      if (rendered.ok()) out.sql = rendered->sql, out.explanation = rendered->explanation;
    }
    if (!valid.ok()) {
      out.declined = true;
      out.sql.clear();
      out.explanation = "I could not turn this question into SQL: " + valid.error().message +
                        ". Try naming the table and columns, or write the SQL yourself.";
      out.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      return out;
    }
  }
  if (r.execute) {
    MOERAG_ASSIGN_OR_RETURN(auto table, db->execute(out.sql));
    out.executed = true;
    out.columns = std::move(table.columns);
    out.rows = std::move(table.rows);
    out.truncated = table.truncated;
  }
  out.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

Result<std::string> Assistant::grammar_gbnf(const std::string& db) {
  MOERAG_ASSIGN_OR_RETURN(auto cat, impl_->catalog(db));
  return to_gbnf(build_schema_grammar(*cat));
}

Result<bool> Assistant::grammar_accepts(const std::string& db, const std::string& sql) {
  MOERAG_ASSIGN_OR_RETURN(auto cat, impl_->catalog(db));
  std::shared_ptr<const Grammar> g;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    g = impl_->dbs[db].grammar;
  }
  if (!g) g = std::make_shared<const Grammar>(build_schema_grammar(*cat));
  return sql_assist::grammar_accepts(*g, sql);
}

}  // namespace moerag::sql_assist
