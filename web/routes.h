// Internal to web/: the state route files share, and one registration function per
// route file. server.cpp calls every register_* in order.
#pragma once

#include <atomic>
#include <memory>

#include "config/settings.h"
#include "web/api_keys.h"
#include "web/http.h"
#include "web/metrics.h"
#include "web/server.h"

namespace moerag::web {

/// Shared by all routes of one Server.
struct WebState {
  const config::Settings& settings;
  Services services;
  Router router;
  Metrics metrics;
  std::unique_ptr<KeyStore> keys;
  std::atomic<bool> draining{false};
};

void register_system_routes(WebState& s);  ///< health, metrics, OpenAPI, version, UI files
void register_admin_routes(WebState& s);   ///< API key management

/// The OpenAPI 3 document describing every route in the table.
json openapi_document(const Router& router);

}  // namespace moerag::web
