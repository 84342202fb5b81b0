// HTTP server: one dispatcher in front of the route table does request ids, CORS,
// auth, rate limits, error bodies and metrics for every route the same way.
#include "web/server.h"

#include <chrono>

#include "core/hash.h"
#include "core/log.h"
#include "web/rate_limit.h"
#include "web/routes.h"

namespace moerag::web {
namespace {

// Per worker thread: what the dispatcher learned, read by the access logger.
struct RequestTrace {
  std::string route;   // matched pattern; empty when none
  std::string request_id;
  std::chrono::steady_clock::time_point start;
  bool timed = false;
};
thread_local RequestTrace t_trace;

bool sane_request_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

std::string bearer_key(const httplib::Request& req) {
  std::string auth = req.get_header_value("Authorization");
  if (auth.rfind("Bearer ", 0) == 0) return auth.substr(7);
  return req.get_header_value("X-API-Key");
}

}  // namespace

struct Server::Impl {
  explicit Impl(const config::Settings& settings, Services services)
      : state{settings, std::move(services), {}, {}, nullptr, {}},
        limiter(settings.limits.rate_per_second, settings.limits.burst) {}

  WebState state;
  RateLimiter limiter;
  httplib::Server http;
  std::shared_ptr<spdlog::logger> log = log::get("web");
  int port = 0;
  int listen_fd = -1;  // the listening socket (recorded by the socket-options hook)

  const config::Settings& settings() const { return state.settings; }

  bool origin_allowed(const std::string& origin) const {
    for (const auto& o : settings().cors.allowed_origins)
      if (o == "*" || o == origin) return true;
    return false;
  }

