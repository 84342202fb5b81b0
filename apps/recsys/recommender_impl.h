// Internal to apps/recsys: the Recommender's state shared by recommender.cpp
// (data, training, model swap) and serving.cpp (recommend, similar, explanations).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include <faiss/IndexFlat.h>

#include "apps/recsys/dataset.h"
#include "apps/recsys/graph.h"
#include "apps/recsys/model.h"
#include "apps/recsys/recsys.h"

namespace moerag::recsys {

/// A trained model ready to serve: the model plus a FAISS inner-product index over
/// the concatenated embedding views of every item (row id = item index).
struct Serving {
  Model model;
  std::vector<int> emb_views;                 ///< indexes of EMBEDDING views
  int dim_total = 0;                          ///< sum of their dims
  std::unique_ptr<faiss::IndexFlatIP> index;  ///< [n_indexed, dim_total]
};

struct Recommender::Impl {
  std::shared_ptr<sql::Database> db;
  std::string model_dir;
  RecsysOptions options;
  std::vector<MetaPath> paths;

  mutable std::shared_mutex mu;
  Dataset data;                     // guarded by mu
  std::shared_ptr<Serving> serving;  // guarded by mu (swapped whole; null = untrained)

  mutable std::mutex status_mu;
  RecsysStatus st;  // guarded by status_mu (training fields)
  std::mutex train_mu;  // one training at a time
  std::thread trainer;  // guarded by status_mu
  std::atomic<bool> training{false};

  /// Item vector in the FAISS space: [dim_total].
  std::vector<float> faiss_vector(const Serving& s, int32_t item) const;
  /// Adds items not yet in the index (new since training). Needs mu held exclusively.
  void extend_index(Serving& s);
  /// Builds a Serving from a model; items are taken from `data` (mu held).
  std::shared_ptr<Serving> make_serving(Model m);
};

}  // namespace moerag::recsys
