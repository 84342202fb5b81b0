// Settings loading: merge JSON layers onto the embedded defaults with strict key and
// type checks, apply MOERAG_* variables and flag overrides, then validate ranges.
#include "config/settings.h"

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/embedded.h"

extern char** environ;

namespace moerag {
extern const EmbeddedFiles moerag_config_defaults;
}

namespace moerag::config {
namespace {

using json = nlohmann::json;

Error bad(const std::string& msg) { return Error(ErrorCode::INVALID_INPUT, "config: " + msg); }

std::string type_name(const json& v) {
  if (v.is_boolean()) return "true or false";
  if (v.is_number_integer()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "a list of strings";
  if (v.is_object()) return "an object";
  return "null";
}

std::string show(const json& v) { return v.is_string() ? "'" + v.get<std::string>() + "'" : v.dump(); }

// True when `v` may replace a default of the same shape as `d`.
bool same_type(const json& d, const json& v) {
  if (d.is_boolean()) return v.is_boolean();
  if (d.is_number_integer()) return v.is_number_integer();
  if (d.is_number()) return v.is_number();
  if (d.is_string()) return v.is_string();
  if (d.is_array()) {
    if (!v.is_array()) return false;
    for (const auto& e : v)
      if (!e.is_string()) return false;
    return true;
  }
  if (d.is_object()) return v.is_object();
  return false;
}

// Key set of an object, for "known keys" hints.
std::string known_keys(const json& obj) {
  std::string out;
  for (auto it = obj.begin(); it != obj.end(); ++it) out += (out.empty() ? "" : ", ") + it.key();
  return out;
}

// Merges `layer` onto `base` (which has the defaults' shape), recording sources.
Status merge(json& base, const json& layer, const std::string& prefix, const std::string& source,
             std::map<std::string, std::string>& sources) {
  if (!layer.is_object()) return bad((prefix.empty() ? "the top level" : prefix) + " in " + source + " must be an object");
  for (auto it = layer.begin(); it != layer.end(); ++it) {
    std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (!base.contains(it.key()))
      return bad("unknown key '" + key + "' in " + source + " (known keys" +
                 (prefix.empty() ? "" : " in " + prefix) + ": " + known_keys(base) + ")");
    json& slot = base[it.key()];
    if (!same_type(slot, *it))
      return bad(key + " = " + show(*it) + " has the wrong type (allowed: " + type_name(slot) + "; set in " + source + ")");
    if (slot.is_object()) {
      MOERAG_TRY(merge(slot, *it, key, source, sources));
    } else {
      slot = *it;
      sources[key] = source;
    }
  }
  return {};
}

// Parses override text according to the type of the default `d`.
Result<json> parse_text(const json& d, const std::string& key, const std::string& text, const std::string& source) {
  auto wrong = [&] { return bad(key + " = '" + text + "' is not " + type_name(d) + " (set by " + source + ")"); };
  if (d.is_boolean()) {
    if (text == "true" || text == "1" || text == "yes" || text == "on") return json(true);
    if (text == "false" || text == "0" || text == "no" || text == "off") return json(false);
    return wrong();
  }
  if (d.is_number_integer()) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return wrong();
    return json(v);
  }
  if (d.is_number()) {
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') return wrong();
    return json(v);
  }
  if (d.is_string()) return json(text);
  if (d.is_array()) {
    if (!text.empty() && text[0] == '[') {
      json v = json::parse(text, nullptr, false);
      if (v.is_discarded() || !same_type(d, v)) return wrong();
      return v;
    }
    json arr = json::array();
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ','))
      if (!item.empty()) arr.push_back(item);
    return arr;
  }
  return bad(key + " is a section, not a value (set by " + source + ")");
}

// Pointer to the value at a dotted key, or nullptr.
json* find_leaf(json& root, const std::string& dotted) {
  json* cur = &root;
  std::stringstream ss(dotted);
  std::string part;
  while (std::getline(ss, part, '.')) {
    if (!cur->is_object() || !cur->contains(part)) return nullptr;
    cur = &(*cur)[part];
  }
  return cur;
}

