// The recommender's options from the typed settings: RecsysOptions from the
// `recsys` section, with the meta-paths checked against the graph schema, so a
// bad path stops start-up with one line naming recsys.meta_paths.
#pragma once

#include "apps/recsys/recsys.h"
#include "config/settings.h"

namespace moerag::recsys {

/// RecsysOptions from settings.recsys. INVALID_INPUT when a meta-path names an
/// unknown node type or an edge the schema lacks: one line with the key, the path,
/// the allowed node types and edges, and where the value was set.
Result<RecsysOptions> options_from_settings(const config::Settings& settings);

/// The check behind options_from_settings' meta-path rule, for config::RegisterCheck.
Status check_settings(const config::Settings& settings);

}  // namespace moerag::recsys
