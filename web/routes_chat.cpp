// Chat routes: POST /v1/chat answers as JSON or, with "stream": true, as server-sent
// events (token events, then one final event with citations, or an error event);
// sessions are scoped to the caller's key name; feedback; per-KB support profiles.
#include "web/routes_chat.h"

#include <atomic>

#include "apps/chat/chat.h"
#include "web/routes.h"

namespace moerag::web {
namespace {

json citation_json(const chat::Citation& c) {
  return {{"n", c.n},           {"document_id", c.document_id}, {"chunk_id", c.chunk_id}, {"source", c.source},
          {"heading", c.heading}, {"page", c.page},             {"snippet", c.snippet},   {"passage", c.passage},
          {"score", c.score}};
}

json response_json(const chat::ChatResponse& r) {
  json cites = json::array();
  for (const auto& c : r.citations) cites.push_back(citation_json(c));
  return {{"session_id", r.session_id}, {"message_id", r.message_id}, {"answer", r.answer},
          {"citations", cites},         {"answered", r.answered},     {"escalate", r.escalate},
          {"escalate_reason", r.escalate_reason}, {"confidence", r.confidence}, {"query", r.query},
          {"mode", r.mode}};
}

json blocked_error(const chat::ChatResponse& r, const std::string& request_id) {
  return {{"error",
           {{"code", "blocked"},
            {"message", "the safety filter blocked the " + r.blocked_direction +
                            (r.blocked_reason.empty() ? "" : " (" + r.blocked_reason + ")")},
            {"direction", r.blocked_direction},
            {"categories", r.blocked_categories},
            {"request_id", request_id}}}};
}

json session_json(const chat::SessionInfo& s) {
  return {{"id", s.id},           {"kb", s.kb},           {"title", s.title},
          {"n_turns", s.n_turns}, {"created_at", s.created_at}, {"updated_at", s.updated_at}};
}

json turn_json(const chat::Turn& t) {
  json cites = json::array();
  for (const auto& c : t.citations) cites.push_back(citation_json(c));
  json j = {{"id", t.id}, {"role", t.role}, {"content", t.content}, {"created_at", t.created_at}};
  if (t.role == "user") j["query"] = t.query;
  else j.update({{"citations", cites}, {"escalate", t.escalate}, {"confidence", t.confidence}, {"rating", t.rating}});
  return j;
}

// A model's pieces may split a UTF-8 character: bad bytes become U+FFFD instead of throwing.
std::string sse(const std::string& event, const json& data) {
  return "event: " + event + "\ndata: " + data.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

Result<chat::ChatRequest> parse_chat(Ctx& c, bool* stream) {
  MOERAG_ASSIGN_OR_RETURN(json body, c.json_body());
  if (!body.contains("message") || !body["message"].is_string())
    return Error(ErrorCode::INVALID_INPUT, "field 'message' (string) is required");
  chat::ChatRequest req;
  req.message = body["message"].get<std::string>();
  if (body.contains("kb") && body["kb"].is_string()) req.kb = body["kb"].get<std::string>();
  if (body.contains("session_id") && body["session_id"].is_string()) req.session_id = body["session_id"].get<std::string>();
  *stream = body.value("stream", false);
  req.owner = c.principal.name;
  // The same visibility rule as the /v1/kbs search route.
  req.access.all = c.principal.role == Role::ADMIN;
  req.access.tenant = c.principal.name;
  req.access.groups = {role_name(c.principal.role), c.principal.name};
  return req;
}

// Streams one answer as SSE from httplib's content provider (after the handler returned).
void stream_answer(Ctx& c, std::shared_ptr<chat::ChatService> svc, chat::ChatRequest req) {
  c.res.set_header("Cache-Control", "no-cache");
  c.res.set_header("X-Accel-Buffering", "no");
  std::string rid = c.request_id;
  auto started = std::make_shared<std::atomic<bool>>(false);
  c.res.set_chunked_content_provider(
      "text/event-stream", [svc, req, rid, started](size_t, httplib::DataSink& sink) {
        if (started->exchange(true)) return false;
        auto write = [&sink](const std::string& s) { return sink.is_writable() && sink.write(s.data(), s.size()); };
        json done;
        std::string event = "done";
        try {
          auto r = svc->ask(req, [&](std::string_view piece) { return write(sse("token", {{"text", std::string(piece)}})); });
          if (!r.ok()) {
            event = "error";
            std::string msg = r.error().code == ErrorCode::INTERNAL || r.error().code == ErrorCode::IO
                                  ? "internal error (request " + rid + ")" : r.error().message;
            done = {{"error", {{"code", error_code_name(r.error().code)}, {"message", msg}, {"request_id", rid}}}};
          } else if (r->blocked) {
            event = "error";
            done = blocked_error(*r, rid);
          } else {
            done = response_json(*r);
          }
        } catch (const std::exception&) {
          event = "error";
          done = {{"error", {{"code", "internal"}, {"message", "internal error (request " + rid + ")"}, {"request_id", rid}}}};
        }
        write(sse(event, done));
        sink.done();
        return true;
      });
}

const json kChatRequest = {
    {"type", "object"},
    {"required", {"message"}},
    {"properties",
     {{"kb", {{"type", "string"}, {"description", "knowledge base (optional when session_id is given)"}}},
      {"session_id", {{"type", "string"}, {"description", "continue this session; omit to start one"}}},
      {"message", {{"type", "string"}}},
      {"stream", {{"type", "boolean"}, {"default", false},
                  {"description", "server-sent events: `token` events, then `done` (the response) or `error`"}}}}}};

const json kCitation = {{"type", "object"},
                        {"properties",
                         {{"n", {{"type", "integer"}}}, {"document_id", {{"type", "string"}}},
                          {"chunk_id", {{"type", "integer"}}}, {"source", {{"type", "string"}}},
                          {"heading", {{"type", "string"}}}, {"page", {{"type", "integer"}}},
                          {"snippet", {{"type", "string"}}}, {"passage", {{"type", "string"}}}}}};

const json kChatResponse = {{"type", "object"},
                            {"properties",
                             {{"session_id", {{"type", "string"}}}, {"message_id", {{"type", "integer"}}},
                              {"answer", {{"type", "string"}}}, {"citations", {{"type", "array"}, {"items", kCitation}}},
                              {"answered", {{"type", "boolean"}}}, {"escalate", {{"type", "boolean"}}},
                              {"escalate_reason", {{"type", "string"}}}, {"confidence", {{"type", "number"}}},
                              {"query", {{"type", "string"}}}, {"mode", {{"type", "string"}}}}}};

void add_session_routes(WebState& s, std::shared_ptr<chat::ChatService> svc) {
  s.router.add({"GET", "/v1/chat/sessions", Role::USER, "chat", "The caller's chat sessions, newest first (?kb= filters).",
                nullptr, {{"type", "object"}},
                [svc](Ctx& c) {
                  auto list = svc->list_sessions(c.principal.name, c.query("kb"));
                  if (!list.ok()) return c.fail(list.error());
                  json arr = json::array();
                  for (const auto& x : *list) arr.push_back(session_json(x));
                  c.send({{"sessions", arr}});
                }});
  s.router.add({"GET", "/v1/chat/sessions/{id}", Role::USER, "chat", "One session of the caller with all its turns.",
                nullptr, {{"type", "object"}},
                [svc](Ctx& c) {
                  auto info = svc->get_session(c.principal.name, c.params["id"]);
                  if (!info.ok()) return c.fail(info.error());
                  auto turns = svc->turns(c.principal.name, c.params["id"]);
                  if (!turns.ok()) return c.fail(turns.error());
                  json j = session_json(*info);
                  j["turns"] = json::array();
                  for (const auto& t : *turns) j["turns"].push_back(turn_json(t));
                  c.send(j);
                }});
  s.router.add({"DELETE", "/v1/chat/sessions/{id}", Role::USER, "chat", "Delete one of the caller's sessions.", nullptr,
                {{"type", "object"}},
                [svc](Ctx& c) {
                  auto st = svc->delete_session(c.principal.name, c.params["id"]);
                  if (!st.ok()) return c.fail(st.error());
                  c.send({{"deleted", c.params["id"]}});
                }});
  s.router.add({"POST", "/v1/chat/feedback", Role::USER, "chat", "Thumbs up or down on an answer (message_id).",
                {{"type", "object"},
                 {"required", {"message_id", "rating"}},
                 {"properties", {{"message_id", {{"type", "integer"}}},
                                 {"rating", {{"description", "\"up\" | \"down\" | 1 | -1"}}},
                                 {"comment", {{"type", "string"}}}}}},
                {{"type", "object"}},
                [svc](Ctx& c) {
                  auto body = c.json_body();
                  if (!body.ok()) return c.fail(body.error());
                  chat::Feedback f;
                  f.owner = c.principal.name;
                  if (!body->contains("message_id") || !(*body)["message_id"].is_number_integer())
                    return c.fail(Error(ErrorCode::INVALID_INPUT, "field 'message_id' (integer) is required"));
                  f.message_id = (*body)["message_id"].get<int64_t>();
                  const json& r = (*body)["rating"];
                  if (r.is_string()) f.rating = r == "up" ? 1 : r == "down" ? -1 : 0;
                  else if (r.is_number_integer()) f.rating = r.get<int>();
                  f.comment = body->value("comment", "");
                  auto st = svc->feedback(f);
                  if (!st.ok()) return c.fail(st.error());
                  c.send({{"message_id", f.message_id}, {"rating", f.rating}});
                }});
}

void add_profile_routes(WebState& s, std::shared_ptr<chat::ChatService> svc) {
  const json profile_schema = {{"type", "object"},
                               {"properties", {{"kb", {{"type", "string"}}}, {"persona", {{"type", "string"}}},
                                               {"greeting", {{"type", "string"}}}, {"fallback", {{"type", "string"}}}}}};
  s.router.add({"GET", "/v1/chat/profiles/{kb}", Role::USER, "chat",
                "A knowledge base's support-bot profile: greeting, fallback message, persona.", nullptr, profile_schema,
                [svc](Ctx& c) {
                  auto p = svc->profile(c.params["kb"]);
                  if (!p.ok()) return c.fail(p.error());
                  c.send({{"kb", p->kb}, {"persona", p->persona}, {"greeting", p->greeting}, {"fallback", p->fallback}});
                }});
  s.router.add({"PUT", "/v1/chat/profiles/{kb}", Role::ADMIN, "chat",
                "Set a knowledge base's persona (system prompt), greeting and fallback message.", profile_schema,
                profile_schema, [svc](Ctx& c) {
                  auto body = c.json_body();
                  if (!body.ok()) return c.fail(body.error());
                  chat::Profile p{c.params["kb"], body->value("persona", ""), body->value("greeting", ""),
                                  body->value("fallback", "")};
                  auto st = svc->set_profile(p);
                  if (!st.ok()) return c.fail(st.error());
                  auto out = svc->profile(p.kb);
                  if (!out.ok()) return c.fail(out.error());
                  c.send({{"kb", out->kb}, {"persona", out->persona}, {"greeting", out->greeting}, {"fallback", out->fallback}});
                }});
}

}  // namespace

RouteSet chat_routes(std::shared_ptr<chat::ChatService> svc) {
  return [svc](WebState& s) {
    s.router.add({"POST", "/v1/chat", Role::USER, "chat",
                  "Ask a knowledge base: answer with citations, session_id, escalate; \"stream\": true for SSE.",
                  kChatRequest, kChatResponse, [svc](Ctx& c) {
                    bool stream = false;
                    auto req = parse_chat(c, &stream);
                    if (!req.ok()) return c.fail(req.error());
                    if (stream) return stream_answer(c, svc, std::move(*req));
                    auto r = svc->ask(*req);
                    if (!r.ok()) return c.fail(r.error());
                    if (r->blocked) {
                      json err = blocked_error(*r, c.request_id);
                      return c.fail(Error(ErrorCode::BLOCKED, err["error"]["message"]),
                                    {{"categories", r->blocked_categories}, {"direction", r->blocked_direction}});
                    }
                    c.send(response_json(*r));
                  }});
    add_session_routes(s, svc);
    add_profile_routes(s, svc);
  };
}

}  // namespace moerag::web
