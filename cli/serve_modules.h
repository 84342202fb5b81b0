// How modules join `moerag serve` without editing cmd_serve.cpp: a cli/serve_*.cpp
// file registers a ServeModule that builds its module from the settings, stores it
// for modules built after it (e.g. chat uses safety and retrieval), and adds its
// routes to the web Services.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "config/settings.h"
#include "core/result.h"
#include "core/sqlite.h"
#include "web/server.h"

namespace moerag::cli {

/// What a module's start-up function can use and add to.
struct ServeContext {
  const config::Settings& settings;
  std::shared_ptr<sql::Database> db;  ///< <data_dir>/moerag.db
  web::Services& services;            ///< push RouteSets here
  /// Modules built so far, by name ("safety", "retrieval", ...); kept alive until exit.
  std::map<std::string, std::shared_ptr<void>> modules;

  /// The module stored under `name` as T, or nullptr.
  template <typename T>
  std::shared_ptr<T> get(const std::string& name) const {
    auto it = modules.find(name);
    return it == modules.end() ? nullptr : std::static_pointer_cast<T>(it->second);
  }
};

/// Registers a start-up step; steps run in ascending `order` (safety 10,
/// engine 30, retrieval 35 (after the engine: it shares the embedder), apps 40+). A failing step stops start-up.
struct RegisterServeModule {
  RegisterServeModule(int order, std::string name, std::function<Status(ServeContext&)> start);
};

/// Runs every registered step in order.
Status start_serve_modules(ServeContext& ctx);

}  // namespace moerag::cli
