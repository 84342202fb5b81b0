// /v1/kbs routes: JSON in and out, multipart uploads for files, per-file errors
// in the ingestion report, access filters from the caller's role and key name.
#include "web/routes_kb.h"

#include "core/gate.h"

#include "web/routes.h"
#include "web/safety_gate.h"

namespace moerag::web {
namespace {

using namespace moerag::retrieval;

json kb_json(const KnowledgeBase& k) {
  return {{"name", k.name}, {"description", k.description}, {"lexical_weight", k.lexical_weight},
          {"dense_weight", k.dense_weight}, {"documents", k.n_documents}, {"chunks", k.n_chunks},
          {"created_at", k.created_at}, {"embedder", k.embedder}, {"embed_dim", k.embed_dim}};
}

json doc_json(const DocumentInfo& d) {
  return {{"id", d.id}, {"source", d.source}, {"content_hash", d.content_hash},
          {"metadata", json::parse(d.metadata_json, nullptr, false)}, {"owner", d.owner}, {"allowed", d.allowed},
          {"chunks", d.n_chunks}, {"pages", d.n_pages}, {"created_at", d.created_at}, {"updated_at", d.updated_at}};
}

json report_json(const IngestReport& r) {
  json errors = json::array();
  for (const auto& e : r.errors)
    errors.push_back({{"source", e.source}, {"code", error_code_name(e.code)}, {"message", e.message}});
  return {{"added", r.n_added}, {"updated", r.n_updated}, {"skipped", r.n_skipped}, {"failed", r.n_failed},
          {"chunks", r.n_chunks}, {"document_ids", r.document_ids}, {"errors", errors}, {"seconds", r.seconds}};
}

std::vector<std::string> string_list(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

// Inputs from a multipart upload: every file part is a document; optional form
// fields metadata (JSON object), owner, allowed (JSON array or comma list), text_field.
Result<std::vector<DocumentInput>> multipart_inputs(const httplib::Request& req) {
  auto field = [&](const std::string& k) { return req.has_file(k) ? req.get_file_value(k).content : std::string(); };
  std::string metadata = field("metadata"), owner = field("owner"), allowed = field("allowed"), text_field = field("text_field");
  std::vector<DocumentInput> out;
  for (const auto& [name, part] : req.files) {
    if (part.filename.empty()) continue;
    DocumentInput in;
    in.source = part.filename;
    in.content = part.content;
    in.metadata_json = metadata.empty() ? "{}" : metadata;
    in.owner = owner;
    if (!allowed.empty()) {
      auto j = json::parse(allowed, nullptr, false);
      if (j.is_array()) in.allowed = string_list(j);
      else in.allowed.push_back(allowed);
    }
    if (!text_field.empty()) in.text_field = text_field;
    out.push_back(std::move(in));
  }
  if (out.empty()) return Error(ErrorCode::INVALID_INPUT, "the multipart upload has no file parts");
  return out;
}

// A JSON document's format: the source's extension when it is a text format, else plain text.
std::string format_hint(const std::string& source) {
  std::string f;
  auto dot = source.find_last_of('.');
  if (dot != std::string::npos) f = source.substr(dot + 1);
  for (const char* ok : {"txt", "md", "html", "json", "jsonl", "csv"})
    if (f == ok) return f;
  return "txt";
}

// {"documents":[{id, source, text|content, format, metadata, owner, allowed}]} or one such object.
Result<std::vector<DocumentInput>> json_inputs(const json& body) {
  std::vector<json> docs;
  if (body.contains("documents") && body["documents"].is_array()) docs.assign(body["documents"].begin(), body["documents"].end());
  else docs.push_back(body);
  std::vector<DocumentInput> out;
  for (const auto& d : docs) {
    if (!d.is_object()) return Error(ErrorCode::INVALID_INPUT, "each document must be an object");
    DocumentInput in;
    in.id = d.value("id", "");
    in.source = d.value("source", in.id);
    std::string text = d.contains("text") && d["text"].is_string() ? d["text"].get<std::string>() : d.value("content", "");
    if (text.empty()) return Error(ErrorCode::INVALID_INPUT, "document '" + in.source + "' needs a non-empty 'text'");
    if (in.source.empty()) return Error(ErrorCode::INVALID_INPUT, "each document needs an 'id' or a 'source'");
    in.content = text;
    in.format = d.value("format", format_hint(in.source));
    in.metadata_json = d.contains("metadata") ? d["metadata"].dump() : "{}";
    in.owner = d.value("owner", "");
    if (d.contains("allowed")) in.allowed = string_list(d["allowed"]);
    out.push_back(std::move(in));
  }
  return out;
}

Access access_of(const Principal& p) {
  Access a;
  a.all = p.role == Role::ADMIN;
  a.tenant = p.name;
  a.groups = {role_name(p.role), p.name};
  return a;
}

Result<MetadataFilter> parse_filter(const json& f) {
  if (!f.is_object() || !f.contains("field") || !f["field"].is_string())
    return Error(ErrorCode::INVALID_INPUT, "each filter needs a string 'field'");
  MetadataFilter m;
  m.field = f["field"].get<std::string>();
  std::string op = f.value("op", "eq");
  static const std::map<std::string, MetadataFilter::Op> kOps = {
      {"eq", MetadataFilter::Op::EQ}, {"ne", MetadataFilter::Op::NE}, {"lt", MetadataFilter::Op::LT},
      {"lte", MetadataFilter::Op::LE}, {"gt", MetadataFilter::Op::GT}, {"gte", MetadataFilter::Op::GE},
      {"tag", MetadataFilter::Op::HAS_TAG}};
  auto it = kOps.find(op);
  if (it == kOps.end()) return Error(ErrorCode::INVALID_INPUT, "filter op '" + op + "' must be eq|ne|lt|lte|gt|gte|tag");
  m.op = it->second;
  if (!f.contains("value")) return Error(ErrorCode::INVALID_INPUT, "filter on '" + m.field + "' needs a 'value'");
  const auto& v = f["value"];
  m.numeric = v.is_number();
  m.value = v.is_string() ? v.get<std::string>() : v.dump();
  return m;
}

const json kSearchSchema = {
    {"type", "object"},
    {"required", {"query"}},
    {"properties",
     {{"query", {{"type", "string"}}},
      {"k", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}}},
      {"mode", {{"type", "string"}, {"enum", {"hybrid", "lexical", "dense"}}}},
      {"one_per_document", {{"type", "boolean"}}},
      {"filters", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}};

}  // namespace

RouteSet kb_routes(std::shared_ptr<Retriever> r, std::shared_ptr<safety::Filter> filter) {
  // Searches are CPU-bound: two per core run at once, the rest wait first come, first
  // served (as chat turns do, see core/gate.h), instead of sharing the cores round-robin.
  auto gate = std::make_shared<FifoGate>(FifoGate::per_core(2));
  return [r, filter, gate](WebState& s) {
    s.router.add({"GET", "/v1/kbs", Role::USER, "retrieval", "List knowledge bases.", nullptr, {{"type", "object"}},
                  [r](Ctx& c) {
                    auto all = r->list_kbs();
                    if (!all.ok()) return c.fail(all.error());
                    json arr = json::array();
                    for (auto& k : *all) arr.push_back(kb_json(k));
                    c.send({{"kbs", arr}});
                  }});
    s.router.add({"POST", "/v1/kbs", Role::ADMIN, "retrieval", "Create a knowledge base.",
                  {{"type", "object"},
                   {"required", {"name"}},
                   {"properties", {{"name", {{"type", "string"}}}, {"description", {{"type", "string"}}},
                                   {"lexical_weight", {{"type", "number"}}}, {"dense_weight", {{"type", "number"}}}}}},
                  {{"type", "object"}},
                  [r](Ctx& c) {
                    auto body = c.json_body();
                    if (!body.ok()) return c.fail(body.error());
                    if (!body->contains("name") || !(*body)["name"].is_string())
                      return c.fail(Error(ErrorCode::INVALID_INPUT, "field 'name' (string) is required"));
                    KnowledgeBase spec;
                    spec.name = (*body)["name"];
                    spec.description = body->value("description", "");
                    spec.lexical_weight = body->value("lexical_weight", 1.0);
                    spec.dense_weight = body->value("dense_weight", KnowledgeBase{}.dense_weight);
                    auto k = r->create_kb(spec);
                    if (!k.ok()) return c.fail(k.error());
                    c.send(kb_json(*k), 201);
                  }});
    s.router.add({"GET", "/v1/kbs/{kb}", Role::USER, "retrieval", "A knowledge base and its counts.", nullptr,
                  {{"type", "object"}}, [r](Ctx& c) {
                    auto k = r->get_kb(c.params["kb"]);
                    if (!k.ok()) return c.fail(k.error());
                    c.send(kb_json(*k));
                  }});
    s.router.add({"DELETE", "/v1/kbs/{kb}", Role::ADMIN, "retrieval", "Delete a knowledge base with its documents.",
                  nullptr, {{"type", "object"}}, [r](Ctx& c) {
                    auto st = r->delete_kb(c.params["kb"]);
                    if (!st.ok()) return c.fail(st.error());
                    c.send({{"deleted", c.params["kb"]}});
                  }});
    s.router.add({"POST", "/v1/kbs/{kb}/documents", Role::ADMIN, "retrieval",
                  "Add documents: multipart file upload, or JSON {documents:[{id, source, text, metadata, allowed}]}.",
                  {{"type", "object"}}, {{"type", "object"}}, [r](Ctx& c) {
                    Result<std::vector<DocumentInput>> inputs = Error(ErrorCode::INVALID_INPUT, "");
                    if (c.req.is_multipart_form_data()) {
                      inputs = multipart_inputs(c.req);
                    } else {
                      auto body = c.json_body();
                      if (!body.ok()) return c.fail(body.error());
                      inputs = json_inputs(*body);
                    }
                    if (!inputs.ok()) return c.fail(inputs.error());
                    auto rep = r->ingest(c.params["kb"], *inputs);
                    if (!rep.ok()) return c.fail(rep.error());
                    json j = report_json(*rep);
                    bool none_ok = rep->n_failed > 0 && rep->n_added + rep->n_updated + rep->n_skipped == 0;
                    if (none_ok) {
                      auto code = rep->errors.front().code;
                      return c.fail(Error(code, rep->errors.front().source + ": " + rep->errors.front().message),
                                    {{"errors", j["errors"]}});
                    }
                    c.send(j, rep->n_added > 0 ? 201 : 200);
                  }});
    s.router.add({"GET", "/v1/kbs/{kb}/documents", Role::USER, "retrieval", "List documents (?limit=&offset=).",
                  nullptr, {{"type", "object"}}, [r](Ctx& c) {
                    auto docs = r->list_documents(c.params["kb"], std::atoi(c.query("limit", "100").c_str()),
                                                  std::atoi(c.query("offset", "0").c_str()));
                    if (!docs.ok()) return c.fail(docs.error());
                    json arr = json::array();
                    for (auto& d : *docs) arr.push_back(doc_json(d));
                    c.send({{"documents", arr}});
                  }});
    s.router.add({"GET", "/v1/kbs/{kb}/documents/{id}", Role::USER, "retrieval", "One document's metadata.", nullptr,
                  {{"type", "object"}}, [r](Ctx& c) {
                    auto d = r->get_document(c.params["kb"], c.params["id"]);
                    if (!d.ok()) return c.fail(d.error());
                    c.send(doc_json(*d));
                  }});
    s.router.add({"DELETE", "/v1/kbs/{kb}/documents/{id}", Role::ADMIN, "retrieval",
                  "Delete a document from every index at once.", nullptr, {{"type", "object"}}, [r](Ctx& c) {
                    auto st = r->delete_document(c.params["kb"], c.params["id"]);
                    if (!st.ok()) return c.fail(st.error());
                    c.send({{"deleted", c.params["id"]}});
                  }});
    s.router.add({"POST", "/v1/kbs/{kb}/search", Role::USER, "retrieval",
                  "Ranked passages (document, page, score, highlighted snippet) for a query. The query is checked "
                  "by the safety filter's rules and the knowledge base's lists first (blocked: 422); passages are "
                  "returned as stored.",
                  kSearchSchema, {{"type", "object"}}, [r, filter, gate](Ctx& c) {
                    auto body = c.json_body();
                    if (!body.ok()) return c.fail(body.error());
                    SearchRequest req;
                    req.kb = c.params["kb"];
                    if (!body->contains("query") || !(*body)["query"].is_string())
                      return c.fail(Error(ErrorCode::INVALID_INPUT, "field 'query' (string) is required"));
                    req.query = (*body)["query"];
                    // Rules and lists only: a search reaches no model, and bare keywords
                    // ("reset password") are too short for the model's scores to mean much.
                    if (refuse_blocked_input(c, filter.get(), req.query, req.kb, /*rules_only=*/true)) return;
                    if (body->contains("k") && !(*body)["k"].is_number_integer())
                      return c.fail(Error(ErrorCode::INVALID_INPUT, "field 'k' must be an integer"));
                    req.k = body->value("k", 10);
                    std::string mode = body->value("mode", "hybrid");
                    if (mode == "lexical") req.mode = SearchMode::LEXICAL;
                    else if (mode == "dense") req.mode = SearchMode::DENSE;
                    else if (mode != "hybrid")
                      return c.fail(Error(ErrorCode::INVALID_INPUT, "mode must be hybrid, lexical or dense"));
                    req.one_per_document = body->value("one_per_document", false);
                    if (body->contains("filters")) {
                      if (!(*body)["filters"].is_array())
                        return c.fail(Error(ErrorCode::INVALID_INPUT, "'filters' must be an array"));
                      for (const auto& f : (*body)["filters"]) {
                        auto m = parse_filter(f);
                        if (!m.ok()) return c.fail(m.error());
                        req.filters.push_back(*m);
                      }
                    }
                    req.access = access_of(c.principal);
                    FifoGate::Pass pass = gate->enter();
                    auto res = r->search(req);
                    pass.leave();
                    if (!res.ok()) return c.fail(res.error());
                    json arr = json::array();
                    for (auto& p : *res)
                      arr.push_back({{"document_id", p.document_id}, {"source", p.source}, {"chunk_id", p.chunk_id},
                                     {"page", p.page}, {"position", p.position}, {"heading_path", p.heading_path},
                                     {"score", p.score}, {"lexical_rank", p.lexical_rank},
                                     {"dense_rank", p.dense_rank}, {"snippet", p.snippet}, {"text", p.text},
                                     {"metadata", json::parse(p.metadata_json, nullptr, false)}});
                    c.send({{"passages", arr}});
                  }});
  };
}

}  // namespace moerag::web
