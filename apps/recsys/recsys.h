// Front door of the recommender: a heterogeneous graph of users, items and item
// attributes; meta-path-guided random walks with skip-gram embeddings per meta-path;
// calibrated views fused with gains and an attention fitted on held-out items; FAISS candidates,
// filters, MMR diversity, explanations from meta-path instances, cold start, fold-in.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/sqlite.h"

namespace moerag::recsys {

/// What a user did with an item.
enum class InteractionKind { VIEW = 0, CLICK = 1, BUY = 2, RATING = 3 };
/// "view" | "click" | "buy" | "rating".
const char* kind_name(InteractionKind k);
Result<InteractionKind> parse_kind(const std::string& s);

/// A user; attributes are "kind:value" strings (e.g. "country:DE").
struct UserRecord {
  std::string id;
  std::vector<std::string> attributes;
};

/// An item; attributes are "kind:value" strings ("genre:Crime", "director:Michael Mann").
struct ItemRecord {
  std::string id;
  std::string title;
  std::vector<std::string> attributes;
};

/// One interaction; unknown users/items are created on import.
struct InteractionRecord {
  std::string user;
  std::string item;
  InteractionKind kind = InteractionKind::VIEW;
  double weight = 1.0;  ///< confidence (a rating's value, a purchase count, ...), >= 0
  int64_t time = 0;     ///< seconds since the epoch; 0 = now
};

/// What an import did; rows that failed are listed, the rest were imported.
struct ImportReport {
  int64_t users = 0;
  int64_t items = 0;
  int64_t interactions = 0;
  std::vector<std::string> errors;  ///< "FILE:LINE: message" (or "interactions[3]: ...")
};

/// One node of a meta-path instance: type 'U', 'I' or 'A' and its external id.
struct PathNode {
  char type = 'I';
  std::string id;     ///< user id, item id, or attribute "kind:value"
  std::string label;  ///< item title, attribute value; else the id
};

/// Why an item was recommended: one concrete path in the graph.
struct Explanation {
  std::string meta_path;       ///< e.g. "U-I-A-I"
  std::vector<PathNode> path;  ///< the instance, starting at the user (or query item)
  std::string text;            ///< "because you liked Heat, which shares genre Crime"
};

/// One recommended item.
struct Recommendation {
  std::string item_id;
  std::string title;
  double score = 0;  ///< fused model score (higher is better; comparable within one list)
  std::vector<Explanation> explanations;  ///< empty unless asked for
};

/// A recommendation request and its filters.
struct RecommendRequest {
  std::string user_id;
  int k = 10;                             ///< 1..1000
  bool exclude_seen = true;               ///< drop items the user already interacted with
  std::vector<std::string> require_attrs; ///< keep items having at least one of these "kind:value"
  std::vector<std::string> allow_items;   ///< when non-empty, only these item ids
  std::vector<std::string> deny_items;    ///< never these item ids
  double diversity = 0;                   ///< MMR trade-off in [0,1]: 0 = pure relevance
  bool explain = false;
};

/// Which columns (CSV header names or JSONL keys) hold what, for file imports.
struct ColumnMap {
  std::string user_id = "user_id";
  std::string item_id = "item_id";
  std::string title = "title";
  /// Attribute columns as "column[=kind]" (kind defaults to the column name); a
  /// cell holds one or more values separated by list_separator.
  std::vector<std::string> item_attrs = {"genres=genre"};
  std::vector<std::string> user_attrs;
  std::string kind = "kind";      ///< column with view|click|buy|rating; missing = default_kind
  std::string default_kind = "view";
  std::string weight = "weight";  ///< missing column = 1
  std::string time = "time";      ///< seconds since the epoch; missing column = import time
  char list_separator = '|';
};

/// Training and serving knobs; config keys `recsys.*` of the same names (apps/recsys/settings.h).
struct RecsysOptions {
  std::vector<std::string> meta_paths = {"U-I-U", "I-U-I", "U-I-A-I-U", "I-A-I"};
  int dim = 32;                  ///< embedding size per meta-path view
  int walks_per_node = 3;        ///< random walks started at each node
  int walk_length = 16;          ///< nodes per walk
  int window = 4;                ///< skip-gram context radius
  int negatives = 5;             ///< negative samples per positive pair
  int epochs = 1;                ///< passes over the walks
  double learning_rate = 0.025;  ///< initial SGD step, decays linearly
  int knn_neighbors = 50;        ///< neighbours kept per item for the I-U-I path-count view
  double half_life_days = 365;   ///< time decay of a user's older interactions; <= 0 off
  double holdout_fraction = 0.2; ///< each user's latest interactions held out to fit the fusion
  int fusion_epochs = 40;        ///< most coordinate-ascent rounds of the fusion fit
  int threads = 2;               ///< training threads (meta-path views train in parallel)
  uint64_t seed = 42;            ///< makes training deterministic
  int candidates = 200;          ///< FAISS candidates re-scored by the fused model
  int default_k = 10;            ///< k when a request gives none (API and CLI)
  int max_k = 1000;              ///< largest k a request may ask for
  bool explanations = true;      ///< false: explanations are never built (explain is ignored)
};

/// Training state as reported by status().
struct RecsysStatus {
  std::string state = "untrained";  ///< untrained | ready | training | failed
  std::string phase;                ///< current training phase
  double progress = 0;              ///< 0..1 of the current training run
  int64_t model_version = 0;        ///< 0 = no model yet
  std::string trained_at;           ///< ISO time of the serving model
  double train_seconds = 0;         ///< wall time of the last finished training
  std::string last_error;
  int64_t n_users = 0, n_items = 0, n_attrs = 0, n_interactions = 0;
  std::vector<std::string> meta_paths;
  std::vector<std::pair<std::string, double>> view_weights;  ///< mean attention per view
};

/// Progress callback: phase name and fraction done in [0,1].
using ProgressFn = std::function<void(const std::string& phase, double fraction)>;

class Recommender {
 public:
  /// Opens the recommender over the main database (runs migrations), validates the
  /// meta-paths (INVALID_INPUT naming an unknown node type), loads data and the
  /// newest model from model_dir when present.
  static Result<std::shared_ptr<Recommender>> create(std::shared_ptr<sql::Database> db, std::string model_dir,
                                                     RecsysOptions options = {});
  ~Recommender();
  Recommender(const Recommender&) = delete;
  Recommender& operator=(const Recommender&) = delete;