void leaves(const json& j, const std::string& prefix, std::vector<std::string>& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object()) leaves(*it, key, out);
    else out.push_back(key);
  }
}

std::string ptr(const std::string& dotted) {
  std::string p = "/" + dotted;
  for (auto& c : p)
    if (c == '.') c = '/';
  return p;
}

// The `recsys` section: shapes and ranges here; the meta-paths' node types and edges
// are checked by the recommender's registered Check (it owns the graph schema).
template <typename At, typename Where, typename SmallInt, typename NumIn>
Status read_recsys(RecsysSettings& r, const At& at, const Where& where, const SmallInt& small_int, const NumIn& num_in) {
  r.meta_paths = at("recsys.meta_paths").template get<std::vector<std::string>>();
  if (r.meta_paths.empty())
    return bad("recsys.meta_paths is empty (allowed: one or more meta-paths such as \"U-I-U\", \"U-I-A-I-U\"; set by " +
               where("recsys.meta_paths") + ")");
  for (const auto& p : r.meta_paths)
    if (p.find_first_not_of(' ') == std::string::npos)
      return bad("recsys.meta_paths has an empty entry (allowed: meta-paths such as \"U-I-U\"; set by " +
                 where("recsys.meta_paths") + ")");
  MOERAG_ASSIGN_OR_RETURN(r.dim, small_int("recsys.dim", 4, 512));
  MOERAG_ASSIGN_OR_RETURN(r.walks_per_node, small_int("recsys.walks_per_node", 1, 100));
  MOERAG_ASSIGN_OR_RETURN(r.walk_length, small_int("recsys.walk_length", 3, 256));
  MOERAG_ASSIGN_OR_RETURN(r.window, small_int("recsys.window", 1, 32));
  MOERAG_ASSIGN_OR_RETURN(r.negatives, small_int("recsys.negatives", 1, 50));
  MOERAG_ASSIGN_OR_RETURN(r.epochs, small_int("recsys.epochs", 1, 100));
  MOERAG_ASSIGN_OR_RETURN(r.learning_rate, num_in("recsys.learning_rate", 0, 1, true));
  MOERAG_ASSIGN_OR_RETURN(r.knn_neighbors, small_int("recsys.knn_neighbors", 1, 10000));
  MOERAG_ASSIGN_OR_RETURN(r.half_life_days, num_in("recsys.half_life_days", 0, 36500, false));
  MOERAG_ASSIGN_OR_RETURN(r.holdout_fraction, num_in("recsys.holdout_fraction", 0.05, 0.5, false));
  MOERAG_ASSIGN_OR_RETURN(r.fusion_epochs, small_int("recsys.fusion_epochs", 1, 1000));
  MOERAG_ASSIGN_OR_RETURN(r.threads, small_int("recsys.threads", 1, 256));
  MOERAG_ASSIGN_OR_RETURN(int64_t seed, small_int("recsys.seed", 0, 2147483647));
  r.seed = static_cast<uint64_t>(seed);
  MOERAG_ASSIGN_OR_RETURN(r.candidates, small_int("recsys.candidates", 10, 100000));
  MOERAG_ASSIGN_OR_RETURN(r.max_k, small_int("recsys.max_k", 1, 100000));
  MOERAG_ASSIGN_OR_RETURN(r.default_k, small_int("recsys.default_k", 1, 100000));
  if (r.default_k > r.max_k)
    return bad("recsys.default_k = " + std::to_string(r.default_k) + " is larger than recsys.max_k = " +
               std::to_string(r.max_k) + " (allowed: 1..max_k; set by " + where("recsys.default_k") + ")");
  r.explanations = at("recsys.explanations").template get<bool>();
  return {};
}

