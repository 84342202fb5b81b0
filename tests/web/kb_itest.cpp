// /v1/kbs against the real server: create a knowledge base, upload files
// (multipart) and JSON documents, search with filters, roles, deletion, and bad
// input (empty, binary, unknown format, invalid UTF-8, image-only PDF, 100 MB body).
#include <gtest/gtest.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/support/shared_server.h"
#include "tests/support/test_support.h"

using json = nlohmann::json;
using namespace moerag::testing;

namespace {

class KbServer : public SharedServerSuite<KbServer> {};

json body(const httplib::Result& r) { return r ? json::parse(r->body, nullptr, false) : json(); }

const char* kImagePdf =
    "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

}  // namespace

TEST_F(KbServer, UploadSearchDelete) {
  auto c = client();
  auto created = c.Post("/v1/kbs", R"({"name":"docs","description":"test"})", "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  EXPECT_EQ(c.Post("/v1/kbs", R"({"name":"docs"})", "application/json")->status, 409);

  httplib::MultipartFormDataItems items = {
      {"files", "# Install\n\nRun the installer and reboot the machine.", "install.md", "text/markdown"},
      {"files", "<html><body><script>evil()</script><h1>Billing</h1><p>Invoices are sent monthly.</p></body></html>",
       "billing.html", "text/html"},
      {"metadata", R"({"team":"support","tags":["faq"]})", "", ""}};
  auto up = c.Post("/v1/kbs/docs/documents", items);
  ASSERT_TRUE(up);
  ASSERT_EQ(up->status, 201) << up->body;
  EXPECT_EQ(body(up)["added"], 2);

  auto js = c.Post("/v1/kbs/docs/documents",
                   R"({"documents":[{"id":"faq-1","text":"Passwords can be reset from the login page.","metadata":{"year":2024}}]})",
                   "application/json");
  ASSERT_EQ(js->status, 201) << js->body;

  auto s = c.Post("/v1/kbs/docs/search", R"({"query":"how are invoices sent","k":3})", "application/json");
  ASSERT_EQ(s->status, 200) << s->body;
  auto ps = body(s)["passages"];
  ASSERT_FALSE(ps.empty());
  EXPECT_EQ(ps[0]["document_id"], "billing.html");
  EXPECT_EQ(ps[0]["heading_path"], "Billing");
  EXPECT_NE(ps[0]["snippet"].get<std::string>().find("<mark>"), std::string::npos);
  EXPECT_EQ(ps[0]["text"].get<std::string>().find("evil"), std::string::npos);

  auto f = c.Post("/v1/kbs/docs/search", R"({"query":"reset password","filters":[{"field":"year","op":"gte","value":2024}]})",
                  "application/json");
  ASSERT_EQ(body(f)["passages"].size(), 1u) << f->body;
  EXPECT_EQ(body(f)["passages"][0]["document_id"], "faq-1");

  auto doc = c.Get("/v1/kbs/docs/documents/install.md");
  ASSERT_EQ(doc->status, 200);
  EXPECT_EQ(body(doc)["metadata"]["team"], "support");
  ASSERT_EQ(c.Delete("/v1/kbs/docs/documents/billing.html")->status, 200);
  EXPECT_EQ(c.Get("/v1/kbs/docs/documents/billing.html")->status, 404);
  auto after = c.Post("/v1/kbs/docs/search", R"({"query":"invoices monthly billing"})", "application/json");
  for (auto& p : body(after)["passages"]) EXPECT_NE(p["document_id"], "billing.html");
  EXPECT_EQ(c.Post("/v1/kbs/nope/search", R"({"query":"x"})", "application/json")->status, 404);
  EXPECT_EQ(c.Post("/v1/kbs/docs/search", R"({"query":"x","k":0})", "application/json")->status, 400);
  auto list = c.Get("/v1/kbs");
  EXPECT_EQ(body(list)["kbs"][0]["documents"], 2);
}

TEST_F(KbServer, BadFilesGetPerFileErrors) {
  auto c = client();
  ASSERT_EQ(c.Post("/v1/kbs", R"({"name":"bad"})", "application/json")->status, 201);
  httplib::MultipartFormDataItems items = {
      {"files", "", "empty.txt", "text/plain"},
      {"files", std::string("\x7f" "ELF\0\0\x01", 7), "tool.txt", "application/octet-stream"},
      {"files", "hello", "slides.pptx", "application/octet-stream"},
      {"files", "caf\xe9 au lait", "latin1.txt", "text/plain"},
      {"files", kImagePdf, "scan.pdf", "application/pdf"},
      {"files", "A good file about gardening.", "good.txt", "text/plain"}};
  auto up = c.Post("/v1/kbs/bad/documents", items);
  ASSERT_TRUE(up);
  ASSERT_EQ(up->status, 201) << up->body;
  auto j = body(up);
  EXPECT_EQ(j["added"], 1);
  EXPECT_EQ(j["failed"], 5);
  std::map<std::string, std::string> why;
  for (auto& e : j["errors"]) why[e["source"]] = e["message"];
  EXPECT_NE(why["empty.txt"].find("empty"), std::string::npos);
  EXPECT_NE(why["tool.txt"].find("binary"), std::string::npos);
  EXPECT_NE(why["slides.pptx"].find("unsupported"), std::string::npos);
  EXPECT_NE(why["latin1.txt"].find("UTF-8"), std::string::npos);
  EXPECT_NE(why["scan.pdf"].find("no text layer"), std::string::npos);

  // Only bad files: a 400 that still lists each file.
  httplib::MultipartFormDataItems only_bad = {{"files", "", "empty.txt", "text/plain"}};
  auto r = c.Post("/v1/kbs/bad/documents", only_bad);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_EQ(body(r)["error"]["errors"].size(), 1u);

  // 100 MB: refused with 413 before it reaches the parser; the server lives on.
  std::string big(100u << 20, 'a');
  httplib::MultipartFormDataItems huge = {{"files", big, "huge.txt", "text/plain"}};
  auto h = c.Post("/v1/kbs/bad/documents", huge);
  if (h) EXPECT_EQ(h->status, 413);
  auto alive = client().Get("/healthz");
  ASSERT_TRUE(alive);
  EXPECT_EQ(alive->status, 200);
}