  /// Adds or updates users and items and appends interactions (incremental; visible at once).
  Result<ImportReport> import(const std::vector<UserRecord>& users, const std::vector<ItemRecord>& items,
                              const std::vector<InteractionRecord>& interactions);
  /// Imports CSV or JSONL files (by extension) with column mapping; see import.h.
  Result<ImportReport> import_files(const std::string& users_path, const std::string& items_path,
                                    const std::string& interactions_path, const ColumnMap& columns);

  /// Top-k items for a user. NOT_FOUND for an unknown user; a user without history
  /// gets popular items (within require_attrs); new interactions count at once (fold-in).
  Result<std::vector<Recommendation>> recommend(const RecommendRequest& request) const;
  /// Items most similar to an item (fused item views). NOT_FOUND for an unknown item.
  Result<std::vector<Recommendation>> similar(const std::string& item_id, int k, bool explain = false) const;

  /// Trains a new model on all data and swaps it in atomically (blocks).
  Status train(const ProgressFn& progress = nullptr);
  /// Starts train() on a background thread; CONFLICT while one is running.
  Status start_training();
  /// Blocks until a background training finishes (for tests and the CLI).
  void wait_training();
  RecsysStatus status() const;

  /// The options it was opened with (default_k for callers that take k from a request).
  const RecsysOptions& options() const;

  /// Whether every consecutive pair of nodes in `path` is an edge of the graph.
  bool path_exists(const std::vector<PathNode>& path) const;

 private:
  struct Impl;
  explicit Recommender(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace moerag::recsys
