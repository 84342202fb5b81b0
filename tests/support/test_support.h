// Shared helpers for the test binaries: temporary folders, paths to the public
// test data and the built `moerag` binary, running a command and capturing output.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace moerag::testing {

/// A fresh folder under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// ../shared/data/<rel> (MOERAG_SHARED_DATA); empty when the folder is absent.
std::string shared_data(const std::string& rel);

/// The source tree root.
std::string source_dir();

/// Path of the built `moerag` executable.
std::string moerag_binary();

/// Result of running a shell command.
struct CommandResult {
  int exit_code = -1;
  std::string output;  ///< stdout and stderr together
};

/// Runs `command` through /bin/sh, capturing output.
CommandResult run_command(const std::string& command);

/// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

/// Writes content to path (creating it), aborting the test binary on failure.
void write_file(const std::string& path, const std::string& content);

}  // namespace moerag::testing

namespace moerag::testing {

/// A real `moerag serve` child process on a free loopback port.
class ServerProcess {
 public:
  /// Starts `moerag serve --port P --data-dir DATA_DIR extra_args...` and waits up
  /// to 20 s for the port to accept connections; `ok()` tells whether it did.
  ServerProcess(const std::string& data_dir, const std::vector<std::string>& extra_args);
  ~ServerProcess();  ///< SIGKILLs the child if still running
  bool ok() const { return ready_; }
  int port() const { return port_; }
  /// Sends `sig` and waits up to timeout_s; returns the exit code (-1 on timeout/crash).
  int stop(int sig, int timeout_s = 20);
  /// Everything the server printed so far.
  std::string output() const;

 private:
  int pid_ = -1;
  int port_ = 0;
  bool ready_ = false;
  std::string log_path_;
};

}  // namespace moerag::testing
