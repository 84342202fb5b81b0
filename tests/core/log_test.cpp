// Logging: JSON lines carry module, level, message and the request id; the human
// format shows the request id in brackets.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "tests/support/test_support.h"

using namespace moerag;

// Runs f with stderr redirected to a file; returns what was written.
template <typename F>
static std::string capture_stderr(F&& f) {
  moerag::testing::TempDir dir;
  std::string path = dir.file("err.txt");
  fflush(stderr);
  int saved = dup(2);
  FILE* out = std::fopen(path.c_str(), "w");
  dup2(fileno(out), 2);
  f();
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::fclose(out);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Log, JsonLinesCarryRequestIdAndEscapeText) {
  std::string text = capture_stderr([] {
    log::init({"info", true});
    auto l = log::get("testmod");
    {
      log::RequestScope scope("req-123");
      l->warn("quote \" and newline \n here");
    }
    l->info("outside");
    l->debug("hidden at info level");
    l->flush();
  });
  std::istringstream lines(text);
  std::string first, second, third;
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_FALSE(std::getline(lines, third)) << "debug must be filtered: " << text;
  auto a = nlohmann::json::parse(first);
  EXPECT_EQ(a["module"], "testmod");
  EXPECT_EQ(a["level"], "warning");
  EXPECT_EQ(a["msg"], "quote \" and newline \n here");
  EXPECT_EQ(a["request_id"], "req-123");
  auto b = nlohmann::json::parse(second);
  EXPECT_FALSE(b.contains("request_id"));
  EXPECT_TRUE(log::current_request_id().empty());
}

TEST(Log, HumanFormatShowsRequestId) {
  std::string text = capture_stderr([] {
    log::init({"info", false});
    log::RequestScope scope("abc");
    auto l = log::get("human");
    l->info("hello");
    l->flush();
  });
  EXPECT_NE(text.find("human [abc]: hello"), std::string::npos) << text;
}