Result<Settings> to_settings(const json& raw, const std::map<std::string, std::string>& sources) {
  auto at = [&](const std::string& k) -> const json& { return raw.at(json::json_pointer(ptr(k))); };
  auto where = [&](const std::string& k) {
    auto it = sources.find(k);
    return it == sources.end() ? std::string("built-in default") : it->second;
  };
  auto int_in = [&](const std::string& k, int64_t lo, int64_t hi) -> Result<int64_t> {
    int64_t v = at(k).get<int64_t>();
    if (v < lo || v > hi)
      return bad(k + " = " + std::to_string(v) + " is out of range (allowed: " + std::to_string(lo) + ".." +
                 std::to_string(hi) + "; set by " + where(k) + ")");
    return v;
  };
  auto one_of = [&](const std::string& k, std::initializer_list<const char*> allowed) -> Result<std::string> {
    std::string v = at(k).get<std::string>();
    std::string list;
    for (const char* a : allowed) {
      if (v == a) return v;
      list += (list.empty() ? "" : "|") + std::string(a);
    }
    return bad(k + " = '" + v + "' is not allowed (allowed: " + list + "; set by " + where(k) + ")");
  };
  auto num_ge = [&](const std::string& k, double lo) -> Result<double> {
    double v = at(k).get<double>();
    if (!(v >= lo)) return bad(k + " = " + at(k).dump() + " must be >= " + std::to_string(static_cast<int64_t>(lo)) + " (set by " + where(k) + ")");
    return v;
  };
  auto num_in = [&](const std::string& k, double lo, double hi, bool lo_open) -> Result<double> {
    double v = at(k).get<double>();
    if (lo_open ? !(v > lo && v <= hi) : !(v >= lo && v <= hi)) {
      std::ostringstream range;
      range << (lo_open ? "greater than " : "") << lo << (lo_open ? " and up to " : "..") << hi;
      return bad(k + " = " + at(k).dump() + " is out of range (allowed: " + range.str() + "; set by " + where(k) + ")");
    }
    return v;
  };
  auto file_or_empty = [&](const std::string& k) -> Result<std::string> {
    std::string v = at(k).get<std::string>();
    if (!v.empty() && !std::filesystem::is_regular_file(v))
      return bad(k + " = '" + v + "': no such file (give an existing file, or leave empty; set by " + where(k) + ")");
    return v;
  };

  Settings s;
  s.raw = raw;
  s.sources = sources;
  s.server.host = at("server.host").get<std::string>();
  if (s.server.host.empty()) return bad("server.host is empty (allowed: an address such as 127.0.0.1 or 0.0.0.0)");
  MOERAG_ASSIGN_OR_RETURN(auto port, int_in("server.port", 0, 65535));
  s.server.port = static_cast<int>(port);
  MOERAG_ASSIGN_OR_RETURN(auto threads, int_in("server.threads", 1, 1024));
  s.server.threads = static_cast<int>(threads);
  MOERAG_ASSIGN_OR_RETURN(s.server.max_body_bytes, int_in("server.max_body_bytes", 1024, int64_t(1) << 34));
  MOERAG_ASSIGN_OR_RETURN(auto rt, int_in("server.read_timeout_s", 1, 3600));
  MOERAG_ASSIGN_OR_RETURN(auto wt, int_in("server.write_timeout_s", 1, 86400));
  MOERAG_ASSIGN_OR_RETURN(auto grace, int_in("server.shutdown_grace_s", 0, 3600));
  s.server.read_timeout_s = static_cast<int>(rt);
  s.server.write_timeout_s = static_cast<int>(wt);
  s.server.shutdown_grace_s = static_cast<int>(grace);

  s.data_dir = at("data_dir").get<std::string>();
  if (s.data_dir.empty()) return bad("data_dir is empty (allowed: a folder path; it is created when missing)");

  MOERAG_ASSIGN_OR_RETURN(s.log.level, one_of("log.level", {"trace", "debug", "info", "warn", "error", "off"}));
  s.log.json = at("log.json").get<bool>();

  s.auth.enabled = at("auth.enabled").get<bool>();
  s.auth.public_routes = at("auth.public_routes").get<std::vector<std::string>>();

  MOERAG_ASSIGN_OR_RETURN(s.limits.rate_per_second, num_ge("limits.rate_per_second", 0));
  MOERAG_ASSIGN_OR_RETURN(s.limits.burst, num_ge("limits.burst", 1));

  s.cors.allowed_origins = at("cors.allowed_origins").get<std::vector<std::string>>();

  s.safety.enabled = at("safety.enabled").get<bool>();
  s.safety.model_enabled = at("safety.model_enabled").get<bool>();
  MOERAG_ASSIGN_OR_RETURN(s.safety.model_path, file_or_empty("safety.model_path"));
  s.safety.rules_dir = at("safety.rules_dir").get<std::string>();
  if (!s.safety.rules_dir.empty() && !std::filesystem::is_directory(s.safety.rules_dir))
    return bad("safety.rules_dir = '" + s.safety.rules_dir + "': no such folder (set by " + where("safety.rules_dir") + ")");
  for (const auto& t : at("safety.thresholds").get<std::vector<std::string>>()) {
    auto eq = t.find('=');
    char* end = nullptr;
    double v = eq == std::string::npos ? -1 : std::strtod(t.c_str() + eq + 1, &end);
    if (eq == std::string::npos || eq == 0 || *end != '\0' || !(v > 0 && v < 1))
      return bad("safety.thresholds entry '" + t + "' must look like CATEGORY=P with 0 < P < 1 (set by " +
                 where("safety.thresholds") + ")");
    s.safety.thresholds[t.substr(0, eq)] = static_cast<float>(v);
  }
  MOERAG_ASSIGN_OR_RETURN(s.safety.max_bytes, int_in("safety.max_bytes", 64, int64_t(1) << 30));
  s.safety.redact_pii = at("safety.redact_pii").get<bool>();
  s.safety.reversible_redaction = at("safety.reversible_redaction").get<bool>();
  MOERAG_ASSIGN_OR_RETURN(s.safety.passage_policy, one_of("safety.passage_policy", {"drop", "neutralise"}));
  s.safety.audit_store_text = at("safety.audit_store_text").get<bool>();

  for (const auto& d : at("sql_assist.databases").get<std::vector<std::string>>()) {
    auto eq = d.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == d.size())
      return bad("sql_assist.databases entry '" + d + "' must look like NAME=PATH (set by " + where("sql_assist.databases") + ")");
    std::string path = d.substr(eq + 1);
    if (!std::filesystem::is_regular_file(path))
      return bad("sql_assist.databases entry '" + d + "': no such file '" + path + "' (set by " + where("sql_assist.databases") + ")");
    s.sql_assist.databases.emplace_back(d.substr(0, eq), path);
  }
  auto small_int = [&](const std::string& k, int64_t lo, int64_t hi) -> Result<int> {
    MOERAG_ASSIGN_OR_RETURN(int64_t v, int_in(k, lo, hi));
    return static_cast<int>(v);
  };
  MOERAG_ASSIGN_OR_RETURN(s.sql_assist.max_rows, small_int("sql_assist.max_rows", 1, 1000000));
  MOERAG_ASSIGN_OR_RETURN(s.sql_assist.time_limit_ms, small_int("sql_assist.time_limit_ms", 10, 600000));
  MOERAG_ASSIGN_OR_RETURN(s.sql_assist.sample_values, small_int("sql_assist.sample_values", 0, 100));
  MOERAG_ASSIGN_OR_RETURN(s.sql_assist.value_index_rows, small_int("sql_assist.value_index_rows", 0, 10000000));
  MOERAG_ASSIGN_OR_RETURN(s.sql_assist.max_sql_bytes, small_int("sql_assist.max_sql_bytes", 64, 10000000));
  MOERAG_ASSIGN_OR_RETURN(s.sql_assist.model_examples, small_int("sql_assist.model_examples", 0, 20));
  MOERAG_ASSIGN_OR_RETURN(s.sql_assist.model_timeout_ms, small_int("sql_assist.model_timeout_ms", 0, 3600000));

  MOERAG_TRY(read_recsys(s.recsys, at, where, small_int, num_in));

  MOERAG_ASSIGN_OR_RETURN(s.model.path, file_or_empty("model.path"));
  MOERAG_ASSIGN_OR_RETURN(s.model.embed_path, file_or_empty("model.embed_path"));
  MOERAG_ASSIGN_OR_RETURN(s.model.device, one_of("model.device", {"auto", "cpu", "cuda"}));
  MOERAG_ASSIGN_OR_RETURN(auto mthreads, int_in("model.threads", 0, 1024));
  s.model.threads = static_cast<int>(mthreads);
  return s;
}

