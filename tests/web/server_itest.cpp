// The real server binary on a free loopback port, driven by a real HTTP client:
// status codes for bad requests, auth, rate limits, CORS, metrics and OpenAPI.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/support/shared_server.h"
#include "tests/support/test_support.h"

using json = nlohmann::json;
using namespace moerag::testing;

namespace {

json parse(const httplib::Result& r) { return json::parse(r->body, nullptr, false); }

// The error body shape every failure shares.
void expect_error(const httplib::Result& r, int status, const std::string& code) {
  ASSERT_TRUE(r) << "no response";
  EXPECT_EQ(r->status, status) << r->body;
  json j = parse(r);
  ASSERT_TRUE(j.is_object()) << r->body;
  EXPECT_EQ(j["error"]["code"], code) << r->body;
  EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
  EXPECT_EQ(j["error"]["request_id"].get<std::string>(), r->get_header_value("X-Request-Id"));
}

double metric(const std::string& text, const std::string& line_prefix) {
  auto p = text.find(line_prefix + " ");
  if (p == std::string::npos) return 0;
  return std::stod(text.substr(p + line_prefix.size() + 1));
}

class OpenServer : public SharedServerSuite<OpenServer> {
 public:
  static std::vector<std::string> server_args() {
    return {"--set", "server.max_body_bytes=65536", "--set", "limits.rate_per_second=0", "--set",
            "cors.allowed_origins=http://widget.test"};
  }
};

TEST_F(OpenServer, HealthPageAndRequestIds) {
  auto c = client();
  auto h = c.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(parse(h)["status"], "ok");
  EXPECT_FALSE(h->get_header_value("X-Request-Id").empty());
  auto echoed = c.Get("/healthz", {{"X-Request-Id", "my-req-42"}});
  EXPECT_EQ(echoed->get_header_value("X-Request-Id"), "my-req-42");
  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<title>moerag</title>"), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Type").find("text/html"), std::string::npos);
  auto ready = c.Get("/readyz");
  EXPECT_EQ(ready->status, 200);
  auto v = c.Get("/v1/version");
  EXPECT_EQ(parse(v)["name"], "moerag");
}

TEST_F(OpenServer, BadRequestsGetJsonErrors) {
  auto c = client();
  expect_error(c.Post("/v1/admin/keys", "{\"name\": ", "application/json"), 400, "invalid_input");
  expect_error(c.Post("/v1/admin/keys", "[1,2]", "application/json"), 400, "invalid_input");
  expect_error(c.Post("/v1/admin/keys", "{\"role\":\"user\"}", "application/json"), 400, "invalid_input");
  expect_error(c.Get("/no/such/route"), 404, "not_found");
  auto m = c.Put("/healthz", "{}", "application/json");
  expect_error(m, 405, "method_not_allowed");
  EXPECT_EQ(m->get_header_value("Allow"), "GET");
  std::string big(200 * 1024, 'x');
  expect_error(c.Post("/v1/admin/keys", big, "application/json"), 413, "too_large");
  // The server is still fine afterwards.
  EXPECT_EQ(c.Get("/healthz")->status, 200);
}

// Its own server: the burst must not eat into other tests' budget.
TEST(LimitedServer, BurstIsRateLimitedWithRetryAfter) {
  TempDir dir;
  ServerProcess server(dir.file("data"), {"--set", "limits.rate_per_second=2", "--set", "limits.burst=10"});
  ASSERT_TRUE(server.ok()) << server.output();
  httplib::Client c("127.0.0.1", server.port());
  int limited = 0, ok = 0;
  for (int i = 0; i < 40; ++i) {
    auto r = c.Get("/v1/whoami");
    ASSERT_TRUE(r);
    if (r->status == 429) {
      ++limited;
      EXPECT_GE(std::stoi(r->get_header_value("Retry-After")), 1);
      EXPECT_EQ(parse(r)["error"]["code"], "rate_limited");
    } else {
      EXPECT_EQ(r->status, 200);
      ++ok;
    }
  }
  EXPECT_GE(ok, 10);  // the burst
  EXPECT_GE(limited, 20);
  EXPECT_EQ(c.Get("/healthz")->status, 200);  // public routes are not limited
  auto metrics = c.Get("/metrics")->body;
  EXPECT_GE(metric(metrics, "moerag_http_requests_total{method=\"GET\",route=\"/v1/whoami\",status=\"429\"}"), limited);
}

