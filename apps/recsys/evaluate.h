// Offline evaluation: a per-user temporal split (each user's latest fraction of
// interactions is the test set), full ranking over all items not seen in training
// (Recall@20, NDCG@20) and the sampled protocol (HR@10, NDCG@10 against 99 random
// negatives), for the fused model and the baselines, tuned on a validation split
// carved from training only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "apps/recsys/import.h"
#include "apps/recsys/recsys.h"

namespace moerag::recsys {

struct EvalOptions {
  std::string protocol = "both";  ///< full | sampled | both
  double test_fraction = 0.2;     ///< each user's latest interactions held out for testing
  int sampled_negatives = 99;
  RecsysOptions model;            ///< the fused model's options (threads, seed, meta-paths ...)
};

/// One method's figures; -1 where the protocol was not run.
struct MethodResult {
  std::string name;
  double recall20 = -1, ndcg20 = -1, hr10 = -1, ndcg10 = -1;
  double train_seconds = 0;
  std::string params;  ///< chosen hyper-parameters
};

/// Runs every method on the same split; `log` receives progress lines.
Result<std::vector<MethodResult>> evaluate_recsys(const MovieLens& ml, const EvalOptions& o,
                                                  const std::function<void(const std::string&)>& log);

}  // namespace moerag::recsys
