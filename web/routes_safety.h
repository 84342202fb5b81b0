// Routes of the safety module: POST /v1/safety/check, plus its counters on /metrics.
#pragma once

#include <memory>

#include "web/server.h"

namespace moerag::safety {
class Filter;
}

namespace moerag::web {

/// The safety routes and metrics collector for `filter`.
RouteSet safety_routes(std::shared_ptr<safety::Filter> filter);

}  // namespace moerag::web
