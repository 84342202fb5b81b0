// JSON Schema -> GBNF: one rule per schema node (r1, r2, ...), shared primitives
// (ws, string, number, ...) emitted once, $refs as rules named after the definition.
#include "engine/json_schema.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/grammar.h"

namespace moerag::engine {
namespace {

using json = nlohmann::ordered_json;

const char* const kPrimitives = R"(ws ::= [ \n]?
char ::= [^"\\\x00-\x1f] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})
string ::= "\"" char* "\""
integer ::= "-"? ("0" | [1-9] [0-9]{0,15})
number ::= integer ("." [0-9]{1,15})? ([eE] [-+]? [0-9]{1,3})?
boolean ::= "true" | "false"
null ::= "null"
)";

class SchemaCompiler {
 public:
  explicit SchemaCompiler(const json& root) : root_(root) {}

  Result<std::string> run() {
    MOERAG_ASSIGN_OR_RETURN(std::string top, node(root_));
    out_ = "root ::= " + top + "\n" + out_ + kPrimitives;
    return out_;
  }

 private:
  std::string add_rule(const std::string& body) {
    std::string name = "r" + std::to_string(++n_rules_);
    out_ += name + " ::= " + body + "\n";
    return name;
  }

  // A GBNF expression for values matching `s`.
  Result<std::string> node(const json& s) {
    if (s.is_boolean()) {
      if (!s.get<bool>()) return Error(ErrorCode::INVALID_INPUT, "json schema: `false` matches nothing");
      return std::string("any") + any_value();
    }
    if (!s.is_object()) return Error(ErrorCode::INVALID_INPUT, "json schema: a schema must be an object");
    if (s.contains("$ref")) return ref(s["$ref"]);
    if (s.contains("const")) return gbnf::quote(s["const"].dump());
    if (s.contains("enum")) {
      if (!s["enum"].is_array() || s["enum"].empty()) return Error(ErrorCode::INVALID_INPUT, "json schema: enum must be a non-empty array");
      std::string body;
      for (const auto& v : s["enum"]) body += (body.empty() ? "" : " | ") + gbnf::quote(v.dump());
      return add_rule(body);
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!s.contains(key)) continue;
      std::string body;
      for (const auto& sub : s[key]) {
        MOERAG_ASSIGN_OR_RETURN(std::string e, node(sub));
        body += (body.empty() ? "" : " | ") + e;
      }
      if (body.empty()) return Error(ErrorCode::INVALID_INPUT, std::string("json schema: empty ") + key);
      return add_rule(body);
    }
    if (!s.contains("type")) {
      if (s.contains("properties")) return object(s);
      if (s.contains("items")) return array(s);
      return std::string("any") + any_value();
    }
    if (s["type"].is_array()) {
      std::string body;
      for (const auto& t : s["type"]) {
        json one = s;
        one["type"] = t;
        MOERAG_ASSIGN_OR_RETURN(std::string e, node(one));
        body += (body.empty() ? "" : " | ") + e;
      }
      return add_rule(body);
    }
    const std::string type = s["type"].is_string() ? s["type"].get<std::string>() : "";
    if (type == "object") return object(s);
    if (type == "array") return array(s);
    if (type == "string") return string(s);
    if (type == "number" || type == "integer" || type == "boolean" || type == "null") return type;
    return Error(ErrorCode::INVALID_INPUT, "json schema: unsupported type " + s["type"].dump());
  }

  Result<std::string> ref(const json& r) {
    const std::string path = r.is_string() ? r.get<std::string>() : "";
    std::string name;
    for (const char* prefix : {"#/definitions/", "#/$defs/"}) {
      if (path.rfind(prefix, 0) == 0) name = path.substr(std::string(prefix).size());
    }
    const char* section = path.rfind("#/definitions/", 0) == 0 ? "definitions" : "$defs";
    if (name.empty() || !root_.contains(section) || !root_[section].contains(name)) {
      return Error(ErrorCode::INVALID_INPUT, "json schema: cannot resolve $ref '" + path + "'");
    }
    std::string rule = "def-";
    for (char c : name) rule += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
    if (defined_.insert(rule).second) {
      MOERAG_ASSIGN_OR_RETURN(std::string body, node(root_[section][name]));
      out_ += rule + " ::= " + body + "\n";
    }
    return rule;
  }

  Result<std::string> string(const json& s) {
    const int64_t lo = s.value("minLength", int64_t{0}), hi = s.value("maxLength", int64_t{-1});
    if (lo == 0 && hi < 0) return std::string("string");
    if (lo < 0 || (hi >= 0 && hi < lo) || hi > 10000 || lo > 10000) {
      return Error(ErrorCode::INVALID_INPUT, "json schema: bad minLength/maxLength");
    }
    return add_rule("\"\\\"\" char{" + std::to_string(lo) + "," + (hi >= 0 ? std::to_string(hi) : "") + "} \"\\\"\"");
  }

