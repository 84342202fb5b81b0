// A test suite sharing one `moerag serve` child process: started once in
// SetUpTestSuite (fresh data folder, the suite's extra flags), stopped in
// TearDownTestSuite; each test checks it is up and takes HTTP clients to it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "tests/support/test_support.h"

namespace moerag::testing {

/// Derive as `class MySuite : public SharedServerSuite<MySuite>`; define
/// `static std::vector<std::string> server_args()` in the suite for extra flags.
template <class Suite>
class SharedServerSuite : public ::testing::Test {
 protected:
  static std::vector<std::string> server_args() { return {}; }
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    server_ = std::make_unique<ServerProcess>(dir_->file("data"), Suite::server_args());
  }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }
  void SetUp() override { ASSERT_TRUE(server_->ok()) << server_->output(); }
  /// A keep-alive-capable client with generous timeouts (CI machines are slow).
  static httplib::Client client() {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(60, 0);
    c.set_write_timeout(60, 0);
    return c;
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::unique_ptr<ServerProcess> server_;
};

}  // namespace moerag::testing
