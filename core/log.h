// Logging on spdlog: one named logger per module, human or JSON-lines output, and a
// per-thread request id that every line written while serving a request carries.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace moerag::log {

/// How logs are written; parsed from the `log` section of the settings.
struct LogOptions {
  std::string level = "info";  ///< trace|debug|info|warn|error|off
  bool json = false;           ///< one JSON object per line instead of human text
};

/// Applies options to every existing and future logger. Safe to call again.
void init(const LogOptions& options);

/// The logger for a module ("web", "engine", ...), created on first use.
std::shared_ptr<spdlog::logger> get(const std::string& module);

/// While alive, log lines from this thread carry `request_id`.
class RequestScope {
 public:
  explicit RequestScope(std::string request_id);
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

 private:
  std::string previous_;
};

/// The request id of the current thread, empty outside a request.
const std::string& current_request_id();

}  // namespace moerag::log
