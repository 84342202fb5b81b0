// The HTTP server front door: built from the settings and the services the
// composition root (cli/) assembled, it owns the listener, the route table, auth,
// rate limits, CORS, metrics and graceful shutdown. httplib stays behind it.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "config/settings.h"
#include "core/result.h"
#include "core/sqlite.h"

namespace moerag::web {

struct WebState;

/// Adds one module's routes (and metrics collectors) to the server; a module's
/// route file (web/routes_<module>.cpp) provides it, the composition root passes it.
using RouteSet = std::function<void(WebState&)>;

/// What the web layer serves from; owned by the caller, outlives the Server.
struct Services {
  std::shared_ptr<sql::Database> db;  ///< the main database (keys, sessions, ...)
  std::vector<RouteSet> route_sets;   ///< module routes, installed in order after the system routes
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> create(const config::Settings& settings, Services services);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds settings.server.host:port (port 0 picks a free one); returns the port.
  Result<int> bind();
  /// Serves until stop(); returns once in-flight requests have finished.
  Status serve();
  /// Stops accepting new connections; /readyz turns 503 at once. Thread-safe.
  void stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace moerag::web
