// bench_retrieval: ingest throughput (chunks/s, built-in embedder) and search
// latency p50/p99 at 10k and 100k chunks, hybrid beside its lexical-only and
// dense-only parts (the baseline, measured in the same run). Synthetic Zipfian
// English text, one ~150-token chunk per document. `--json` prints JSON too.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/hash.h"
#include "retrieval/retriever.h"

using namespace moerag;
using namespace moerag::retrieval;
using Clock = std::chrono::steady_clock;

namespace {

// Pseudo-words over a fixed alphabet; word i appears with probability ~ 1/(i+1).
struct Corpus {
  std::vector<std::string> vocab;
  std::discrete_distribution<int> zipf;
  std::mt19937 rng{42};

  Corpus() {
    std::mt19937 g(7);
    const char* syl[] = {"ka", "lo", "mi", "ren", "to", "sa", "vel", "du", "ne", "ri", "po", "an", "gor", "te", "lu", "fi"};
    std::vector<double> w;
    for (int i = 0; i < 30000; ++i) {
      std::string s;
      int n = 1 + static_cast<int>(g() % 3);
      for (int k = 0; k < n; ++k) s += syl[g() % 16];
      vocab.push_back(s + std::to_string(i % 97));
      w.push_back(1.0 / (i + 1));
    }
    zipf = std::discrete_distribution<int>(w.begin(), w.end());
  }
  std::string text(int n_words) {
    std::string s;
    for (int i = 0; i < n_words; ++i) {
      s += vocab[zipf(rng)];
      s += (i % 15 == 14) ? ". " : " ";
    }
    return s;
  }
};

double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

struct Row {
  int64_t n_chunks;
  double ingest_chunks_per_s;
  double p50[3], p99[3];  // hybrid, lexical, dense (ms)
};

Row run(int64_t n_docs, Corpus& corpus) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("bench-retrieval-" + random_hex(4));
  fs::create_directories(dir);
  auto db = sql::Database::open((dir / "moerag.db").string());
  auto r = std::move(Retriever::create(*db, RetrievalOptions{})).value();
  (void)r->create_kb({0, "bench"});
  std::vector<std::string> docs;
  Row row{};
  auto t0 = Clock::now();
  int64_t chunks = 0;
  for (int64_t b = 0; b < n_docs; b += 2000) {
    std::vector<DocumentInput> in;
    for (int64_t i = b; i < std::min(n_docs, b + 2000); ++i) {
      DocumentInput d;
      d.id = "d" + std::to_string(i);
      d.source = d.id + ".txt";
      d.content = corpus.text(150);
      if (docs.size() < 400) docs.push_back(d.content);
      in.push_back(std::move(d));
    }
    auto rep = r->ingest("bench", in);
    if (!rep.ok()) {
      std::fprintf(stderr, "ingest failed: %s\n", rep.error().message.c_str());
      std::exit(1);
    }
    chunks += rep->n_chunks;
  }
  (void)r->flush();
  row.n_chunks = chunks;
  row.ingest_chunks_per_s = chunks / std::chrono::duration<double>(Clock::now() - t0).count();
  // Queries: 6 consecutive words from a document, as a user would half-remember them.
  std::vector<std::string> queries;
  std::mt19937 g(3);
  for (int i = 0; i < 300; ++i) {
    const auto& d = docs[g() % docs.size()];
    size_t start = g() % (d.size() / 2);
    start = d.find(' ', start) + 1;
    size_t end = start;
    for (int w = 0; w < 6 && end != std::string::npos; ++w) end = d.find(' ', end + 1);
    queries.push_back(d.substr(start, end == std::string::npos ? std::string::npos : end - start));
  }
  SearchMode modes[3] = {SearchMode::HYBRID, SearchMode::LEXICAL, SearchMode::DENSE};
  for (int m = 0; m < 3; ++m) {
    std::vector<double> ms;
    for (size_t i = 0; i < queries.size(); ++i) {
      SearchRequest req;
      req.kb = "bench";
      req.query = queries[i];
      req.mode = modes[m];
      auto t = Clock::now();
      auto res = r->search(req);
      double e = std::chrono::duration<double, std::milli>(Clock::now() - t).count();
      if (i >= 20) ms.push_back(e);  // the first searches warm caches
      if (!res.ok()) std::fprintf(stderr, "search failed: %s\n", res.error().message.c_str());
    }
    row.p50[m] = pct(ms, 0.5);
    row.p99[m] = pct(ms, 0.99);
  }
  r.reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  bool json = argc > 1 && std::strcmp(argv[1], "--json") == 0;
  std::vector<int64_t> sizes = {10000, 100000};
  if (argc > 1 && std::strcmp(argv[argc - 1], "--small") == 0) sizes = {2000};
  Corpus corpus;
  std::vector<Row> rows;
  std::printf("%-9s %14s %22s %22s %22s\n", "chunks", "ingest chunk/s", "hybrid p50/p99 ms", "lexical p50/p99 ms",
              "dense p50/p99 ms");
  for (int64_t n : sizes) {
    rows.push_back(run(n, corpus));
    const auto& x = rows.back();
    std::printf("%-9lld %14.0f %13.2f / %6.2f %13.2f / %6.2f %13.2f / %6.2f\n", static_cast<long long>(x.n_chunks),
                x.ingest_chunks_per_s, x.p50[0], x.p99[0], x.p50[1], x.p99[1], x.p50[2], x.p99[2]);
    std::fflush(stdout);
  }
  if (json) {
    std::printf("[");
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& x = rows[i];
      std::printf("%s{\"chunks\":%lld,\"ingest_chunks_per_s\":%.0f,\"hybrid_p50_ms\":%.3f,\"hybrid_p99_ms\":%.3f,"
                  "\"lexical_p50_ms\":%.3f,\"lexical_p99_ms\":%.3f,\"dense_p50_ms\":%.3f,\"dense_p99_ms\":%.3f}",
                  i ? "," : "", static_cast<long long>(x.n_chunks), x.ingest_chunks_per_s, x.p50[0], x.p99[0],
                  x.p50[1], x.p99[1], x.p50[2], x.p99[2]);
    }
    std::printf("]\n");
  }
  return 0;
}
