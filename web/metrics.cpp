// Metrics registry and Prometheus text rendering.
#include "web/metrics.h"

#include <cstdio>

namespace moerag::web {
namespace {
// Latency buckets in seconds: 1 ms .. 30 s.
const std::vector<double> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}
}  // namespace

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_labels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    out += (first ? "" : ",") + k + "=\"" + escape_label(v) + "\"";
    first = false;
  }
  return out + "}";
}

void Metrics::inc(const std::string& name, const std::string& help, const Labels& labels, double v) {
  std::lock_guard lock(mu_);
  auto& f = families_[name];
  if (f.type.empty()) {
    f.type = "counter";
    f.help = help;
  }
  f.counters[labels] += v;
}

void Metrics::observe(const std::string& name, const std::string& help, const Labels& labels, double v) {
  std::lock_guard lock(mu_);
  auto& f = families_[name];
  if (f.type.empty()) {
    f.type = "histogram";
    f.help = help;
  }
  auto& h = f.hists[labels];
  if (h.buckets.empty()) h.buckets.assign(kBuckets.size(), 0);
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (v <= kBuckets[i]) ++h.buckets[i];
  ++h.count;
  h.sum += v;
}

void Metrics::add_collector(std::function<void(std::string&)> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

double Metrics::counter(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  auto f = families_.find(name);
  if (f == families_.end()) return 0;
  auto c = f->second.counters.find(labels);
  return c == f->second.counters.end() ? 0 : c->second;
}

std::string Metrics::render() const {
  std::string out;
  std::vector<std::function<void(std::string&)>> collectors;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, f] : families_) {
      out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + f.type + "\n";
      for (const auto& [labels, v] : f.counters) out += name + format_labels(labels) + " " + num(v) + "\n";
      for (const auto& [labels, h] : f.hists) {
        // h.buckets[i] already counts every observation <= bound i (cumulative).
        for (size_t i = 0; i < kBuckets.size(); ++i) {
          Labels l = labels;
          l["le"] = num(kBuckets[i]);
          out += name + "_bucket" + format_labels(l) + " " + std::to_string(h.buckets[i]) + "\n";
        }
        Labels l = labels;
        l["le"] = "+Inf";
        out += name + "_bucket" + format_labels(l) + " " + std::to_string(h.count) + "\n";
        out += name + "_sum" + format_labels(labels) + " " + num(h.sum) + "\n";
        out += name + "_count" + format_labels(labels) + " " + std::to_string(h.count) + "\n";
      }
    }
    collectors = collectors_;
  }
  for (const auto& c : collectors) c(out);
  return out;
}

}  // namespace moerag::web
