// Dataset: dense indexes for users/items/attributes, and the history and item-user
// indexes rebuilt from events.
#include "apps/recsys/dataset.h"

#include <algorithm>
#include <cmath>

namespace moerag::recsys {

const char* kind_name(InteractionKind k) {
  switch (k) {
    case InteractionKind::VIEW: return "view";
    case InteractionKind::CLICK: return "click";
    case InteractionKind::BUY: return "buy";
    case InteractionKind::RATING: return "rating";
  }
  return "view";
}

Result<InteractionKind> parse_kind(const std::string& s) {
  if (s == "view") return InteractionKind::VIEW;
  if (s == "click") return InteractionKind::CLICK;
  if (s == "buy") return InteractionKind::BUY;
  if (s == "rating") return InteractionKind::RATING;
  return Error(ErrorCode::INVALID_INPUT, "unknown interaction kind '" + s + "' (view, click, buy, rating)");
}

float decay_weight(int64_t age_s, double half_life_days) {
  if (half_life_days <= 0 || age_s <= 0) return 1.0f;
  return static_cast<float>(std::exp2(-static_cast<double>(age_s) / (half_life_days * 86400.0)));
}

namespace {
int32_t find_in(const std::unordered_map<std::string, int32_t>& m, const std::string& id) {
  auto it = m.find(id);
  return it == m.end() ? -1 : it->second;
}
}  // namespace

int32_t Dataset::find_user(const std::string& id) const { return find_in(user_index_, id); }
int32_t Dataset::find_item(const std::string& id) const { return find_in(item_index_, id); }
int32_t Dataset::find_attr(const std::string& name) const { return find_in(attr_index_, name); }

int32_t Dataset::add_user(const std::string& id) {
  auto [it, fresh] = user_index_.try_emplace(id, n_users());
  if (fresh) {
    user_ids.push_back(id);
    user_attrs.emplace_back();
    grow();
  }
  return it->second;
}

int32_t Dataset::add_item(const std::string& id) {
  auto [it, fresh] = item_index_.try_emplace(id, n_items());
  if (fresh) {
    item_ids.push_back(id);
    item_titles.push_back(id);
    item_attrs.emplace_back();
    grow();
  }
  return it->second;
}

int32_t Dataset::add_attr(const std::string& name) {
  auto [it, fresh] = attr_index_.try_emplace(name, n_attrs());
  if (fresh) attr_names.push_back(name);
  return it->second;
}

void Dataset::add_item_attr(int32_t item, const std::string& name) {
  int32_t a = add_attr(name);
  auto& v = item_attrs[item];
  if (std::find(v.begin(), v.end(), a) == v.end()) v.push_back(a);
}

void Dataset::add_user_attr(int32_t user, const std::string& name) {
  int32_t a = add_attr(name);
  auto& v = user_attrs[user];
  if (std::find(v.begin(), v.end(), a) == v.end()) v.push_back(a);
}

void Dataset::grow() {
  hist_.resize(user_ids.size());
  item_users_.resize(item_ids.size());
}

void Dataset::add_event(const Event& e) {
  events.push_back(e);
  grow();
  auto& h = hist_[e.user];
  HistoryEntry he{e.item, e.weight, e.time};
  // Keep time order; new events usually arrive last.
  auto pos = std::upper_bound(h.begin(), h.end(), he, [](const HistoryEntry& a, const HistoryEntry& b) {
    return a.time < b.time;
  });
  h.insert(pos, he);
  item_users_[e.item].push_back(e.user);
}

void Dataset::reindex() {
  hist_.assign(user_ids.size(), {});
  item_users_.assign(item_ids.size(), {});
  for (const auto& e : events) {
    hist_[e.user].push_back({e.item, e.weight, e.time});
    item_users_[e.item].push_back(e.user);
  }
  for (auto& h : hist_)
    std::stable_sort(h.begin(), h.end(), [](const HistoryEntry& a, const HistoryEntry& b) { return a.time < b.time; });
}

std::vector<std::vector<int32_t>> Dataset::attr_items() const {
  std::vector<std::vector<int32_t>> out(attr_names.size());
  for (int32_t i = 0; i < n_items(); ++i)
    for (int32_t a : item_attrs[i]) out[a].push_back(i);
  return out;
}

}  // namespace moerag::recsys
