// Knowledge-base routes (/v1/kbs...): create/list/delete knowledge bases, upload
// and manage documents (ADMIN), search (USER). Installed by cli/serve_retrieval.cpp.
#pragma once

#include <memory>

#include "retrieval/retriever.h"
#include "web/server.h"

namespace moerag::web {

/// The RouteSet serving `retriever` under /v1/kbs.
RouteSet kb_routes(std::shared_ptr<retrieval::Retriever> retriever);

}  // namespace moerag::web
