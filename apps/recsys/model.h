// The fused meta-path model: one view per signal (skip-gram embeddings per
// meta-path, I-U-I path counts, U-I-A-I attribute path counts, popularity). Each
// view's scores are calibrated per user (z-scores over the whole catalogue) and
// fused with per-view gains times an attention over views computed from user
// features, both fitted on each user's held-out latest interactions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "apps/recsys/dataset.h"
#include "apps/recsys/graph.h"
#include "apps/recsys/recsys.h"

namespace moerag::recsys {

enum class ViewKind { EMBEDDING = 0, ITEM_CF = 1, CONTENT = 2, POPULARITY = 3 };

/// One scoring view of the fused model.
struct View {
  std::string name;          ///< "emb:U-I-U", "paths:I-U-I", "paths:U-I-A-I", "popularity"
  ViewKind kind = ViewKind::EMBEDDING;
  std::string meta_path;     ///< the meta-path it comes from
  int dim = 0;               ///< embedding size (EMBEDDING only)
  std::vector<float> item_emb;   ///< [n_items, dim] unit rows (zero row = unseen item)
  std::vector<float> user_emb;   ///< [n_users, dim] unit rows, empty when the path has no U
  std::vector<float> attr_mean;  ///< [n_attrs, dim] mean item vector per attribute (cold items)
  std::vector<float> mean;       ///< [dim] mean of the non-zero item rows (calibration)
  std::vector<float> cov;        ///< [dim, dim] their covariance (calibration)
};

/// One view's figures on the fit holdout (the validation split carved from the
/// training data), recorded by train_model: the view alone, and its fitted weight.
struct ViewFit {
  std::string name;       ///< view name, or "fused"
  double recall20 = 0;    ///< Recall@20 on the holdout, ranking the candidate pool
  double ndcg20 = 0;      ///< NDCG@20 likewise
  double gain = 0;        ///< fitted gain (0 = view switched off)
};

/// Number of user features feeding the attention: bias, log history length, mean popularity.
constexpr int kFeatures = 3;

/// A trained model. Indexes refer to the Dataset it was trained on; rows beyond
/// n_items/n_users (added later) are handled as cold items/users.
struct Model {
  int64_t version = 0;
  std::string trained_at;
  std::vector<std::string> meta_paths;
  std::vector<std::string> item_ids;  ///< [n_items] ids at training time (checked on load)
  std::vector<std::string> user_ids;  ///< [n_users]
  std::vector<View> views;
  // I-U-I path-count neighbours: item i's are nb_idx/nb_sim[nb_off[i] .. nb_off[i+1]).
  std::vector<int64_t> nb_off;  ///< [n_items + 1]
  std::vector<int32_t> nb_idx;  ///< [nnz]
  std::vector<float> nb_sim;    ///< [nnz] cosine of the items' user sets
  std::vector<float> attr_idf;  ///< [n_attrs] log(n_items / items with the attribute)
  std::vector<float> popularity;  ///< [n_items] log(1+count) / log(1+max count)
  std::vector<float> attention;   ///< [n_views, kFeatures] attention logits' weights
  std::vector<float> gain;        ///< [n_views] weight of each view's calibrated score
  std::vector<int32_t> ref_items; ///< [<= 4096] uniform item sample: calibration of the CONTENT view
  float pop_mean = 0, pop_sd = 1; ///< moments of `popularity` over the catalogue
  std::vector<ViewFit> fit;       ///< per-view and fused figures on the fit holdout
  double half_life_days = 365;
  double train_seconds = 0;

  int32_t n_items() const { return static_cast<int32_t>(item_ids.size()); }
  int32_t n_views() const { return static_cast<int32_t>(views.size()); }
};

/// Per-request view of a user: decayed history, embedding-view query vectors,
/// attribute profile, I-U-I path counts, per-view calibration, attention weights.
struct UserProfile {
  std::vector<std::pair<int32_t, float>> history;  ///< (item, weight), weights sum to 1
  std::vector<std::vector<float>> query;           ///< [n_views][dim] (EMBEDDING views)
  std::vector<std::pair<int32_t, float>> attrs;    ///< attribute profile (idf-weighted)
  float attr_norm = 0;
  std::vector<std::pair<int32_t, float>> cf;       ///< I-U-I path-count scores, sorted by item (sparse)
  std::vector<float> mu, inv_sd;                   ///< [n_views] z-score calibration of each view
  float features[kFeatures] = {1, 0, 0};
  std::vector<float> attention;                    ///< [n_views] softmax weights
};

/// Which views train_model builds.
struct ModelPlan {
  bool embeddings = true;    ///< one EMBEDDING view per meta-path
  bool path_counts = true;   ///< ITEM_CF and CONTENT views
  bool popularity = true;
  bool fit_fusion = true;    ///< fit gains and attention on a holdout; else equal weights
};

/// Trains a model on `data`. The latest holdout_fraction of each user's history is
/// held out: views are built without it and the fusion is fitted on it; then every
/// view is rebuilt on all of `data` with the fitted fusion kept.
Result<Model> train_model(const Dataset& data, const RecsysOptions& o, const ModelPlan& plan,
                          const ProgressFn& progress = nullptr);

/// The user's profile from their history in `data` (fold-in: no retraining needed).
UserProfile make_profile(const Model& m, const Dataset& data, int32_t user);
/// A profile from an explicit history (user = -1 for none: similar items, cold users).
UserProfile make_profile_from(const Model& m, const Dataset& data, const std::vector<HistoryEntry>& history,
                              int32_t user);
/// Per-view calibrated scores (z-scores) of some items: out [items.size(), n_views].
void candidate_view_scores(const Model& m, const Dataset& data, const UserProfile& p,
                           const std::vector<int32_t>& items, std::vector<float>& out);
/// The item's vector in an EMBEDDING view (attribute mean for cold items); size dim.
std::vector<float> item_vector(const Model& m, const View& v, const Dataset& data, int32_t item);
/// Per-view calibrated scores for every item of `data`: out [n_views, n_items].
void dense_view_scores(const Model& m, const Dataset& data, const UserProfile& p, std::vector<float>& out);
/// Fused score from per-view calibrated scores s [n_views]: sum of attention * gain * s.
float fuse(const Model& m, const UserProfile& p, const float* s);
/// Fused scores for all items: [n_items].
std::vector<float> fused_scores(const Model& m, const Dataset& data, const UserProfile& p);

/// Fits gains and attention on held-out items (see fusion.cpp); fills m.gain,
/// m.attention and m.fit. holdout: [n_users] items each user went on to interact with.
void fit_fusion(Model& m, const Dataset& fit, const std::vector<std::vector<int32_t>>& holdout, const RecsysOptions& o);
/// Calibration moments of the model's views (View::mean/cov, pop_mean/sd, ref_items).
void compute_calibration(Model& m, uint64_t seed);

/// Writes the model to path atomically (temp file + rename).
Status save_model(const Model& m, const std::string& path);
Result<Model> load_model(const std::string& path);

}  // namespace moerag::recsys