  Result<std::string> array(const json& s) {
    std::string item = "any" + any_value();
    if (s.contains("items")) {
      MOERAG_ASSIGN_OR_RETURN(item, node(s["items"]));
    }
    const int64_t lo = s.value("minItems", int64_t{0}), hi = s.value("maxItems", int64_t{-1});
    if (lo < 0 || (hi >= 0 && hi < lo) || lo > 1000 || hi > 1000) return Error(ErrorCode::INVALID_INPUT, "json schema: bad minItems/maxItems");
    if (hi == 0) return add_rule("\"[\" ws \"]\"");
    const std::string more = "(\",\" ws " + item + " ws){" + std::to_string(std::max<int64_t>(lo - 1, 0)) + "," +
                             (hi >= 0 ? std::to_string(hi - 1) : "") + "}";
    const std::string list = item + " ws " + more;
    return add_rule("\"[\" ws " + (lo == 0 ? "(" + list + ")?" : list) + " \"]\"");
  }

  // Required properties first (declared order), then the optional ones in order,
  // each present or not: T_i ::= ("," ws kv_i ws)? T_{i+1}. With no required
  // property the first present one has no comma: S_i ::= kv_i ws T_{i+1} | S_{i+1}.
  Result<std::string> object(const json& s) {
    if (!s.contains("properties") || !s["properties"].is_object() || s["properties"].empty()) {
      return std::string("obj") + any_value();
    }
    std::set<std::string> required;
    if (s.contains("required"))
      for (const auto& r : s["required"]) required.insert(r.get<std::string>());
    std::vector<std::string> req_kv, opt_kv;
    for (const auto& [key, sub] : s["properties"].items()) {
      MOERAG_ASSIGN_OR_RETURN(std::string v, node(sub));
      std::string kv = gbnf::quote(json(key).dump()) + " ws \":\" ws " + v;
      (required.count(key) ? req_kv : opt_kv).push_back(kv);
    }
    const size_t k = opt_kv.size();
    std::vector<std::string> tail(k + 1);  // tail[i] = T_i ("" when i == k)
    for (size_t i = k; i-- > 0;) {
      tail[i] = add_rule("(\",\" ws " + opt_kv[i] + " ws)?" + (tail[i + 1].empty() ? "" : " " + tail[i + 1]));
    }
    std::string body = "\"{\" ws ";
    for (size_t i = 0; i < req_kv.size(); ++i) body += (i ? "\",\" ws " : "") + req_kv[i] + " ws ";
    if (!req_kv.empty()) {
      body += tail[0];
    } else if (k > 0) {
      std::string next;  // S_{i+1}
      for (size_t i = k; i-- > 0;) {
        std::string alt = opt_kv[i] + " ws" + (tail[i + 1].empty() ? "" : " " + tail[i + 1]);
        next = add_rule(next.empty() ? alt : alt + " | " + next);
      }
      body += "(" + next + ")?";
    }
    return add_rule(body + " \"}\"");
  }

  // Declares the generic JSON value rules once; returns "" so callers can write "any" + any_value().
  std::string any_value() {
    if (!generic_) {
      generic_ = true;
      out_ += generic_rules(4);
    }
    return "";
  }

 public:
  /// any / obj / arr and their nesting levels 1..depth (values at the last level are scalars).
  static std::string generic_rules(int depth) {
    std::string out = "any ::= string | number | boolean | null | obj1 | arr1\nobj ::= obj1\narr ::= arr1\n";
    for (int d = 1; d <= depth; ++d) {
      const std::string n = std::to_string(d), v = "val" + n;
      out += v + " ::= string | number | boolean | null" +
             (d < depth ? " | obj" + std::to_string(d + 1) + " | arr" + std::to_string(d + 1) : "") + "\n";
      out += "obj" + n + " ::= \"{\" ws (string ws \":\" ws " + v + " ws (\",\" ws string ws \":\" ws " + v +
             " ws)*)? \"}\"\n";
      out += "arr" + n + " ::= \"[\" ws (" + v + " ws (\",\" ws " + v + " ws)*)? \"]\"\n";
    }
    return out;
  }

 private:
  const json& root_;
  std::string out_;
  int n_rules_ = 0;
  bool generic_ = false;
  std::set<std::string> defined_;
};

}  // namespace

Result<std::string> json_schema_to_gbnf(std::string_view schema_json) {
  json schema;
  try {
    schema = json::parse(schema_json);
  } catch (const json::exception& e) {
    return Error(ErrorCode::INVALID_INPUT, std::string("json schema is not valid JSON: ") + e.what());
  }
  try {
    return SchemaCompiler(schema).run();
  } catch (const json::exception& e) {
    return Error(ErrorCode::INVALID_INPUT, std::string("json schema: ") + e.what());
  }
}

std::string json_object_gbnf(int max_depth) {
  max_depth = std::max(1, max_depth);
  return "root ::= obj1\n" + SchemaCompiler::generic_rules(max_depth) + kPrimitives;
}

}  // namespace moerag::engine
