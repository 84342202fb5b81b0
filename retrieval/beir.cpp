// BEIR loading, SQuAD conversion, metrics and TREC output.
#include "retrieval/beir.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

namespace moerag::retrieval {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

Result<std::vector<json>> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error(ErrorCode::NOT_FOUND, "cannot open " + path);
  std::vector<json> rows;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = json::parse(line, nullptr, false);
    if (!j.is_object()) return Error(ErrorCode::INVALID_INPUT, path + ":" + std::to_string(n) + ": not a JSON object");
    rows.push_back(std::move(j));
  }
  return rows;
}

std::string str(const json& j, const char* k) {
  if (!j.contains(k)) return "";
  return j[k].is_string() ? j[k].get<std::string>() : j[k].dump();
}

}  // namespace

Result<BeirData> load_beir(const std::string& dir, const std::string& split) {
  BeirData d;
  std::string qrels_path = (fs::path(dir) / "qrels" / (split + ".tsv")).string();
  std::ifstream qin(qrels_path);
  if (!qin) return Error(ErrorCode::NOT_FOUND, "cannot open " + qrels_path);
  std::string line;
  while (std::getline(qin, line)) {
    std::istringstream ls(line);
    std::string q, doc, rel;
    if (!std::getline(ls, q, '\t') || !std::getline(ls, doc, '\t') || !std::getline(ls, rel, '\t')) continue;
    if (q == "query-id") continue;
    int r = std::atoi(rel.c_str());
    if (r > 0) d.qrels[q][doc] = r;
  }
  MOERAG_ASSIGN_OR_RETURN(auto corpus, read_jsonl((fs::path(dir) / "corpus.jsonl").string()));
  for (auto& row : corpus) {
    DocumentInput in;
    in.id = str(row, "_id");
    in.source = in.id;
    in.format = "txt";
    std::string title = str(row, "title");
    // The title becomes the first heading of the document, as BEIR prepends it.
    in.format = "md";
    in.content = (title.empty() ? "" : "# " + title + "\n\n") + str(row, "text");
    d.corpus.push_back(std::move(in));
  }
  MOERAG_ASSIGN_OR_RETURN(auto queries, read_jsonl((fs::path(dir) / "queries.jsonl").string()));
  for (auto& row : queries) {
    std::string id = str(row, "_id");
    if (d.qrels.count(id)) d.queries.push_back({id, str(row, "text")});
  }
  return d;
}

Status squad_to_beir(const std::string& squad_json, const std::string& out_dir) {
  std::ifstream in(squad_json);
  if (!in) return Error(ErrorCode::NOT_FOUND, "cannot open " + squad_json);
  json j = json::parse(in, nullptr, false);
  if (!j.is_object() || !j.contains("data")) return Error(ErrorCode::INVALID_INPUT, squad_json + " is not SQuAD-style JSON");
  std::error_code ec;
  fs::create_directories(fs::path(out_dir) / "qrels", ec);
  if (ec) return Error(ErrorCode::IO, "cannot create " + out_dir + ": " + ec.message());
  std::ofstream corpus(fs::path(out_dir) / "corpus.jsonl"), queries(fs::path(out_dir) / "queries.jsonl"),
      qrels(fs::path(out_dir) / "qrels" / "test.tsv");
  qrels << "query-id\tcorpus-id\tscore\n";
  int n_ctx = 0;
  for (auto& article : j["data"]) {
    std::string title = str(article, "title");
    for (auto& p : article["paragraphs"]) {
      std::string cid = "c" + std::to_string(n_ctx++);
      corpus << json{{"_id", cid}, {"title", title}, {"text", str(p, "context")}}.dump() << "\n";
      for (auto& qa : p["qas"]) {
        std::string qid = str(qa, "id");
        queries << json{{"_id", qid}, {"text", str(qa, "question")}}.dump() << "\n";
        qrels << qid << "\t" << cid << "\t1\n";
      }
    }
  }
  if (!corpus || !queries || !qrels) return Error(ErrorCode::IO, "cannot write BEIR files under " + out_dir);
  return {};
}

Metrics score_run(const std::map<std::string, std::vector<std::string>>& run,
                  const std::map<std::string, std::map<std::string, int>>& qrels) {
  Metrics m;
  for (const auto& [qid, rel] : qrels) {
    auto it = run.find(qid);
    static const std::vector<std::string> kEmpty;
    const auto& ranked = it == run.end() ? kEmpty : it->second;
    double dcg = 0, idcg = 0, rr = 0;
    int hit5 = 0, hit10 = 0, hit100 = 0;
    std::vector<int> gains;
    for (auto& [d, g] : rel) gains.push_back(g);
    std::sort(gains.rbegin(), gains.rend());
    for (size_t i = 0; i < gains.size() && i < 10; ++i) idcg += (std::pow(2.0, gains[i]) - 1) / std::log2(i + 2.0);
    for (size_t i = 0; i < ranked.size() && i < 100; ++i) {
      auto r = rel.find(ranked[i]);
      if (r == rel.end()) continue;
      if (i < 10) dcg += (std::pow(2.0, r->second) - 1) / std::log2(i + 2.0);
      if (i < 10 && rr == 0) rr = 1.0 / (i + 1);
      hit5 += i < 5, hit10 += i < 10, ++hit100;
    }
    double n_rel = static_cast<double>(rel.size());
    m.ndcg10 += idcg > 0 ? dcg / idcg : 0;
    m.recall5 += hit5 / n_rel;
    m.recall10 += hit10 / n_rel;
    m.recall100 += hit100 / n_rel;
    m.mrr10 += rr;
    ++m.n_queries;
  }
  if (m.n_queries) {
    double n = m.n_queries;
    m.ndcg10 /= n, m.recall5 /= n, m.recall10 /= n, m.recall100 /= n, m.mrr10 /= n;
  }
  return m;
}

Result<std::map<std::string, std::vector<std::pair<std::string, double>>>> run_queries(
    Retriever& r, const std::string& kb, const BeirData& data, SearchMode mode, int threads) {
  std::map<std::string, std::vector<std::pair<std::string, double>>> run;
  std::mutex mu;
  std::atomic<size_t> next{0};
  std::optional<Error> failure;
  auto work = [&] {
    for (size_t i = next++; i < data.queries.size(); i = next++) {
      SearchRequest req;
      req.kb = kb;
      req.query = data.queries[i].second;
      req.k = 100;
      req.mode = mode;
      req.one_per_document = true;
      auto res = r.search(req);
      std::lock_guard<std::mutex> l(mu);
      if (!res.ok()) {
        if (res.error().code != ErrorCode::INVALID_INPUT) failure = res.error();
        continue;
      }
      auto& list = run[data.queries[i].first];
      for (auto& p : *res) list.push_back({p.document_id, p.score});
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  if (failure) return *failure;
  return run;
}

Status write_trec_run(const std::string& path, const std::map<std::string, std::vector<std::pair<std::string, double>>>& run,
                      const std::string& tag) {
  std::ofstream out(path);
  if (!out) return Error(ErrorCode::IO, "cannot write " + path);
  for (const auto& [qid, list] : run)
    for (size_t i = 0; i < list.size(); ++i)
      out << qid << " Q0 " << list[i].first << " " << (i + 1) << " " << list[i].second << " " << tag << "\n";
  return out ? Status() : Status(Error(ErrorCode::IO, "cannot write " + path));
}

}  // namespace moerag::retrieval
