// The vector index of one knowledge base: a FAISS index (Flat, or any factory
// string) inside an IndexIDMap2 keyed by chunk id, inner-product metric on
// normalised vectors, saved atomically (temp file + rename). Not thread-safe:
// the owner guards it (readers shared, writer exclusive).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/result.h"

namespace faiss {
struct Index;
}

namespace moerag::retrieval {

class DenseIndex {
 public:
  /// An empty index of `dim` dimensions. `factory` is a FAISS factory string
  /// ("Flat", "IVF1024,Flat", "HNSW32"); it is used once `n_expected` vectors reach
  /// `large_at`, below that a Flat index is used.
  static Result<std::unique_ptr<DenseIndex>> create(int dim, const std::string& factory, int64_t n_expected,
                                                    int64_t large_at);
  /// Reads an index written by save().
  static Result<std::unique_ptr<DenseIndex>> load(const std::string& path);
  ~DenseIndex();

  /// Writes to path + ".tmp", fsyncs, renames over `path`.
  Status save(const std::string& path) const;

  /// Adds vectors: vecs [n, dim], ids [n]. Trains first when the index needs it.
  Status add(size_t n, const float* vecs, const int64_t* ids);
  /// Removes these ids (absent ids are ignored).
  void remove(const std::vector<int64_t>& ids);
  int64_t size() const;
  int dim() const { return dim_; }

  /// Top-k (id, inner product), best first. `allowed` non-null restricts the search
  /// to those ids (exact scan over them, or widening searches when they are many).
  Result<std::vector<std::pair<int64_t, float>>> search(const float* query, int k,
                                                        const std::unordered_set<int64_t>* allowed) const;

 private:
  DenseIndex(int dim, std::unique_ptr<faiss::Index> index);
  int dim_;
  std::unique_ptr<faiss::Index> index_;  // faiss::IndexIDMap2
};

}  // namespace moerag::retrieval
