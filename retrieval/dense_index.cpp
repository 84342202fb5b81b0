// FAISS wrapper: every FAISS call and exception stays in this file.
#include "retrieval/dense_index.h"

#include <fcntl.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <faiss/IndexFlat.h>
#include <faiss/IndexIDMap.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include "core/thread_pool.h"
#include "engine/kernels/kernels.h"

namespace moerag::retrieval {
namespace {

faiss::IndexIDMap2* idmap(faiss::Index* i) { return static_cast<faiss::IndexIDMap2*>(i); }

// Large flat scans are split across the cores (workers sleep when idle: spin 0).
ThreadPool& scan_pool() {
  static const unsigned cores = std::thread::hardware_concurrency();
  static ThreadPool pool(cores > 1 ? cores - 1 : 1, std::chrono::microseconds(0));
  return pool;
}
constexpr int64_t kParallelScanRows = 32768;

}  // namespace

DenseIndex::DenseIndex(int dim, std::unique_ptr<faiss::Index> index) : dim_(dim), index_(std::move(index)) {}
DenseIndex::~DenseIndex() = default;

Result<std::unique_ptr<DenseIndex>> DenseIndex::create(int dim, const std::string& factory, int64_t n_expected,
                                                       int64_t large_at) {
  try {
    std::string f = n_expected >= large_at ? factory : "Flat";
    faiss::Index* inner = faiss::index_factory(dim, f.c_str(), faiss::METRIC_INNER_PRODUCT);
    auto* map = new faiss::IndexIDMap2(inner);
    map->own_fields = true;
    return std::unique_ptr<DenseIndex>(new DenseIndex(dim, std::unique_ptr<faiss::Index>(map)));
  } catch (const std::exception& e) {
    return Error(ErrorCode::INVALID_INPUT, "FAISS index factory '" + factory + "': " + e.what());
  }
}

Result<std::unique_ptr<DenseIndex>> DenseIndex::load(const std::string& path) {
  try {
    std::unique_ptr<faiss::Index> i(faiss::read_index(path.c_str()));
    if (!dynamic_cast<faiss::IndexIDMap2*>(i.get())) return Error(ErrorCode::IO, path + " is not an IndexIDMap2");
    int d = static_cast<int>(i->d);
    return std::unique_ptr<DenseIndex>(new DenseIndex(d, std::move(i)));
  } catch (const std::exception& e) {
    return Error(ErrorCode::IO, "cannot read vector index " + path + ": " + e.what());
  }
}

Status DenseIndex::save(const std::string& path) const {
  std::string tmp = path + ".tmp";
  try {
    faiss::write_index(index_.get(), tmp.c_str());
  } catch (const std::exception& e) {
    return Error(ErrorCode::IO, "cannot write vector index " + tmp + ": " + e.what());
  }
  int fd = ::open(tmp.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Error(ErrorCode::IO, "cannot rename " + tmp + " to " + path);
  return {};
}

Status DenseIndex::add(size_t n, const float* vecs, const int64_t* ids) {
  if (n == 0) return {};
  try {
    auto* map = idmap(index_.get());
    if (!map->index->is_trained) map->train(static_cast<faiss::Index::idx_t>(n), vecs);
    map->add_with_ids(static_cast<faiss::Index::idx_t>(n), vecs, ids);
  } catch (const std::exception& e) {
    return Error(ErrorCode::INTERNAL, std::string("FAISS add failed: ") + e.what());
  }
  return {};
}

void DenseIndex::remove(const std::vector<int64_t>& ids) {
  if (ids.empty()) return;
  faiss::IDSelectorBatch sel(ids.size(), ids.data());
  idmap(index_.get())->remove_ids(sel);
}

int64_t DenseIndex::size() const { return index_->ntotal; }

Result<std::vector<std::pair<int64_t, float>>> DenseIndex::search(const float* q, int k,
                                                                  const std::unordered_set<int64_t>* allowed) const {
  std::vector<std::pair<int64_t, float>> out;
  int64_t n = index_->ntotal;
  if (n == 0 || k <= 0) return out;
  // One query: an OpenMP team costs more than it saves (22 ms vs 1 ms at 2k vectors
  // on a busy machine). This sets the calling thread's team size only.
  omp_set_num_threads(1);
  try {
    const auto* map = idmap(index_.get());
    // A selective filter: score exactly the allowed vectors (reconstructed by id).
    if (allowed && static_cast<int64_t>(allowed->size()) * 4 <= n) {
      std::vector<float> v(dim_);
      for (int64_t id : *allowed) {
        if (!map->rev_map.count(id)) continue;
        map->reconstruct(id, v.data());
        float s = 0;
        for (int i = 0; i < dim_; ++i) s += v[i] * q[i];
        out.push_back({id, s});
      }
      size_t keep = std::min<size_t>(k, out.size());
      std::partial_sort(out.begin(), out.begin() + keep, out.end(),
                        [](const auto& a, const auto& b) { return a.second > b.second; });
      out.resize(keep);
      return out;
    }
    // A flat index (the default): one matrix-vector product over the stored vectors
    // with the engine's SIMD kernel on this thread (the packaged FAISS scores flat
    // indexes with its scalar reference loop, 5-10x slower; multi-threaded OpenBLAS
    // collapses under concurrent searches), then a top-k selection with the filter
    // applied in the same pass.
    if (const auto* flat = dynamic_cast<const faiss::IndexFlat*>(map->index)) {
      std::vector<float> scores(static_cast<size_t>(n));  // F32 [n]
      const engine::kernels::MatView m{engine::GgmlType::F32, reinterpret_cast<const uint8_t*>(flat->get_xb()), n, dim_,
                                       static_cast<size_t>(dim_) * sizeof(float)};
      engine::kernels::cpu::matmul(m, q, 1, scores.data(), n >= kParallelScanRows ? &scan_pool() : nullptr);
      std::vector<int64_t> rows;
      if (allowed) {
        for (int64_t i = 0; i < n; ++i)
          if (allowed->count(map->id_map[static_cast<size_t>(i)])) rows.push_back(i);
      } else {
        rows.resize(static_cast<size_t>(n));
        std::iota(rows.begin(), rows.end(), int64_t{0});
      }
      const size_t keep = std::min<size_t>(static_cast<size_t>(k), rows.size());
      auto better = [&](int64_t a, int64_t b) {
        const float sa = scores[static_cast<size_t>(a)], sb = scores[static_cast<size_t>(b)];
        return sa != sb ? sa > sb : a < b;
      };
      std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(keep), rows.end(), better);
      for (size_t i = 0; i < keep; ++i) out.push_back({map->id_map[static_cast<size_t>(rows[i])], scores[static_cast<size_t>(rows[i])]});
      return out;
    }
    // Otherwise widen the search until k allowed ids are found or everything was seen.
    for (int64_t want = allowed ? k * 4 : k;; want *= 4) {
      int64_t kk = std::min<int64_t>(want, n);
      std::vector<float> d(kk);
      std::vector<faiss::Index::idx_t> l(kk);
      index_->search(1, q, kk, d.data(), l.data());
      out.clear();
      for (int64_t i = 0; i < kk && static_cast<int>(out.size()) < k; ++i) {
        if (l[i] < 0) continue;
        if (allowed && !allowed->count(l[i])) continue;
        out.push_back({l[i], d[i]});
      }
      if (static_cast<int>(out.size()) >= k || kk >= n) break;
    }
  } catch (const std::exception& e) {
    return Error(ErrorCode::INTERNAL, std::string("FAISS search failed: ") + e.what());
  }
  return out;
}

}  // namespace moerag::retrieval
