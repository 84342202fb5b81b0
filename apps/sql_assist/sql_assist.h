// Front door of the NL-to-SQL assistant: registered SQLite databases opened
// read-only, their schema catalog, schema linking, SQL from a language model under
// the schema grammar (when one is given) or from the rule-based parser, validation
// and capped, timed execution. Also the Spider-format evaluation. Plain data in and out; SQLite stays
// behind this header.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/sqlite.h"

namespace moerag::engine {
class Generator;
}

namespace moerag::sql_assist {

/// A database to register at start-up (config `sql_assist.databases`).
struct DatabaseSpec {
  std::string name;  ///< [A-Za-z0-9_-]{1,64}; the `db` field of requests
  std::string path;  ///< SQLite file; opened read-only, never created
};

/// Knobs of the assistant; defaults are the documented config defaults.
struct AssistOptions {
  int max_rows = 1000;             ///< rows returned per query; more are cut (truncated=true)
  int time_limit_ms = 2000;        ///< per statement, enforced by a progress handler
  int sample_values = 5;           ///< distinct sample values shown per text column
  int value_index_rows = 20000;    ///< distinct cell values indexed per database for linking
  int max_sql_bytes = 20000;       ///< longer SQL is refused before it reaches SQLite
  int model_examples = 3;          ///< closest example pairs shown in a model's prompt
  int64_t model_timeout_ms = 60000;  ///< deadline for one model generation (0 = none)
  std::vector<DatabaseSpec> databases;  ///< registered at start-up
};

/// One column of the catalog.
struct ColumnInfo {
  std::string name;
  std::string type;                   ///< declared type as written ("INTEGER", "varchar(20)")
  bool primary_key = false;
  bool numeric = false;               ///< INTEGER/REAL/NUMERIC affinity (or mostly numeric values)
  std::vector<std::string> samples;   ///< a few distinct values (text columns only)
  std::string description;            ///< optional, from config or the API
  std::vector<std::string> synonyms;  ///< optional words or phrases (any language)
};

/// A foreign key from_table.from_column -> to_table.to_column.
struct ForeignKey {
  std::string from_table, from_column, to_table, to_column;
};

/// One table of the catalog.
struct TableInfo {
  std::string name;
  std::vector<ColumnInfo> columns;
  int64_t n_rows = 0;
  std::string description;
  std::vector<std::string> synonyms;
};

/// An example question with its SQL, used to pick prompt examples (model path).
struct ExamplePair {
  std::string question;
  std::string sql;
};

/// The catalog of one registered database.
struct SchemaInfo {
  std::string db;
  std::vector<TableInfo> tables;
  std::vector<ForeignKey> foreign_keys;
  std::vector<ExamplePair> examples;
};

/// A human description and synonyms for a table (column empty) or a column.
struct Annotation {
  std::string table;
  std::string column;  ///< empty: the annotation is for the table
  std::string description;
  std::vector<std::string> synonyms;
};

/// Summary of a registered database for listings.
struct DatabaseSummary {
  std::string name;
  std::string path;
  int n_tables = 0;
  std::string error;  ///< non-empty when the file cannot be opened now
};

/// A question span linked to a schema element, with a score in [0, 1].
struct SchemaLink {
  std::string phrase;  ///< the words of the question that matched
  std::string kind;    ///< "table" | "column" | "value" | "number"
  std::string table;
  std::string column;
  std::string value;   ///< the cell value or number, for kind value/number
  double score = 0;
};

/// A result cell: SQLite's dynamic type kept.
struct Cell {
  enum class Kind { NUL, INTEGER, REAL, TEXT };
  Kind kind = Kind::NUL;
  int64_t i = 0;
  double d = 0;
  std::string s;  ///< TEXT (and BLOB shown as "<blob N bytes>")
};

/// A question (or SQL) against one database.
struct QueryRequest {
  std::string db;
  std::string question;  ///< English or Chinese
  std::string sql;       ///< when set, this SQL is validated and run instead of generating
  bool execute = true;   ///< false: generate and validate only
};

/// What the assistant did with a request.
struct QueryResponse {
  std::string sql;           ///< empty when declined
  std::string explanation;   ///< one line: what the query does, or why nothing was generated
  std::string generator;     ///< "model" (a language model under the schema grammar), "rules" or "user"
  bool declined = false;     ///< the parser could not understand the question
  bool executed = false;
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;  ///< at most max_rows
  bool truncated = false;               ///< more rows existed than were returned
  std::vector<SchemaLink> links;
  double elapsed_ms = 0;
};

/// The NL-to-SQL assistant; all methods are thread-safe.
class Assistant {
 public:
  /// store: optional main database where API registrations, annotations and
  /// examples persist (tables sql_assist_*); nullptr keeps them in memory only.
  /// generator: a language model; when given, questions are answered by the model
  /// decoding under the schema grammar instead of the rule-based parser.
  static Result<std::shared_ptr<Assistant>> create(const AssistOptions& options,
                                                   std::shared_ptr<sql::Database> store = nullptr,
                                                   std::shared_ptr<engine::Generator> generator = nullptr);
  ~Assistant();
  Assistant(const Assistant&) = delete;
  Assistant& operator=(const Assistant&) = delete;