  void apply_cors(const httplib::Request& req, httplib::Response& res) const {
    std::string origin = req.get_header_value("Origin");
    if (origin.empty() || !origin_allowed(origin)) return;
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Vary", "Origin");
    res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, X-API-Key, X-Request-Id");
    res.set_header("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
    res.set_header("Access-Control-Expose-Headers", "X-Request-Id, Retry-After");
    res.set_header("Access-Control-Max-Age", "600");
  }

  bool is_public(const Route& r, const std::string& path) const {
    if (r.role == Role::PUBLIC) return true;
    for (const auto& p : settings().auth.public_routes)
      if (p == path) return true;
    return false;
  }

  void dispatch(const httplib::Request& req, httplib::Response& res) {
    t_trace = {};
    t_trace.start = std::chrono::steady_clock::now();
    t_trace.timed = true;
    std::string rid = req.get_header_value("X-Request-Id");
    if (!sane_request_id(rid)) rid = random_hex(8);
    t_trace.request_id = rid;
    log::RequestScope scope(rid);
    res.set_header("X-Request-Id", rid);
    apply_cors(req, res);

    Ctx ctx{req, res, {}, rid, {}};
    if (req.method == "OPTIONS") {  // CORS preflight
      res.status = 204;
      t_trace.route = "OPTIONS *";
      return;
    }
    auto m = state.router.match(req.method, req.path);
    if (!m.route) {
      if (!m.allowed.empty()) {
        std::string allow;
        for (const auto& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
        res.set_header("Allow", allow);
        t_trace.route = "method_not_allowed";
        ctx.send({{"error", {{"code", "method_not_allowed"},
                             {"message", req.method + " is not allowed on " + req.path + " (allowed: " + allow + ")"},
                             {"request_id", rid}}}}, 405);
      } else {
        t_trace.route = "not_found";
        ctx.fail(Error(ErrorCode::NOT_FOUND, "no route " + req.method + " " + req.path + " (see /openapi.json)"));
      }
      return;
    }
    const Route& route = *m.route;
    t_trace.route = route.pattern;
    ctx.params = std::move(m.params);

    std::string client = req.remote_addr;
    if (settings().auth.enabled && !is_public(route, req.path)) {
      std::string key = bearer_key(req);
      if (key.empty()) {
        res.set_header("WWW-Authenticate", "Bearer");
        return ctx.fail(Error(ErrorCode::UNAUTHORIZED,
                              "this route needs an API key: send 'Authorization: Bearer KEY' (create one with `moerag keys create`)"));
      }
      auto info = state.keys->verify(key);
      if (!info.ok()) {
        res.set_header("WWW-Authenticate", "Bearer");
        return ctx.fail(info.error());
      }
      ctx.principal = {info->id, info->name, info->role};
      if (info->role < route.role)
        return ctx.fail(Error(ErrorCode::FORBIDDEN, std::string("this route needs the ") + role_name(route.role) +
                                                        " role; key '" + info->name + "' has " + role_name(info->role)));
      client = "key:" + std::to_string(info->id);
    } else {
      ctx.principal = {0, "anonymous", Role::ADMIN};
    }

    if (route.role != Role::PUBLIC) {
      if (int wait = limiter.take(client)) {
        res.set_header("Retry-After", std::to_string(wait));
        return ctx.fail(Error(ErrorCode::RATE_LIMITED, "too many requests; retry after " + std::to_string(wait) + " s"));
      }
    }

    try {
      route.handler(ctx);
    } catch (const std::exception& e) {
      ctx.fail(Error(ErrorCode::INTERNAL, std::string("unhandled exception: ") + e.what()));
    }
  }

  // Called by httplib for every response >= 400; fills a JSON body for the errors
  // httplib produces itself (413, malformed request lines) and leaves ours alone.
  httplib::Server::HandlerResponse on_error(const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (t_trace.request_id.empty()) t_trace.request_id = random_hex(8);
    ErrorCode code = res.status == 413 ? ErrorCode::TOO_LARGE : ErrorCode::INVALID_INPUT;
    std::string msg = res.status == 413
                          ? "request body is larger than server.max_body_bytes (" +
                                std::to_string(settings().server.max_body_bytes) + " bytes)"
                          : "malformed HTTP request (status " + std::to_string(res.status) + ")";
    json body = {{"error", {{"code", error_code_name(code)}, {"message", msg}, {"request_id", t_trace.request_id}}}};
    res.set_header("X-Request-Id", t_trace.request_id);
    res.set_content(body.dump(), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }

  // Called after every response is written: access log and request metrics.
  void on_logged(const httplib::Request& req, const httplib::Response& res) {
    std::string route = t_trace.route.empty() ? "unmatched" : t_trace.route;
    std::string status = std::to_string(res.status);
    state.metrics.inc("moerag_http_requests_total", "HTTP requests by route, method and status.",
                      {{"route", route}, {"method", req.method}, {"status", status}});
    double secs = 0;
    if (t_trace.timed) {
      secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_trace.start).count();
      state.metrics.observe("moerag_http_request_duration_seconds", "HTTP request latency by route.",
                            {{"route", route}}, secs);
    }
    log::RequestScope scope(t_trace.request_id);
    log->debug("{} {} -> {} ({:.1f} ms)", req.method, req.path, res.status, secs * 1000);
    t_trace = {};
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::create(const config::Settings& settings, Services services) {
  if (!services.db) return Error(ErrorCode::INTERNAL, "web server needs a database");
  auto impl = std::make_unique<Impl>(settings, std::move(services));
  MOERAG_ASSIGN_OR_RETURN(impl->state.keys, KeyStore::create(impl->state.services.db));
  register_system_routes(impl->state);
  register_admin_routes(impl->state);
  for (const auto& install : impl->state.services.route_sets) install(impl->state);

  auto& http = impl->http;
  Impl* p = impl.get();
  auto h = [p](const httplib::Request& req, httplib::Response& res) { p->dispatch(req, res); };
  const std::string any = ".*";
  http.Get(any, h).Post(any, h).Put(any, h).Patch(any, h).Delete(any, h).Options(any, h);
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [p](const httplib::Request& req, httplib::Response& res) { return p->on_error(req, res); }));
  http.set_logger([p](const httplib::Request& req, const httplib::Response& res) { p->on_logged(req, res); });
  http.set_payload_max_length(static_cast<size_t>(settings.server.max_body_bytes));
  http.set_read_timeout(settings.server.read_timeout_s, 0);
  http.set_write_timeout(settings.server.write_timeout_s, 0);
  // Responses go out as headers then body: without TCP_NODELAY, Nagle holds the body
  // until the client's delayed ACK (~40 ms on Linux) on every keep-alive request.
  http.set_tcp_nodelay(true);
  // A keep-alive connection serves many requests (httplib closes it after 5 by default,
  // and every reconnect of a busy client costs a handshake).
  http.set_keep_alive_max_count(1000);
  // The listening socket: SO_REUSEADDR (restart while old connections linger in
  // TIME_WAIT) but not SO_REUSEPORT, so a second server on the same port fails clearly
  // instead of sharing it; the fd is kept to widen the accept backlog after bind().
  http.set_socket_options([p](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    p->listen_fd = sock;
  });
  int n_threads = settings.server.threads;
  http.new_task_queue = [n_threads] { return new httplib::ThreadPool(static_cast<size_t>(n_threads)); };
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Result<int> Server::bind() {
  const auto& s = impl_->settings().server;
  int port = s.port;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(s.host);
    if (port <= 0) return Error(ErrorCode::IO, "cannot bind to any port on " + s.host);
  } else if (!impl_->http.bind_to_port(s.host, port)) {
    return Error(ErrorCode::IO, "cannot listen on " + s.host + ":" + std::to_string(port) +
                                    " (in use, or not allowed); pick another with --port");
  }
  impl_->port = port;
  // The packaged cpp-httplib listens with a backlog of 5: a burst of new connections
  // (fifty chat widgets opening at once) overflows it and each dropped SYN is retried
  // only after a second. listen() again on the bound socket widens the queue.
  if (impl_->listen_fd >= 0) (void)::listen(impl_->listen_fd, 1024);
  return port;
}

Status Server::serve() {
  impl_->log->info("listening on http://{}:{}/", impl_->settings().server.host, impl_->port);
  if (!impl_->http.listen_after_bind() && !impl_->state.draining)
    return Error(ErrorCode::IO, "HTTP listener stopped unexpectedly");
  impl_->log->info("stopped; in-flight requests finished");
  return {};
}

void Server::stop() {
  impl_->state.draining = true;
  impl_->http.stop();
}

}  // namespace moerag::web