Result<json> parse_jsonc(std::string_view text, const std::string& what) {
  try {
    return json::parse(text, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    return bad(what + " is not valid JSON: " + e.what());
  }
}

std::vector<std::pair<std::string, Check>>& checks() {
  static std::vector<std::pair<std::string, Check>> all;
  return all;
}

}  // namespace

RegisterCheck::RegisterCheck(std::string name, Check check) { checks().emplace_back(std::move(name), std::move(check)); }

std::string Settings::source_of(const std::string& dotted_key) const {
  auto it = sources.find(dotted_key);
  return it == sources.end() ? std::string("built-in default") : it->second;
}

std::string_view default_config_text() {
  MOERAG_ASSERT(!moerag_config_defaults.empty());
  return moerag_config_defaults.front().view();
}

std::string env_name(const std::string& dotted_key) {
  std::string out = "MOERAG_";
  for (char c : dotted_key) out.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

Result<Settings> load(const LoadOptions& options) {
  MOERAG_ASSIGN_OR_RETURN(json raw, parse_jsonc(default_config_text(), "the built-in default config"));
  std::map<std::string, std::string> sources;

  std::map<std::string, std::string> env = options.environment;
  if (options.use_environment && env.empty()) {
    for (char** e = environ; e && *e; ++e) {
      std::string kv(*e);
      auto eq = kv.find('=');
      if (eq != std::string::npos && kv.rfind("MOERAG_", 0) == 0) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  if (!options.use_environment) env.clear();

  std::string path = options.config_path;
  if (path.empty() && env.count("MOERAG_CONFIG")) path = env["MOERAG_CONFIG"];
  if (!path.empty()) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return bad("cannot read config file '" + path + "' (check the path given to --config / MOERAG_CONFIG)");
    std::stringstream ss;
    ss << f.rdbuf();
    std::string what = "config file '" + path + "'";
    MOERAG_ASSIGN_OR_RETURN(json layer, parse_jsonc(ss.str(), what));
    MOERAG_TRY(merge(raw, layer, "", what, sources));
  }

  std::vector<std::string> keys;
  leaves(raw, "", keys);
  for (const auto& key : keys) {
    auto it = env.find(env_name(key));
    if (it == env.end()) continue;
    std::string source = "environment variable " + it->first;
    json* leaf = find_leaf(raw, key);
    MOERAG_ASSIGN_OR_RETURN(*leaf, parse_text(*leaf, key, it->second, source));
    sources[key] = source;
  }

  for (const auto& o : options.overrides) {
    json* leaf = find_leaf(raw, o.key);
    if (!leaf || leaf->is_object()) return bad("unknown setting '" + o.key + "' (from " + o.source + ")");
    MOERAG_ASSIGN_OR_RETURN(*leaf, parse_text(*leaf, o.key, o.value, o.source));
    sources[o.key] = o.source;
  }
  MOERAG_ASSIGN_OR_RETURN(Settings settings, to_settings(raw, sources));
  for (const auto& [name, check] : checks()) MOERAG_TRY(check(settings));
  return settings;
}

}  // namespace moerag::config
