// Typed settings: built-in defaults (the embedded config/moerag.json) < config file
// < MOERAG_* environment variables < command-line overrides, validated once at
// start-up and then passed down as const&. This is the only code that reads the
// environment.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/result.h"

namespace moerag::config {

/// `server` section: the HTTP listener.
struct ServerSettings {
  std::string host;
  int port = 0;
  int threads = 0;
  int64_t max_body_bytes = 0;
  int read_timeout_s = 0;
  int write_timeout_s = 0;
  int shutdown_grace_s = 0;
};

/// `auth` section.
struct AuthSettings {
  bool enabled = false;
  std::vector<std::string> public_routes;  ///< paths that never need a key
};

/// `limits` section: per-client token bucket.
struct LimitSettings {
  double rate_per_second = 0;  ///< 0 disables rate limiting
  double burst = 0;
};

/// `cors` section.
struct CorsSettings {
  std::vector<std::string> allowed_origins;  ///< "*" allows any origin
};

/// `safety` section (mapped onto safety::SafetyOptions by the serve step).
struct SafetySettings {
  bool enabled = true;
  bool model_enabled = true;
  std::string model_path;                 ///< empty = embedded model
  std::string rules_dir;                  ///< empty = embedded rules
  std::map<std::string, float> thresholds;  ///< category -> probability in (0,1)
  int64_t max_bytes = 0;
  bool redact_pii = true;
  bool reversible_redaction = false;
  std::string passage_policy;             ///< drop|neutralise
  bool audit_store_text = false;
};

/// `sql_assist` section.
struct SqlAssistSettings {
  std::vector<std::pair<std::string, std::string>> databases;  ///< (name, path), opened read-only
  int max_rows = 0;
  int time_limit_ms = 0;
  int sample_values = 0;
  int value_index_rows = 0;
  int max_sql_bytes = 0;
  int model_examples = 0;
  int model_timeout_ms = 0;
};

/// `recsys` section (mapped onto recsys::RecsysOptions by apps/recsys/settings.h;
/// the meta-paths' node types and edges are checked against the graph schema by a
/// Check the recommender registers, so a bad path also stops `config check`).
struct RecsysSettings {
  std::vector<std::string> meta_paths;  ///< e.g. "U-I-A-I-U"; at least one
  int dim = 0;                  ///< embedding size per meta-path view
  int walks_per_node = 0;
  int walk_length = 0;          ///< nodes per walk
  int window = 0;               ///< skip-gram context radius
  int negatives = 0;            ///< negative samples per positive pair
  int epochs = 0;
  double learning_rate = 0;
  int knn_neighbors = 0;        ///< I-U-I path-count neighbours per item
  double half_life_days = 0;    ///< time decay; 0 = off
  double holdout_fraction = 0;  ///< share of each user's latest interactions fitting the fusion
  int fusion_epochs = 0;
  int threads = 0;              ///< training threads
  uint64_t seed = 0;
  int candidates = 0;           ///< FAISS candidates re-scored per request
  int default_k = 0;            ///< k when a request gives none
  int max_k = 0;                ///< largest k a request may ask for
  bool explanations = true;     ///< false: explanations are never built
};

/// `model` section.
struct ModelSettings {
  std::string path;        ///< GGUF for generation; empty = none
  std::string embed_path;  ///< GGUF embedder; empty = built-in
  std::string device;      ///< auto|cpu|cuda
  int threads = 0;         ///< 0 = all cores
};

/// Every setting, typed. `raw` keeps the merged JSON for `config check --print`.
struct Settings {
  ServerSettings server;
  std::string data_dir;
  log::LogOptions log;
  AuthSettings auth;
  LimitSettings limits;
  CorsSettings cors;
  SafetySettings safety;
  SqlAssistSettings sql_assist;
  RecsysSettings recsys;
  ModelSettings model;
  nlohmann::json raw;
  /// dotted key -> where its value came from ("config file 'x.json'", "--set recsys.dim",
  /// "environment variable MOERAG_..."); keys absent here are built-in defaults.
  std::map<std::string, std::string> sources;

  /// Where the value of a dotted key came from, for error messages.
  std::string source_of(const std::string& dotted_key) const;
};

/// A rule that needs a higher layer's knowledge (e.g. recsys meta-paths against the
/// graph schema). Registered at static-initialisation time by the module that owns
/// the rule; load() runs every registered check after the typed settings are built
/// and returns the first failure (INVALID_INPUT, one line naming the key).
using Check = std::function<Status(const Settings&)>;
struct RegisterCheck {
  RegisterCheck(std::string name, Check check);
};

/// Where settings come from. `env` defaults to the process environment.
struct LoadOptions {
  std::string config_path;  ///< empty: defaults only (or $MOERAG_CONFIG when set)
  /// dotted key -> value text, e.g. {"server.port", "9000"}, applied last; `source`
  /// names the flag in error messages.
  struct Override {
    std::string key, value, source;
  };
  std::vector<Override> overrides;
  bool use_environment = true;
  std::map<std::string, std::string> environment;  ///< used instead of the real one when non-empty
};

/// Loads, merges and validates. Errors are INVALID_INPUT with one line naming the
/// key, the value, what is allowed and where the value came from.
Result<Settings> load(const LoadOptions& options);

/// The embedded default configuration text (config/moerag.json, with comments).
std::string_view default_config_text();

/// Environment variable name for a dotted key: server.port -> MOERAG_SERVER_PORT.
std::string env_name(const std::string& dotted_key);

}  // namespace moerag::config
