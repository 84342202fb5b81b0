// Prometheus metrics: labelled counters and histograms kept by the web layer, plus
// collectors through which lower modules (engine, safety, ...) add their own lines.
// Rendered in the Prometheus text exposition format 0.0.4 on GET /metrics.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace moerag::web {

/// Label set, e.g. {{"route","/healthz"},{"status","200"}}; kept sorted by name.
using Labels = std::map<std::string, std::string>;

class Metrics {
 public:
  /// Adds `v` to counter `name` (declared on first use with `help`).
  void inc(const std::string& name, const std::string& help, const Labels& labels, double v = 1);
  /// Records one observation (seconds) in histogram `name` with the default latency buckets.
  void observe(const std::string& name, const std::string& help, const Labels& labels, double v);
  /// A function that appends complete metric families (HELP/TYPE/lines) to the output.
  void add_collector(std::function<void(std::string& out)> collector);
  /// The whole exposition text.
  std::string render() const;
  /// Current value of a counter (0 when absent); for tests and status pages.
  double counter(const std::string& name, const Labels& labels) const;

 private:
  struct Hist {
    std::vector<uint64_t> buckets;  // cumulative counts are computed at render time
    uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    std::string help, type;
    std::map<Labels, double> counters;
    std::map<Labels, Hist> hists;
  };
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;  // guarded by mu_
  std::vector<std::function<void(std::string&)>> collectors_;  // guarded by mu_
};

/// Escapes a label value for the text format (backslash, quote, newline).
std::string escape_label(const std::string& v);
/// `{a="x",b="y"}` or "" for no labels.
std::string format_labels(const Labels& labels);

}  // namespace moerag::web
