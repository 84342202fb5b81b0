// Knowledge-base routes (/v1/kbs...): create/list/delete knowledge bases, upload
// and manage documents (ADMIN), search (USER). Installed by cli/serve_retrieval.cpp.
#pragma once

#include <memory>

#include "retrieval/retriever.h"
#include "web/server.h"

namespace moerag::safety {
class Filter;
}

namespace moerag::web {

/// The RouteSet serving `retriever` under /v1/kbs.
/// With `filter`, a search query is checked as input by layer 1 (rules, with the
/// knowledge base's lists) before retrieval sees it; a blocked one answers 422 (code
/// "blocked", with the categories). The model layer is for text that reaches a model.
RouteSet kb_routes(std::shared_ptr<retrieval::Retriever> retriever, std::shared_ptr<safety::Filter> filter = nullptr);

}  // namespace moerag::web
