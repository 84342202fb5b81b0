// Metrics for `moerag safety eval` and the training log (see evaluate.h).
#include "safety/evaluate.h"

#include <algorithm>
#include <cstdio>

namespace moerag::safety {

double average_precision(std::vector<std::pair<float, bool>> scored) {
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  double n_pos = 0;
  for (const auto& s : scored) n_pos += s.second;
  if (n_pos == 0) return 0;
  double tp = 0, ap = 0;
  for (size_t i = 0; i < scored.size(); ++i) {
    if (!scored[i].second) continue;
    tp += 1;
    ap += tp / static_cast<double>(i + 1);
  }
  return ap / n_pos;
}

std::vector<CategoryMetrics> evaluate_model(const Filter& filter, const std::vector<Example>& examples) {
  const auto cats = filter.categories();
  const auto thr = filter.thresholds();
  const size_t n_cat = cats.size();
  std::vector<std::vector<std::pair<float, bool>>> scored(n_cat + 1);
  std::vector<double> tp(n_cat + 1), fp(n_cat + 1), fn(n_cat + 1), npos(n_cat + 1);
  for (const auto& e : examples) {
    auto p = filter.score(e.text);
    bool any_flag = false;
    float max_p = 0;
    for (size_t c = 0; c < n_cat; ++c) {
      bool y = (e.labels >> c) & 1;
      float s = p[cats[c]];
      bool flag = s >= thr.at(cats[c]);
      scored[c].push_back({s, y});
      tp[c] += flag && y;
      fp[c] += flag && !y;
      fn[c] += !flag && y;
      npos[c] += y;
      any_flag = any_flag || flag;
      max_p = std::max(max_p, s);
    }
    bool y = e.labels != 0;
    scored[n_cat].push_back({max_p, y});
    tp[n_cat] += any_flag && y;
    fp[n_cat] += any_flag && !y;
    fn[n_cat] += !any_flag && y;
    npos[n_cat] += y;
  }
  std::vector<CategoryMetrics> out;
  for (size_t c = 0; c <= n_cat; ++c) {
    CategoryMetrics m;
    m.category = c < n_cat ? cats[c] : "unsafe (any)";
    m.n = examples.size();
    m.n_pos = static_cast<size_t>(npos[c]);
    m.precision = tp[c] + fp[c] > 0 ? tp[c] / (tp[c] + fp[c]) : 0;
    m.recall = npos[c] > 0 ? tp[c] / npos[c] : 0;
    m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0;
    m.auprc = average_precision(scored[c]);
    m.threshold = c < n_cat ? thr.at(cats[c]) : 0;
    out.push_back(m);
  }
  return out;
}

SetResult evaluate_set(const Filter& filter, const EvalSet& set) {
  SetResult r;
  r.name = set.name;
  r.unsafe = set.unsafe;
  for (const auto& t : set.texts) {
    Verdict v = filter.check(t, Direction::INPUT);
    ++r.n;
    if (v.decision == Decision::BLOCK) {
      ++r.flagged;
      r.by_rules += v.layer == "rules" || v.layer == "limits";
    }
  }
  return r;
}

std::string format_metrics(const std::vector<CategoryMetrics>& ms) {
  std::string out = "category            n_pos  thresh  precision  recall     F1   AUPRC\n";
  for (const auto& m : ms) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "%-18s %6zu  %6.2f  %9.3f  %6.3f  %5.3f  %6.3f\n", m.category.c_str(), m.n_pos,
                  m.threshold, m.precision, m.recall, m.f1, m.auprc);
    out += buf;
  }
  return out;
}

}  // namespace moerag::safety