  /// Registers (or re-points) `name` to an existing SQLite file; it must open read-only.
  Status register_db(const std::string& name, const std::string& path);
  /// Forgets a registration made through the API (NOT_FOUND when unknown).
  Status unregister_db(const std::string& name);
  std::vector<DatabaseSummary> databases() const;
  /// The catalog, reloaded when the file's size or modification time changed.
  Result<SchemaInfo> schema(const std::string& db);
  /// Adds a description/synonyms for a table or column.
  Status annotate(const std::string& db, const Annotation& a);
  /// Adds an example question -> SQL pair (the SQL must validate).
  Status add_example(const std::string& db, const ExamplePair& e);

  /// Generates (or takes) SQL, validates it and runs it when asked. Expected
  /// failures: NOT_FOUND (db), INVALID_INPUT (bad SQL, refused statement, time limit);
  /// with a model also the engine's (OVERLOADED, CONTEXT_TOO_LONG).
  Result<QueryResponse> query(const QueryRequest& request);
  /// Schema links of a question, best first.
  Result<std::vector<SchemaLink>> link(const std::string& db, const std::string& question);

  /// The SELECT-only grammar of the live schema, in GBNF. A model decodes under a
  /// stricter, bounded form of it built per question (decode_grammar.h).
  Result<std::string> grammar_gbnf(const std::string& db);
  /// Whether `sql` is a sentence of that grammar (only real tables/columns, SELECT only).
  Result<bool> grammar_accepts(const std::string& db, const std::string& sql);

 private:
  struct Impl;
  explicit Assistant(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Options of `moerag eval sql`.
struct SpiderEvalOptions {
  std::string dir;                     ///< folder with dev.json, tables.json, database/<db>/<db>.sqlite
  std::vector<std::string> db_filter;  ///< only these db_ids (empty: all)
  int limit = 0;                       ///< first N questions only (0: all)
  AssistOptions assist;
  std::shared_ptr<engine::Generator> generator;  ///< when set, SQL is written by this model
};

/// One evaluated question.
struct SpiderItem {
  std::string db, question, gold_sql, pred_sql, hardness, error;
  bool declined = false, executable = false, correct = false;
};

/// Aggregate figures; rates in [0, 1].
struct SpiderEvalReport {
  int n = 0;
  double execution_accuracy = 0;  ///< correct / n
  double executable_rate = 0;     ///< emitted SQL that ran without error / emitted
  double declined_rate = 0;       ///< declined / n
  struct Level { int n = 0; int correct = 0; double accuracy = 0; };
  std::map<std::string, Level> by_hardness;  ///< easy, medium, hard, extra
  std::vector<SpiderItem> items;
};

/// Runs every question of a Spider-format folder; on_item sees each result.
Result<SpiderEvalReport> run_spider_eval(const SpiderEvalOptions& options,
                                         const std::function<void(const SpiderItem&)>& on_item = {});

}  // namespace moerag::sql_assist
