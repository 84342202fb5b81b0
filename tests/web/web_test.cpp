// Web units: route matching, error table, metrics text, rate limiting, OpenAPI.
#include <gtest/gtest.h>

#include "web/http.h"
#include "web/metrics.h"
#include "web/rate_limit.h"
#include "web/routes.h"

using namespace moerag;
using namespace moerag::web;

TEST(Router, MatchesParamsAndReportsAllowedMethods) {
  Router r;
  r.add({"GET", "/v1/kbs/{kb}/documents/{id}", Role::USER, "t", "s", nullptr, nullptr, [](Ctx&) {}});
  r.add({"DELETE", "/v1/kbs/{kb}/documents/{id}", Role::ADMIN, "t", "s", nullptr, nullptr, [](Ctx&) {}});
  auto m = r.match("GET", "/v1/kbs/faq/documents/a%20b");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params["kb"], "faq");
  EXPECT_EQ(m.params["id"], "a b");
  auto p = r.match("POST", "/v1/kbs/faq/documents/1");
  EXPECT_EQ(p.route, nullptr);
  EXPECT_EQ(p.allowed, (std::vector<std::string>{"GET", "DELETE"}));
  EXPECT_EQ(r.match("GET", "/v1/kbs/faq").route, nullptr);
  EXPECT_TRUE(r.match("GET", "/v1/kbs/faq").allowed.empty());
  EXPECT_NE(r.match("HEAD", "/v1/kbs/x/documents/y").route, nullptr);
}

TEST(Errors, OneTableMapsCodesToStatuses) {
  EXPECT_EQ(http_status(ErrorCode::INVALID_INPUT), 400);
  EXPECT_EQ(http_status(ErrorCode::UNAUTHORIZED), 401);
  EXPECT_EQ(http_status(ErrorCode::FORBIDDEN), 403);
  EXPECT_EQ(http_status(ErrorCode::NOT_FOUND), 404);
  EXPECT_EQ(http_status(ErrorCode::TOO_LARGE), 413);
  EXPECT_EQ(http_status(ErrorCode::BLOCKED), 422);
  EXPECT_EQ(http_status(ErrorCode::RATE_LIMITED), 429);
  EXPECT_EQ(http_status(ErrorCode::OVERLOADED), 503);
  EXPECT_EQ(http_status(ErrorCode::INTERNAL), 500);
}

TEST(Metrics, RendersCountersAndCumulativeHistograms) {
  Metrics m;
  m.inc("req_total", "Requests.", {{"route", "/a"}, {"status", "200"}});
  m.inc("req_total", "Requests.", {{"route", "/a"}, {"status", "200"}});
  m.observe("lat_seconds", "Latency.", {{"route", "/a"}}, 0.003);
  m.observe("lat_seconds", "Latency.", {{"route", "/a"}}, 0.2);
  m.add_collector([](std::string& out) { out += "# TYPE extra gauge\nextra 1\n"; });
  std::string t = m.render();
  EXPECT_NE(t.find("# TYPE req_total counter\n"), std::string::npos);
  EXPECT_NE(t.find("req_total{route=\"/a\",status=\"200\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("lat_seconds_bucket{le=\"0.0025\",route=\"/a\"} 0\n"), std::string::npos);
  EXPECT_NE(t.find("lat_seconds_bucket{le=\"0.005\",route=\"/a\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("lat_seconds_bucket{le=\"0.25\",route=\"/a\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("lat_seconds_bucket{le=\"+Inf\",route=\"/a\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("lat_seconds_count{route=\"/a\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("extra 1\n"), std::string::npos);
  EXPECT_EQ(m.counter("req_total", {{"route", "/a"}, {"status", "200"}}), 2);
  EXPECT_EQ(format_labels({{"q", "a\"b\\c\n"}}), "{q=\"a\\\"b\\\\c\\n\"}");
}

TEST(RateLimit, BurstThenRefillAtRate) {
  RateLimiter rl(2, 3);  // 2/s, burst 3
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(rl.take("a", t0), 0);
  EXPECT_EQ(rl.take("a", t0), 0);
  EXPECT_EQ(rl.take("a", t0), 0);
  EXPECT_EQ(rl.take("a", t0), 1);  // empty: next token in 0.5 s, rounded up to 1
  EXPECT_EQ(rl.take("b", t0), 0);  // other clients unaffected
  EXPECT_EQ(rl.take("a", t0 + std::chrono::milliseconds(600)), 0);
  EXPECT_EQ(rl.take("a", t0 + std::chrono::milliseconds(600)), 1);
  RateLimiter off(0, 1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(off.take("x", t0), 0);
}

TEST(OpenApi, DescribesEveryRouteWithParamsAndSecurity) {
  Router r;
  r.add({"GET", "/v1/kbs/{kb}", Role::USER, "kb", "Get a kb", nullptr, {{"type", "object"}}, [](Ctx&) {}});
  r.add({"POST", "/v1/kbs", Role::ADMIN, "kb", "Create", {{"type", "object"}}, nullptr, [](Ctx&) {}});
  r.add({"GET", "/healthz", Role::PUBLIC, "system", "Health", nullptr, nullptr, [](Ctx&) {}});
  json doc = openapi_document(r);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  EXPECT_EQ(doc["paths"].size(), 3u);
  EXPECT_EQ(doc["paths"]["/v1/kbs/{kb}"]["get"]["parameters"][0]["name"], "kb");
  EXPECT_TRUE(doc["paths"]["/v1/kbs"]["post"].contains("requestBody"));
  EXPECT_TRUE(doc["paths"]["/v1/kbs"]["post"].contains("security"));
  EXPECT_FALSE(doc["paths"]["/healthz"]["get"].contains("security"));
}
