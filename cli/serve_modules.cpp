// Registry of `moerag serve` start-up steps (see serve_modules.h).
#include "cli/serve_modules.h"

#include <algorithm>
#include <vector>

#include "core/log.h"

namespace moerag::cli {
namespace {
struct Step {
  int order;
  std::string name;
  std::function<Status(ServeContext&)> start;
};
std::vector<Step>& steps() {
  static std::vector<Step> s;
  return s;
}
}  // namespace

RegisterServeModule::RegisterServeModule(int order, std::string name, std::function<Status(ServeContext&)> start) {
  steps().push_back({order, std::move(name), std::move(start)});
}

Status start_serve_modules(ServeContext& ctx) {
  auto& all = steps();
  std::stable_sort(all.begin(), all.end(), [](const Step& a, const Step& b) { return a.order < b.order; });
  for (const auto& s : all) {
    log::get("cli")->info("starting {}", s.name);
    auto st = s.start(ctx);
    if (!st.ok()) return st.error().with_context("starting " + s.name);
  }
  return {};
}

}  // namespace moerag::cli
