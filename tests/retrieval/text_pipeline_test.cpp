// Analysis, chunking, parsing and the built-in embedder: the pieces under the
// Retriever, checked on small hand-made inputs (English, Chinese, HTML, PDF, CSV).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "retrieval/analyzer.h"
#include "retrieval/chunker.h"
#include "retrieval/hashed_embedder.h"
#include "retrieval/lsa_embedder.h"
#include "retrieval/parsers.h"

using namespace moerag::retrieval;

namespace {

// A one-page PDF whose page draws `text` with a standard font (or nothing).
std::string tiny_pdf(const std::string& text) {
  std::string content = text.empty() ? "" : "BT /F1 12 Tf 72 720 Td (" + text + ") Tj ET";
  std::string pdf = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                    "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
                    "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R"
                    "/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
                    "4 0 obj<</Length " + std::to_string(content.size()) + ">>stream\n" + content +
                    "\nendstream endobj\n"
                    "5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n";
  pdf += "trailer<</Root 1 0 R>>\n%%EOF\n";
  return pdf;
}

std::vector<std::string> terms(const std::string& s) {
  std::vector<std::string> out;
  for (auto& t : analyze(s, true)) out.push_back(t.term);
  return out;
}

}  // namespace

TEST(Analyzer, FoldsStemsAndCutsChineseIntoBigrams) {
  EXPECT_EQ(terms("Running DOGS, the Café!"), (std::vector<std::string>{"run", "dog", "the", "café"}));
  EXPECT_EQ(terms("北京大学"), (std::vector<std::string>{"北京", "京大", "大学"}));
  EXPECT_EQ(terms("我在ＡＢＣ公司"), (std::vector<std::string>{"我在", "abc", "公司"}));
  EXPECT_EQ(terms("一"), (std::vector<std::string>{"一"}));
  EXPECT_EQ(fts_query("What is the capital of France?", true), "\"capit\" OR \"franc\"");  // Porter stems
  EXPECT_EQ(fts_query("the of", true), "\"the\" OR \"of\"");  // only stop words: keep them
  EXPECT_EQ(count_tokens("hello world 你好"), 4);
}

TEST(Analyzer, SnippetHighlightsAndEscapes) {
  std::string s = make_snippet("Paris <b> is the capital of France. Lyon is not.", "capital france", true, 200);
  EXPECT_NE(s.find("<mark>capital</mark>"), std::string::npos) << s;
  EXPECT_NE(s.find("<mark>France</mark>"), std::string::npos) << s;
  EXPECT_NE(s.find("&lt;b&gt;"), std::string::npos) << s;
  std::string zh = make_snippet("北京是中国的首都。上海是最大的城市。", "中国首都", true, 100);
  EXPECT_NE(zh.find("<mark>中国</mark>"), std::string::npos) << zh;
  EXPECT_NE(zh.find("<mark>首都</mark>"), std::string::npos) << zh;
}

TEST(Chunker, FollowsHeadingsPagesAndBudgetWithOverlap) {
  ParsedDocument d;
  d.blocks.push_back({1, "Guide", 0});
  d.blocks.push_back({2, "Install", 0});
  std::string para;
  for (int i = 0; i < 30; ++i) para += "Sentence number " + std::to_string(i) + " has six words. ";
  d.blocks.push_back({0, para, 0});
  d.blocks.push_back({2, "Use", 0});
  d.blocks.push_back({0, "Short text.", 0});
  auto chunks = chunk_document(d, {40, 12});
  ASSERT_GE(chunks.size(), 5u);
  EXPECT_EQ(chunks[0].heading_path, "Guide > Install");
  EXPECT_EQ(chunks.back().heading_path, "Guide > Use");
  EXPECT_EQ(chunks.back().text, "Short text.");
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    EXPECT_LE(chunks[i].n_tokens, 40);
    EXPECT_EQ(chunks[i].position, static_cast<int>(i));
  }
  // Overlap: the second chunk begins with the tail (12 tokens) of the first.
  auto last_sentence = chunks[0].text.substr(chunks[0].text.rfind("Sentence"));
  EXPECT_LT(chunks[1].text.find(last_sentence), 60u) << chunks[1].text;

  ParsedDocument zh;
  std::string text;
  for (int i = 0; i < 40; ++i) text += "这是第" + std::to_string(i) + "个句子，它讲的是检索。";
  zh.blocks.push_back({0, text, 3});
  auto zc = chunk_document(zh, {60, 0});
  ASSERT_GT(zc.size(), 3u);
  for (auto& c : zc) {
    EXPECT_LE(c.n_tokens, 60);
    EXPECT_EQ(c.page, 3);
    EXPECT_NE(c.text.find("。"), std::string::npos);  // cut at sentence ends
  }
}

