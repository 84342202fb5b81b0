// Routes of the chat app: POST /v1/chat (JSON or SSE), sessions, feedback and
// support-bot profiles. Knowledge bases and uploads are the /v1/kbs routes.
#pragma once

#include <memory>

#include "web/server.h"

namespace moerag::chat {
class ChatService;
}

namespace moerag::web {

/// The chat routes over `chat`.
RouteSet chat_routes(std::shared_ptr<chat::ChatService> chat);

}  // namespace moerag::web
