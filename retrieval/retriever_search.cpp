// Search: BM25 over FTS5 and inner product over the KB's vector index, both with
// the metadata/access filter applied inside, fused by weighted reciprocal rank;
// passages are loaded from SQLite (a chunk deleted meanwhile simply drops out).
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "core/text.h"
#include "retrieval/analyzer.h"
#include "retrieval/retriever_impl.h"

namespace moerag::retrieval {
namespace {

struct Candidate {
  int64_t id;
  double lexical = 0, dense = 0, fused = 0;
  int lexical_rank = 0, dense_rank = 0;
};

}  // namespace

Result<std::vector<Passage>> Retriever::search(const SearchRequest& req) {
  auto& I = *impl_;
  if (req.k < 1 || req.k > 1000) return Error(ErrorCode::INVALID_INPUT, "k must be 1..1000");
  if (text::trim(req.query).empty()) return Error(ErrorCode::INVALID_INPUT, "query is empty");
  MOERAG_ASSIGN_OR_RETURN(auto c, I.db->lease());
  // Every change of a KB's chunks bumps its generation, so the chunk count (a scan)
  // is taken once per generation, not per search.
  MOERAG_ASSIGN_OR_RETURN(auto row, store::find_kb_uncounted(*c, req.kb));
  const int64_t kb_id = row.kb.id;
  MOERAG_ASSIGN_OR_RETURN(auto filter, store::compile_filter(req.filters, req.access));
  const bool filtered = !filter.sql.empty();
  int n_cand = std::max(I.options.candidates, req.one_per_document ? req.k * 3 : req.k);

  std::unordered_map<int64_t, Candidate> cands;
  auto cand = [&](int64_t id) -> Candidate& {
    auto [it, fresh] = cands.try_emplace(id);
    if (fresh) it->second.id = id;
    return it->second;
  };
  double wl = req.mode == SearchMode::DENSE ? 0 : row.kb.lexical_weight;
  double wd = req.mode == SearchMode::LEXICAL ? 0 : row.kb.dense_weight;
  if (req.mode == SearchMode::LEXICAL) wl = 1;
  if (req.mode == SearchMode::DENSE) wd = 1;

  if (wl > 0) {
    // Score the rare terms; the commonest ones cost time in proportion to their
    // postings but weigh little (see prune_common_terms).
    auto terms = query_terms(req.query, I.options.stem_english);
    MOERAG_ASSIGN_OR_RETURN(auto df, store::term_df(*c, kb_id, terms));
    int64_t n_chunks;
    {
      auto st = I.state(kb_id);
      std::lock_guard lock(st->count_mu);
      if (st->counted_generation != row.generation) {
        MOERAG_ASSIGN_OR_RETURN(st->n_chunks, store::count_chunks(*c, kb_id));
        st->counted_generation = row.generation;
      }
      n_chunks = st->n_chunks;
    }
    auto common = static_cast<int64_t>(I.options.lexical_common_share * static_cast<double>(n_chunks));
    std::vector<std::string> kept;
    for (size_t i : prune_common_terms(df, I.options.lexical_max_postings, common)) kept.push_back(terms[i]);
    MOERAG_ASSIGN_OR_RETURN(auto hits, store::lexical(*c, kb_id, fts_match(kept), filter, n_cand));
    for (size_t r = 0; r < hits.size(); ++r) {
      auto& x = cand(hits[r].first);
      x.lexical = hits[r].second;
      x.lexical_rank = static_cast<int>(r + 1);
    }
  }
  if (wd > 0) {
    std::unordered_set<int64_t> allowed;
    if (filtered) {
      MOERAG_ASSIGN_OR_RETURN(allowed, store::allowed_chunks(*c, kb_id, filter));
    }
    auto st = I.state(kb_id);
    // Bring the index up to date first (exclusive), then search under a shared lock.
    {
      std::shared_lock<std::shared_mutex> rl(st->mu);
      bool stale = !st->index;
      if (!stale) {
        MOERAG_ASSIGN_OR_RETURN(int64_t gen, store::generation(*c, kb_id));
        stale = gen != st->generation;
      }
      rl.unlock();
      if (stale) {
        std::unique_lock<std::shared_mutex> wl_(st->mu);
        MOERAG_TRY(I.sync(*c, kb_id, *st));
      }
    }
    std::shared_lock<std::shared_mutex> rl(st->mu);
    if (st->index && st->index->size() > 0) {
      MOERAG_ASSIGN_OR_RETURN(auto qv, st->embedder->embed({req.query}));
      MOERAG_ASSIGN_OR_RETURN(auto hits, st->index->search(qv.data(), n_cand, filtered ? &allowed : nullptr));
      for (size_t r = 0; r < hits.size(); ++r) {
        auto& x = cand(hits[r].first);
        x.dense = hits[r].second;
        x.dense_rank = static_cast<int>(r + 1);
      }
    }
  }

  std::vector<Candidate> ranked;
  ranked.reserve(cands.size());
  const double k0 = I.options.rrf_k;
  for (auto& [id, x] : cands) {
    if (req.mode == SearchMode::LEXICAL) x.fused = x.lexical;
    else if (req.mode == SearchMode::DENSE) x.fused = x.dense;
    else x.fused = (x.lexical_rank ? wl / (k0 + x.lexical_rank) : 0) + (x.dense_rank ? wd / (k0 + x.dense_rank) : 0);
    ranked.push_back(x);
  }
  std::sort(ranked.begin(), ranked.end(), [](const Candidate& a, const Candidate& b) {
    return a.fused != b.fused ? a.fused > b.fused : a.id < b.id;
  });

  std::vector<Passage> out;
  std::unordered_set<std::string> seen_docs;
  for (const auto& x : ranked) {
    if (static_cast<int>(out.size()) >= req.k) break;
    MOERAG_ASSIGN_OR_RETURN(auto p, store::load_passage(*c, x.id));
    if (!p) continue;  // deleted after the index was searched
    if (req.one_per_document && !seen_docs.insert(p->document_id).second) continue;
    p->score = x.fused;
    p->lexical_rank = x.lexical_rank;
    p->dense_rank = x.dense_rank;
    p->snippet = make_snippet(p->text, req.query, I.options.stem_english, static_cast<size_t>(I.options.snippet_chars));
    out.push_back(std::move(*p));
  }
  return out;
}

}  // namespace moerag::retrieval
