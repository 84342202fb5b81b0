// Knowledge-base commands: `ingest`, `search`, `kb list|create|delete` and
// `eval retrieval` (BEIR folders, or SQuAD-style JSON converted on the fly).
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli/common.h"
#include "core/hash.h"
#include "retrieval/beir.h"
#include "retrieval/settings.h"

namespace moerag::cli {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;
using namespace moerag::retrieval;

Result<std::shared_ptr<Retriever>> open(const config::Settings& s) {
  MOERAG_ASSIGN_OR_RETURN(auto db, open_main_db(s));
  return open_retriever(s, db);
}

Result<SearchMode> parse_mode(const std::string& m) {
  if (m == "hybrid") return SearchMode::HYBRID;
  if (m == "lexical") return SearchMode::LEXICAL;
  if (m == "dense") return SearchMode::DENSE;
  return Error(ErrorCode::INVALID_INPUT, "--mode must be hybrid, lexical or dense");
}

struct IngestArgs {
  std::string path, kb, metadata = "{}", owner, text_field = "text";
  std::vector<std::string> allowed;
  bool quiet = false;
};

int run_ingest(const SettingsFlags& flags, const IngestArgs& a) {
  auto s = flags.load();
  if (!s) return 2;
  auto r = open(*s);
  if (!r.ok()) return fail(r.error().message);
  if (!(*r)->get_kb(a.kb).ok()) {
    KnowledgeBase spec;
    spec.name = a.kb;
    auto k = (*r)->create_kb(spec);
    if (!k.ok()) return fail(k.error().message, 2);
    std::cerr << "created knowledge base '" << a.kb << "'\n";
  }
  IngestPathOptions o{a.metadata, a.owner, a.allowed, a.text_field};
  auto t0 = std::chrono::steady_clock::now();
  auto last = t0;
  auto progress = [&](const std::vector<std::string>& ids, size_t done, size_t total) {
    // One line per durable document: a crash after this line cannot lose it.
    if (!a.quiet)
      for (const auto& id : ids) std::cout << "ingested " << id << "\n";
    std::cout.flush();
    auto now = std::chrono::steady_clock::now();
    if (now - last > std::chrono::seconds(2)) {
      last = now;
      std::cerr << "[" << done << "/" << total << " files] "
                << std::chrono::duration<double>(now - t0).count() << " s\n";
    }
  };
  auto rep = (*r)->ingest_path(a.kb, a.path, o, progress);
  if (!rep.ok()) return fail(rep.error().message);
  for (const auto& e : rep->errors) std::cerr << "skipped " << e.source << ": " << e.message << "\n";
  std::cerr << std::fixed << std::setprecision(1) << "added " << rep->n_added << ", updated " << rep->n_updated
            << ", unchanged " << rep->n_skipped << ", failed " << rep->n_failed << "; " << rep->n_chunks
            << " chunks in " << rep->seconds << " s ("
            << (rep->seconds > 0 ? rep->n_chunks / rep->seconds : 0) << " chunks/s)\n";
  auto fl = (*r)->flush();
  if (!fl.ok()) return fail(fl.error().message);
  return rep->n_failed > 0 && rep->n_added + rep->n_updated + rep->n_skipped == 0 ? 1 : 0;
}

json passage_json(const Passage& p) {
  return {{"document_id", p.document_id}, {"source", p.source},      {"chunk_id", p.chunk_id},
          {"page", p.page},               {"position", p.position},  {"heading_path", p.heading_path},
          {"score", p.score},             {"lexical_rank", p.lexical_rank}, {"dense_rank", p.dense_rank},
          {"snippet", p.snippet},         {"text", p.text}};
}

void add_ingest(CLI::App& app) {
  auto* cmd = app.add_subcommand("ingest", "Add files or a folder (recursively) to a knowledge base");
  auto flags = std::make_shared<SettingsFlags>();
  auto a = std::make_shared<IngestArgs>();
  cmd->add_option("path", a->path, "File or folder: .txt .md .html .pdf .json .jsonl .csv")->required();
  cmd->add_option("--kb", a->kb, "Knowledge base (created when missing)")->required();
  cmd->add_option("--metadata", a->metadata, "JSON object stored with every document");
  cmd->add_option("--owner", a->owner, "Tenant / owner of the documents");
  cmd->add_option("--allow", a->allowed, "Roles or groups that may see the documents (repeatable; none = all)");
  cmd->add_option("--text-field", a->text_field, "json/jsonl/csv: field holding the text (default text)");
  cmd->add_flag("-q,--quiet", a->quiet, "Do not print one line per ingested document");
  flags->add_to(cmd, false);
  cmd->add_option("--embed-model", flags->embed_model, "GGUF embedding model (model.embed_path)");
  on_run(cmd, [flags, a] { return run_ingest(*flags, *a); });
}

void add_search(CLI::App& app) {
  auto* cmd = app.add_subcommand("search", "Search a knowledge base (hybrid BM25 + vectors)");
  auto flags = std::make_shared<SettingsFlags>();
  auto req = std::make_shared<SearchRequest>();
  auto mode = std::make_shared<std::string>("hybrid");
  auto as_json = std::make_shared<bool>(false);
  cmd->add_option("query", req->query, "What to look for")->required();
  cmd->add_option("--kb", req->kb, "Knowledge base")->required();
  cmd->add_option("-k,--k", req->k, "Passages to return (default 10)");
  cmd->add_option("--mode", *mode, "hybrid|lexical|dense");
  cmd->add_flag("--json", *as_json, "Print JSON");
  flags->add_to(cmd, false);
  cmd->add_option("--embed-model", flags->embed_model, "GGUF embedding model (model.embed_path)");
  on_run(cmd, [flags, req, mode, as_json] {
    auto s = flags->load();
    if (!s) return 2;
    auto m = parse_mode(*mode);
    if (!m.ok()) return fail(m.error().message, 2);
    req->mode = *m;
    auto r = open(*s);
    if (!r.ok()) return fail(r.error().message);
    auto res = (*r)->search(*req);
    if (!res.ok()) return fail(res.error().message);
    if (*as_json) {
      json arr = json::array();
      for (auto& p : *res) arr.push_back(passage_json(p));
      std::cout << json{{"passages", arr}}.dump(2) << "\n";
      return 0;
    }
    int i = 0;
    for (auto& p : *res) {
      std::cout << ++i << ". " << p.source << (p.page ? " p." + std::to_string(p.page) : "")
                << (p.heading_path.empty() ? "" : " — " + p.heading_path) << "  [" << p.score << "]\n   "
                << p.snippet << "\n";
    }
    return 0;
  });
}

void add_kb(CLI::App& app) {
  auto* grp = group(app, "kb", "List, create or delete knowledge bases");
  auto flags = std::make_shared<SettingsFlags>();
  auto* list = grp->add_subcommand("list", "List knowledge bases with their counts and the embedder of their index");
  auto list_json = std::make_shared<bool>(false);
  list->add_flag("--json", *list_json, "Print a JSON array");
  flags->add_to(list, false);
  list->add_option("--embed-model", flags->embed_model, "GGUF embedding model (model.embed_path)");
  on_run(list, [flags, list_json] {
    auto s = flags->load();
    if (!s) return 2;
    auto r = open(*s);
    if (!r.ok()) return fail(r.error().message);
    auto all = (*r)->list_kbs();
    if (!all.ok()) return fail(all.error().message);
    json arr = json::array();
    for (auto& k : *all) {
      if (*list_json) {
        arr.push_back({{"name", k.name}, {"description", k.description}, {"documents", k.n_documents},
                       {"chunks", k.n_chunks}, {"embedder", k.embedder}, {"embed_dim", k.embed_dim}});
        continue;
      }
      std::cout << k.name << "\t" << k.n_documents << " documents\t" << k.n_chunks << " chunks\t"
                << (k.embedder.empty() ? "no index yet" : k.embedder + " (" + std::to_string(k.embed_dim) + "-d)")
                << "\t" << k.description << "\n";
    }
    if (*list_json) std::cout << arr.dump(2) << "\n";
    return 0;
  });
  auto spec = std::make_shared<KnowledgeBase>();
  auto* create = grp->add_subcommand("create", "Create a knowledge base");
  create->add_option("name", spec->name, "Name: letters, digits, _ . -")->required();
  create->add_option("--description", spec->description, "What it holds");
  create->add_option("--lexical-weight", spec->lexical_weight, "Weight of BM25 in fusion (default 1)");
  create->add_option("--dense-weight", spec->dense_weight, "Weight of vectors in fusion (default 0.2)");
  flags->add_to(create, false);
  on_run(create, [flags, spec] {
    auto s = flags->load();
    if (!s) return 2;
    auto r = open(*s);
    if (!r.ok()) return fail(r.error().message);
    auto k = (*r)->create_kb(*spec);
    if (!k.ok()) return fail(k.error().message);
    std::cerr << "created knowledge base '" << k->name << "'\n";
    return 0;
  });
  auto name = std::make_shared<std::string>();
  auto* del = grp->add_subcommand("delete", "Delete a knowledge base, its documents and its index");
  del->add_option("name", *name, "Knowledge base")->required();
  flags->add_to(del, false);
  on_run(del, [flags, name] {
    auto s = flags->load();
    if (!s) return 2;
    auto r = open(*s);
    if (!r.ok()) return fail(r.error().message);
    auto st = (*r)->delete_kb(*name);
    if (!st.ok()) return fail(st.error().message);
    std::cerr << "deleted knowledge base '" << *name << "'\n";
    return 0;
  });
}

struct EvalArgs {
  std::string beir, squad, split = "test", run_out, keep_dir;
  int max_queries = 0;
  int query_offset = 0;
  bool tune = false;
  int threads = 0;
  double lexical_weight = 1.0, dense_weight = 0.2;
  int rrf_k = 0;
};

// Recall@5 of weighted reciprocal-rank fusion of the two lists (document level,
// as search fuses chunk lists) over a grid of rrf_k and dense weights, for tuning
// on queries that are not reported.
void print_fusion_grid(const std::map<std::string, std::vector<std::string>>& lex,
                       const std::map<std::string, std::vector<std::string>>& dense,
                       const std::map<std::string, std::map<std::string, int>>& qrels) {
  std::cout << "fusion grid (Recall@5 / MRR@10; lexical weight 1):\n  rrf_k \\ dense_w";
  const double weights[] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0};
  for (double w : weights) std::cout << std::setw(15) << w;
  std::cout << "\n";
  for (int k0 : {1, 2, 5, 10, 20, 60}) {
    std::cout << std::setw(18) << k0;
    for (double w : weights) {
      std::map<std::string, std::vector<std::string>> fused;
      for (const auto& [q, rel] : qrels) {
        std::map<std::string, double> score;
        auto add = [&](const std::map<std::string, std::vector<std::string>>& run, double wt) {
          auto it = run.find(q);
          if (it == run.end()) return;
          for (size_t r = 0; r < it->second.size(); ++r) score[it->second[r]] += wt / (k0 + r + 1.0);
        };
        add(lex, 1.0);
        add(dense, w);
        std::vector<std::pair<std::string, double>> v(score.begin(), score.end());
        std::stable_sort(v.begin(), v.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
        for (auto& [d, s] : v) fused[q].push_back(d);
      }
      auto m = score_run(fused, qrels);
      std::ostringstream cell;
      cell << std::fixed << std::setprecision(4) << m.recall5 << "/" << m.mrr10;
      std::cout << std::setw(15) << cell.str();
    }
    std::cout << "\n";
  }
}

int run_eval(const SettingsFlags& flags, const EvalArgs& a) {
  auto s = flags.load();
  if (!s) return 2;
  if (a.beir.empty() == a.squad.empty()) return fail("give exactly one of --beir DIR or --squad FILE", 2);
  std::string work = (fs::temp_directory_path() / ("moerag-eval-" + random_hex(6))).string();
  std::string dir = a.beir;
  if (!a.squad.empty()) {
    dir = work + "/beir";
    auto st = squad_to_beir(a.squad, dir);
    if (!st.ok()) return fail(st.error().message);
  }
  auto data = load_beir(dir, a.squad.empty() ? a.split : "test");
  if (!data.ok()) return fail(data.error().message);
  auto& qs = data->queries;
  qs.erase(qs.begin(), qs.begin() + std::min<size_t>(qs.size(), static_cast<size_t>(std::max(0, a.query_offset))));
  if (a.max_queries > 0 && qs.size() > static_cast<size_t>(a.max_queries)) qs.resize(a.max_queries);
  // A temporary data folder: the evaluation never touches the configured database.
  config::Settings tmp = *s;
  tmp.data_dir = work + "/data";
  if (a.rrf_k > 0) tmp.raw["retrieval"]["rrf_k"] = a.rrf_k;
  auto r = open(tmp);
  if (!r.ok()) return fail(r.error().message);
  KnowledgeBase spec;
  spec.name = "eval";
  spec.lexical_weight = a.lexical_weight;
  spec.dense_weight = a.dense_weight;
  if (auto k = (*r)->create_kb(spec); !k.ok()) return fail(k.error().message);
  auto t0 = std::chrono::steady_clock::now();
  auto rep = (*r)->ingest("eval", data->corpus);
  if (!rep.ok()) return fail(rep.error().message);
  double ingest_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cerr << "ingested " << rep->n_added << " documents (" << rep->n_chunks << " chunks) in " << ingest_s << " s; "
            << data->queries.size() << " queries\n";
  int threads = a.threads > 0 ? a.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::map<std::string, std::map<std::string, std::vector<std::string>>> lists;  // mode -> qid -> doc ids
  std::cout << std::fixed << std::setprecision(4) << "mode      nDCG@10  Recall@5  Recall@10  Recall@100  MRR@10   ms/query\n";
  for (auto [name, mode] : {std::pair{"lexical", SearchMode::LEXICAL}, std::pair{"dense", SearchMode::DENSE},
                            std::pair{"hybrid", SearchMode::HYBRID}}) {
    auto q0 = std::chrono::steady_clock::now();
    auto run = run_queries(**r, "eval", *data, mode, threads);
    if (!run.ok()) return fail(run.error().message);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - q0).count() /
                std::max<size_t>(1, data->queries.size()) * threads;
    std::map<std::string, std::vector<std::string>> ranked;
    for (auto& [q, list] : *run)
      for (auto& [d, sc] : list) ranked[q].push_back(d);
    std::map<std::string, std::map<std::string, int>> qrels;
    for (auto& [q, t] : data->queries) qrels[q] = data->qrels[q];
    auto m = score_run(ranked, qrels);
    if (mode != SearchMode::HYBRID) lists[name] = std::move(ranked);
    if (mode == SearchMode::DENSE && a.tune) print_fusion_grid(lists["lexical"], lists["dense"], qrels);
    std::cout << std::left << std::setw(9) << name << std::right << std::setw(8) << m.ndcg10 << std::setw(10)
              << m.recall5 << std::setw(11) << m.recall10 << std::setw(12) << m.recall100 << std::setw(8) << m.mrr10
              << std::setw(10) << std::setprecision(2) << ms << std::setprecision(4) << "\n";
    if (mode == SearchMode::HYBRID && !a.run_out.empty()) {
      auto st = write_trec_run(a.run_out, *run, "moerag-hybrid");
      if (!st.ok()) return fail(st.error().message);
    }
  }
  r->reset();
  std::error_code ec;
  fs::remove_all(work, ec);
  return 0;
}