TEST(Parsers, HtmlDropsScriptsKeepsHeadings) {
  auto d = parse_html("<html><head><title>T</title><style>p{}</style></head><body><script>var x=1;</script>"
                      "<h1>Main</h1><p>First <b>para</b>.</p><h2>Sub</h2><ul><li>one</li><li>two</li></ul></body></html>");
  ASSERT_TRUE(d.ok());
  std::string all;
  for (auto& b : d->blocks) all += std::to_string(b.heading_level) + ":" + b.text + "|";
  EXPECT_EQ(all, "1:Main|0:First para.|2:Sub|0:one|0:two|");
}

TEST(Parsers, PdfPagesAndMissingTextLayer) {
  auto ok = parse_pdf(tiny_pdf("Hello from page one"));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  ASSERT_EQ(ok->n_pages, 1);
  ASSERT_FALSE(ok->blocks.empty());
  EXPECT_EQ(ok->blocks[0].page, 1);
  EXPECT_NE(ok->blocks[0].text.find("Hello from page one"), std::string::npos);
  auto empty = parse_pdf(tiny_pdf(""));
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("no text layer"), std::string::npos);
}

TEST(Parsers, BadInputsGetClearErrors) {
  auto err = [](const std::string& source, const std::string& content) {
    DocumentInput in;
    in.source = source;
    in.content = content;
    auto r = parse_input(in, 1000);
    return r.ok() ? std::string("ok") : r.error().message;
  };
  EXPECT_NE(err("a.txt", "").find("empty"), std::string::npos);
  EXPECT_NE(err("a.txt", std::string("ab\0cd", 5)).find("binary"), std::string::npos);
  EXPECT_NE(err("a.txt", "ok \xff\xfe bad").find("UTF-8"), std::string::npos);
  EXPECT_NE(err("a.docx", "x").find("unsupported format"), std::string::npos);
  EXPECT_NE(err("a.pdf", "not a pdf").find("not a PDF"), std::string::npos);
  EXPECT_NE(err("a.txt", std::string(2000, 'x')).find("limit"), std::string::npos);
  EXPECT_NE(err("a.json", "{\"text\": ").find("JSON"), std::string::npos);
}

TEST(Parsers, TablesGiveOneDocumentPerRow) {
  DocumentInput in;
  in.source = "faq.csv";
  in.content = "id,title,text,tag\nq1,First,\"Hello, \"\"world\"\"\nsecond line\",a\nq2,Second,Bye,b\n";
  auto r = parse_input(in, 1 << 20);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].id, "q1");
  EXPECT_NE((*r)[0].metadata_json.find("\"tag\":\"a\""), std::string::npos);
  EXPECT_EQ((*r)[0].doc.blocks[0].heading_level, 1);
  in.source = "rows.jsonl";
  in.content = "{\"body\":\"x\"}\n{\"body\":\"y\"}\n";
  in.text_field = "body";
  r = parse_input(in, 1 << 20);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[1].id, "rows.jsonl#2");
}

TEST(HashedEmbedder, SimilarTextsAreCloser) {
  HashedEmbedder e(384, {}, 0);
  auto v = e.embed({"the cat sat on the mat", "a cat was sitting on a mat", "stock markets fell sharply",
                    "数据库检索系统", "检索数据库", ""});
  ASSERT_TRUE(v.ok());
  auto dot = [&](int a, int b) {
    double s = 0;
    for (int i = 0; i < 384; ++i) s += (*v)[a * 384 + i] * (*v)[b * 384 + i];
    return s;
  };
  EXPECT_NEAR(dot(0, 0), 1.0, 1e-4);
  EXPECT_GT(dot(0, 1), dot(0, 2) + 0.2);
  EXPECT_GT(dot(3, 4), dot(3, 2) + 0.2);
  EXPECT_EQ(dot(5, 5), 0.0);
  EXPECT_NE(e.id(), HashedEmbedder(384, std::vector<uint32_t>(HashedEmbedder::kBuckets, 1), 10).id());
}

