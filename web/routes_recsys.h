// Recommendation routes (/v1/recsys/...): recommendations with explanations,
// similar items, batch interactions, background training and status.
#pragma once

#include <memory>

#include "web/server.h"

namespace moerag::recsys {
class Recommender;
}

namespace moerag::web {

/// The RouteSet that installs the recsys routes over `rec`.
RouteSet recsys_routes(std::shared_ptr<recsys::Recommender> rec);

}  // namespace moerag::web