void add_eval(CLI::App& app) {
  auto* grp = group(app, "eval", "Evaluate retrieval, recommendations, SQL");
  auto* cmd = grp->add_subcommand("retrieval", "nDCG@10, Recall@5/10/100, MRR@10 of lexical, dense and hybrid search");
  auto flags = std::make_shared<SettingsFlags>();
  auto a = std::make_shared<EvalArgs>();
  cmd->add_option("--beir", a->beir, "BEIR folder: corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv");
  cmd->add_option("--squad", a->squad, "SQuAD-style JSON (SQuAD, CMRC 2018): contexts = corpus, questions = queries");
  cmd->add_option("--split", a->split, "qrels split (default test)");
  cmd->add_option("--run-out", a->run_out, "Write the hybrid ranking as a TREC run file");
  cmd->add_option("--max-queries", a->max_queries, "Evaluate only the first N queries");
  cmd->add_option("--query-offset", a->query_offset, "Skip the first N queries (e.g. report on queries not tuned on)");
  cmd->add_flag("--tune", a->tune, "Also print Recall@5/MRR@10 of fusion over a grid of --rrf-k and --dense-weight");
  cmd->add_option("--threads", a->threads, "Concurrent searches (default: all cores)");
  cmd->add_option("--lexical-weight", a->lexical_weight, "Weight of BM25 in hybrid fusion (default 1)");
  cmd->add_option("--dense-weight", a->dense_weight, "Weight of vectors in hybrid fusion (default 0.2)");
  cmd->add_option("--rrf-k", a->rrf_k, "Reciprocal-rank fusion constant (default retrieval.rrf_k)");
  flags->add_to(cmd, false);
  cmd->add_option("--embed-model", flags->embed_model, "GGUF embedding model (model.embed_path)");
  on_run(cmd, [flags, a] { return run_eval(*flags, *a); });
}

RegisterCommand reg(30, [](CLI::App& app) {
  add_ingest(app);
  add_search(app);
  add_kb(app);
  add_eval(app);
});

}  // namespace
}  // namespace moerag::cli
