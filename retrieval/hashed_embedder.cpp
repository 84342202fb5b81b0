// Hashed n-gram embedder: features → IDF weights → signed sparse projection →
// L2 normalisation. Deterministic across runs and machines (FNV-1a + splitmix).
#include "retrieval/hashed_embedder.h"

#include <cmath>
#include <unordered_map>

#include "core/hash.h"
#include "core/text.h"
#include "retrieval/analyzer.h"

namespace moerag::retrieval {
namespace {

constexpr int kProjections = 4;  // dimensions each feature is added to

uint64_t splitmix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

uint64_t feature_hash(char kind, std::string_view s) { return fnv1a64(s, fnv1a64(std::string_view(&kind, 1))); }

}  // namespace

HashedEmbedder::HashedEmbedder(size_t dim, std::vector<uint32_t> df, int64_t n_docs) : dim_(dim) {
  uint64_t digest = 0;
  if (df.size() == kBuckets && n_docs > 0) {
    idf_.resize(kBuckets);
    for (uint32_t b = 0; b < kBuckets; ++b)
      idf_[b] = static_cast<float>(std::log((n_docs + 1.0) / (df[b] + 0.5)));
    digest = fnv1a64(std::string_view(reinterpret_cast<const char*>(df.data()), df.size() * sizeof(uint32_t)));
    digest ^= splitmix(static_cast<uint64_t>(n_docs));
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, "hashed-ngram-v1/d%zu/idf-%016llx", dim_, static_cast<unsigned long long>(digest));
  id_ = buf;
}

std::vector<std::pair<uint64_t, float>> HashedEmbedder::features(std::string_view text) {
  // Per feature: occurrence count and the weight of its kind; the vector weight is
  // kind_weight * (1 + log count) * idf, so frequent n-grams cannot swamp words.
  std::unordered_map<uint64_t, std::pair<int, float>> tf;
  auto add = [&](uint64_t h, float kind_weight) {
    auto& e = tf[h];
    ++e.first;
    e.second = kind_weight;
  };
  std::string prev;
  for (const auto& t : analyze(text, true)) {
    if (t.cjk) {
      add(feature_hash('b', t.term), 1.0f);
      // Each character too, so "数据" still meets "数据库" and single-character words.
      size_t i = 0;
      while (i < t.term.size()) {
        char32_t cp;
        size_t n = text::utf8_decode(t.term, i, cp);
        if (n == 0) n = 1;
        add(feature_hash('u', t.term.substr(i, n)), 0.3f);
        i += n;
      }
      continue;
    }
    if (is_stop_word(t.term)) continue;
    add(feature_hash('w', t.term), 1.0f);
    // Character trigrams of the bounded word give partial credit to morphological variants.
    std::string w = "<" + t.term + ">";
    if (t.term.size() >= 4)
      for (size_t i = 0; i + 3 <= w.size(); ++i) add(feature_hash('t', std::string_view(w).substr(i, 3)), 0.15f);
    if (!prev.empty()) add(feature_hash('p', prev + " " + t.term), 0.5f);
    prev = t.term;
  }
  std::vector<std::pair<uint64_t, float>> out;
  out.reserve(tf.size());
  for (auto& [h, e] : tf) out.push_back({h, e.second * (1.0f + std::log(static_cast<float>(e.first)))});
  return out;
}

void HashedEmbedder::count_df(std::string_view text, std::vector<uint32_t>& df) {
  std::unordered_map<uint32_t, bool> seen;
  for (auto& [h, w] : features(text)) {
    uint32_t b = static_cast<uint32_t>(h % kBuckets);
    if (seen.emplace(b, true).second) ++df[b];
  }
}

void HashedEmbedder::embed_one(std::string_view text, float* out) const {
  std::fill(out, out + dim_, 0.0f);
  for (auto& [h, fw] : features(text)) {
    float w = fw;
    if (!idf_.empty()) w *= std::max(0.0f, idf_[h % kBuckets]);
    if (w == 0) continue;
    for (int j = 0; j < kProjections; ++j) {
      uint64_t r = splitmix(h + static_cast<uint64_t>(j) * 0x632BE59BD9B4E019ULL);
      out[r % dim_] += (r >> 63) ? w : -w;
    }
  }
  double norm = 0;
  for (size_t i = 0; i < dim_; ++i) norm += static_cast<double>(out[i]) * out[i];
  if (norm <= 0) return;
  float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (size_t i = 0; i < dim_; ++i) out[i] *= inv;
}

Result<std::vector<float>> HashedEmbedder::embed(const std::vector<std::string>& texts) {
  std::vector<float> out(texts.size() * dim_);
  for (size_t i = 0; i < texts.size(); ++i) embed_one(texts[i], out.data() + i * dim_);
  return out;
}

}  // namespace moerag::retrieval
