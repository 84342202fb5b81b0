// Typed settings: built-in defaults (the embedded config/moerag.json) < config file
// < MOERAG_* environment variables < command-line overrides, validated once at
// start-up and then passed down as const&. This is the only code that reads the
// environment.
#pragma once

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
  ModelSettings model;
  nlohmann::json raw;
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