TEST_F(OpenServer, MetricsCountRequestsByRouteAndStatus) {
  auto c = client();
  auto before = c.Get("/metrics")->body;
  c.Get("/healthz");
  c.Get("/no/such/thing");
  c.Post("/v1/admin/keys", "{oops", "application/json");
  c.Post("/v1/admin/keys", std::string(100 * 1024, 'y'), "application/json");
  // A request is counted by the server's logger, which runs after its response is
  // written; a request whose connection was closed (the 413) may be counted a moment
  // after the client moved on, so read /metrics until the counts arrive (2 s at most).
  std::string body, content_type;
  auto delta = [&](const std::string& line) { return metric(body, line) - metric(before, line); };
  const char* k400 = "moerag_http_requests_total{method=\"POST\",route=\"/v1/admin/keys\",status=\"400\"}";
  const char* k413 = "moerag_http_requests_total{method=\"POST\",route=\"unmatched\",status=\"413\"}";
  const char* k404 = "moerag_http_requests_total{method=\"GET\",route=\"not_found\",status=\"404\"}";
  for (int i = 0; i < 40; ++i) {
    auto text = c.Get("/metrics");
    ASSERT_TRUE(text);
    body = text->body, content_type = text->get_header_value("Content-Type");
    if (delta(k404) >= 1 && delta(k400) >= 1 && delta(k413) >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(content_type.find("text/plain"), std::string::npos);
  EXPECT_EQ(delta(k404), 1);
  EXPECT_EQ(delta(k400), 1);
  EXPECT_EQ(delta(k413), 1);
  EXPECT_NE(body.find("moerag_http_request_duration_seconds_bucket{le=\"+Inf\",route=\"/healthz\"}"), std::string::npos);
}

TEST_F(OpenServer, OpenApiListsEveryRouteAndEveryListedRouteExists) {
  auto c = client();
  auto r = c.Get("/openapi.json");
  ASSERT_TRUE(r);
  json doc = parse(r);
  ASSERT_TRUE(doc.is_object()) << "not valid JSON";
  EXPECT_EQ(doc["openapi"], "3.0.3");
  for (const char* p : {"/healthz", "/readyz", "/metrics", "/openapi.json", "/v1/version", "/v1/whoami", "/v1/admin/keys",
                        "/v1/admin/keys/{id}", "/"})
    EXPECT_TRUE(doc["paths"].contains(p)) << p;
  // Every listed GET route without parameters answers (not 404/405).
  for (auto& [path, ops] : doc["paths"].items()) {
    if (path.find('{') != std::string::npos || !ops.contains("get")) continue;
    auto g = c.Get(path);
    ASSERT_TRUE(g) << path;
    EXPECT_NE(g->status, 404) << path;
    EXPECT_NE(g->status, 405) << path;
  }
}

TEST_F(OpenServer, CorsOnlyForConfiguredOrigins) {
  auto c = client();
  auto pre = c.Options("/v1/whoami", {{"Origin", "http://widget.test"}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->status, 204);
  EXPECT_EQ(pre->get_header_value("Access-Control-Allow-Origin"), "http://widget.test");
  auto other = c.Get("/healthz", {{"Origin", "http://evil.test"}});
  EXPECT_FALSE(other->has_header("Access-Control-Allow-Origin"));
}

class AuthServer : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string data = dir_.file("data");
    auto key = [&](const std::string& name, const std::string& role) {
      auto r = run_command(moerag_binary() + " keys create --name " + name + " --role " + role + " --data-dir " + data +
                           " 2>/dev/null");
      EXPECT_EQ(r.exit_code, 0) << r.output;
      std::string k = r.output.substr(0, r.output.find('\n'));
      return k;
    };
    admin_ = key("ops", "admin");
    user_ = key("shop", "user");
    server_ = std::make_unique<ServerProcess>(data, std::vector<std::string>{"--set", "auth.enabled=true"});
    ASSERT_TRUE(server_->ok()) << server_->output();
  }
  httplib::Client client() { return httplib::Client("127.0.0.1", server_->port()); }
  TempDir dir_;
  std::string admin_, user_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(AuthServer, KeysAndRolesAreEnforced) {
  auto c = client();
  EXPECT_EQ(c.Get("/healthz")->status, 200);  // public
  auto none = c.Get("/v1/whoami");
  expect_error(none, 401, "unauthorized");
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer");
  expect_error(c.Get("/v1/whoami", {{"Authorization", "Bearer mrk_notakey0000000000"}}), 401, "unauthorized");
  auto me = c.Get("/v1/whoami", {{"Authorization", "Bearer " + user_}});
  ASSERT_EQ(me->status, 200) << me->body;
  EXPECT_EQ(parse(me)["role"], "user");
  EXPECT_EQ(parse(me)["name"], "shop");
  expect_error(c.Get("/v1/admin/keys", {{"Authorization", "Bearer " + user_}}), 403, "forbidden");
  auto list = c.Get("/v1/admin/keys", {{"X-API-Key", admin_}});
  ASSERT_EQ(list->status, 200);
  EXPECT_EQ(parse(list)["keys"].size(), 2u);
  EXPECT_EQ(list->body.find(user_), std::string::npos) << "keys are never listed";
  // Admin creates and revokes through the API; a revoked key stops working.
  auto created = c.Post("/v1/admin/keys", {{"Authorization", "Bearer " + admin_}}, "{\"name\":\"tmp\"}", "application/json");
  ASSERT_EQ(created->status, 201) << created->body;
  std::string tmp = parse(created)["key"];
  EXPECT_EQ(c.Get("/v1/whoami", {{"Authorization", "Bearer " + tmp}})->status, 200);
  EXPECT_EQ(c.Delete("/v1/admin/keys/tmp", {{"Authorization", "Bearer " + admin_}})->status, 200);
  expect_error(c.Get("/v1/whoami", {{"Authorization", "Bearer " + tmp}}), 401, "unauthorized");
  expect_error(c.Delete("/v1/admin/keys/tmp", {{"Authorization", "Bearer " + admin_}}), 404, "not_found");
}

TEST_F(AuthServer, SigtermShutsDownCleanly) {
  auto c = client();
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  EXPECT_EQ(server_->stop(SIGTERM), 0) << server_->output();
  EXPECT_NE(server_->output().find("shut down cleanly"), std::string::npos) << server_->output();
}

}  // namespace