TEST(Analyzer, PruneCommonTermsKeepsRareTermsWithinBudget) {
  // df per term: two rare, two common, one absent.
  std::vector<int64_t> df = {5, 9000, 40, 0, 60000};
  EXPECT_EQ(prune_common_terms(df, 0, 0), (std::vector<size_t>{0, 1, 2, 3, 4}));   // exhaustive
  EXPECT_EQ(prune_common_terms(df, 100000, 100), (std::vector<size_t>{0, 1, 2, 4}));  // within budget: absent only
  EXPECT_EQ(prune_common_terms(df, 10000, 100), (std::vector<size_t>{0, 1, 2}));     // commonest dropped first
  EXPECT_EQ(prune_common_terms(df, 1000, 100), (std::vector<size_t>{0, 2}));
  EXPECT_EQ(prune_common_terms(df, 1000, 10000), (std::vector<size_t>{0, 1, 2}));    // 9000 is not common enough
  EXPECT_EQ(prune_common_terms({70000, 80000}, 10, 1), (std::vector<size_t>{0}));  // the rarest always stays
  EXPECT_EQ(fts_match({"capital", "france"}), "\"capital\" OR \"france\"");
  EXPECT_EQ(query_terms("What is the capital of France?", true), (std::vector<std::string>{"capit", "franc"}));  // Porter stems
}

TEST(LsaEmbedder, RanksAParaphraseAboveAnUnrelatedPassage) {
  // Two topics of random word draws: "automobile" shares no feature with either
  // passage, so only the latent part (co-occurrence) can connect it to the car one.
  std::vector<std::string> corpus;
  const std::vector<std::string> cars = {"car", "automobile", "engine", "wheel", "driver", "vehicle", "road", "garage",
                                         "brake", "tyre", "motor", "parking"};
  const std::vector<std::string> food = {"recipe", "oven", "bake", "flour", "sugar", "bread", "kitchen", "cake",
                                         "butter", "dough", "salt", "dinner"};
  std::mt19937 rng(5);
  for (int i = 0; i < 300; ++i) {
    const auto& topic = i % 2 ? cars : food;
    std::string t;
    for (int w = 0; w < 6; ++w) t += topic[rng() % topic.size()] + " ";
    corpus.push_back(t);
  }
  auto blob = LsaEmbedder::fit(corpus, 12);
  ASSERT_TRUE(LsaEmbedder::is_model(blob));
  auto e = LsaEmbedder::load(blob);
  ASSERT_TRUE(e.ok()) << e.error().message;
  const size_t d = (*e)->dim();
  EXPECT_EQ(d, 12u);
  auto v = (*e)->embed({"automobile", "the driver parked the car by the garage", "a cake recipe with flour and sugar"});
  ASSERT_TRUE(v.ok());
  auto dot = [&](int a, int b) {
    double s = 0;
    for (size_t i = 0; i < d; ++i) s += (*v)[a * d + i] * (*v)[b * d + i];
    return s;
  };
  EXPECT_NEAR(dot(1, 1), 1.0, 1e-4);
  EXPECT_GT(dot(0, 1), dot(0, 2) + 0.15);
  // The hashed embedder alone cannot tell them apart: no shared feature.
  HashedEmbedder h(384, {}, 0);
  auto hv = h.embed({"automobile", "the driver parked the car by the garage", "a cake recipe with flour and sugar"});
  double h01 = 0, h02 = 0;
  for (size_t i = 0; i < 384; ++i) h01 += (*hv)[i] * (*hv)[384 + i], h02 += (*hv)[i] * (*hv)[768 + i];
  EXPECT_LT(std::abs(h01 - h02), 0.2);
  EXPECT_FALSE(LsaEmbedder::load(blob.substr(0, blob.size() - 4)).ok());
  EXPECT_NE((*e)->id(), (*LsaEmbedder::load(LsaEmbedder::fit({corpus.begin(), corpus.begin() + 20}, 12)))->id());
}
