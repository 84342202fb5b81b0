// Route matching, the ErrorCode -> HTTP status table, and Ctx helpers.
#include "web/http.h"

#include "core/log.h"

namespace moerag::web {

const char* role_name(Role r) {
  switch (r) {
    case Role::PUBLIC: return "public";
    case Role::USER: return "user";
    case Role::ADMIN: return "admin";
  }
  return "user";
}

Result<Role> parse_role(const std::string& s) {
  if (s == "user") return Role::USER;
  if (s == "admin") return Role::ADMIN;
  return Error(ErrorCode::INVALID_INPUT, "role '" + s + "' is not known (allowed: user, admin)");
}

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::INVALID_INPUT: return 400;
    case ErrorCode::CONTEXT_TOO_LONG: return 400;
    case ErrorCode::UNAUTHORIZED: return 401;
    case ErrorCode::FORBIDDEN: return 403;
    case ErrorCode::NOT_FOUND: return 404;
    case ErrorCode::CONFLICT: return 409;
    case ErrorCode::TOO_LARGE: return 413;
    case ErrorCode::BLOCKED: return 422;
    case ErrorCode::RATE_LIMITED: return 429;
    case ErrorCode::OVERLOADED: return 503;
    case ErrorCode::UNAVAILABLE: return 503;
    case ErrorCode::IO: return 500;
    case ErrorCode::INTERNAL: return 500;
  }
  return 500;
}

Result<json> Ctx::json_body() const {
  if (req.body.empty()) return Error(ErrorCode::INVALID_INPUT, "request body is empty; send a JSON object");
  json j = json::parse(req.body, nullptr, false);
  if (j.is_discarded()) {
    // Re-parse with exceptions to get the position for the message.
    try {
      (void)json::parse(req.body);
    } catch (const json::parse_error& e) {
      return Error(ErrorCode::INVALID_INPUT, std::string("malformed JSON body: ") + e.what());
    }
    return Error(ErrorCode::INVALID_INPUT, "malformed JSON body");
  }
  if (!j.is_object()) return Error(ErrorCode::INVALID_INPUT, "JSON body must be an object");
  return j;
}

std::string Ctx::query(const std::string& name, const std::string& fallback) const {
  return req.has_param(name.c_str()) ? req.get_param_value(name.c_str()) : fallback;
}

void Ctx::send(const json& body, int status) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void Ctx::fail(const Error& e, const json& extra) {
  int status = http_status(e.code);
  std::string message = e.message;
  if (status >= 500 && e.code != ErrorCode::OVERLOADED && e.code != ErrorCode::UNAVAILABLE) {
    log::get("web")->error("internal error: {}", e.message);
    message = "internal error; the server log has details under this request_id";
  }
  json err = {{"code", error_code_name(e.code)}, {"message", message}, {"request_id", request_id}};
  for (auto it = extra.begin(); it != extra.end(); ++it) err[it.key()] = *it;
  if (status == 503 || status == 429) res.set_header("Retry-After", "1");
  send({{"error", err}}, status);
}

namespace {
std::vector<std::string> split_path(const std::string& p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < p.size()) {
    while (i < p.size() && p[i] == '/') ++i;
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    if (j > i) out.push_back(p.substr(i, j - i));
    i = j;
  }
  return out;
}

bool match_pattern(const std::string& pattern, const std::string& path, std::map<std::string, std::string>& params) {
  auto ps = split_path(pattern), xs = split_path(path);
  if (ps.size() != xs.size()) return false;
  if (!path.empty() && path.back() == '/' && path != "/" ) return false;
  for (size_t i = 0; i < ps.size(); ++i) {
    if (ps[i].size() > 2 && ps[i].front() == '{' && ps[i].back() == '}') {
      params[ps[i].substr(1, ps[i].size() - 2)] = httplib::detail::decode_url(xs[i], false);
    } else if (ps[i] != xs[i]) {
      return false;
    }
  }
  return true;
}
}  // namespace

void Router::add(Route r) { routes_.push_back(std::move(r)); }

Router::Match Router::match(const std::string& method, const std::string& path) const {
  Match m;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> params;
    if (!match_pattern(r.pattern, path, params)) continue;
    if (r.method == method || (method == "HEAD" && r.method == "GET")) {
      if (!m.route) {
        m.route = &r;
        m.params = std::move(params);
      }
    }
    m.allowed.push_back(r.method);
  }
  return m;
}

}  // namespace moerag::web
