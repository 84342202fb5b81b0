// The recommender's in-memory data: users, items, attribute nodes and interactions
// with dense indexes, plus per-user histories and per-item user lists built from
// them. Import parsers (CSV/JSONL with column mapping) fill a Dataset; the SQLite
// store loads one; training and serving read one.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "apps/recsys/recsys.h"
#include "core/result.h"

namespace moerag::recsys {

/// One interaction with dense indexes (into Dataset::users / items).
struct Event {
  int32_t user = 0;
  int32_t item = 0;
  InteractionKind kind = InteractionKind::VIEW;
  float weight = 1.0f;  ///< confidence, >= 0
  int64_t time = 0;     ///< seconds since the epoch
};

/// A user's history entry (item index, weight, time).
struct HistoryEntry {
  int32_t item = 0;
  float weight = 1.0f;
  int64_t time = 0;
};

/// Everything the recommender knows, with dense 0-based indexes that never change
/// once assigned (append-only, so a model's indexes stay valid as data grows).
class Dataset {
 public:
  std::vector<std::string> user_ids;                 ///< [n_users] external ids
  std::vector<std::vector<int32_t>> user_attrs;      ///< [n_users] attribute indexes
  std::vector<std::string> item_ids;                 ///< [n_items] external ids
  std::vector<std::string> item_titles;              ///< [n_items]
  std::vector<std::vector<int32_t>> item_attrs;      ///< [n_items] attribute indexes
  std::vector<std::string> attr_names;               ///< [n_attrs] "kind:value", e.g. "genre:Crime"
  std::vector<Event> events;                         ///< in arrival order

  int32_t n_users() const { return static_cast<int32_t>(user_ids.size()); }
  int32_t n_items() const { return static_cast<int32_t>(item_ids.size()); }
  int32_t n_attrs() const { return static_cast<int32_t>(attr_names.size()); }

  /// Index of an external id, or -1.
  int32_t find_user(const std::string& id) const;
  int32_t find_item(const std::string& id) const;
  int32_t find_attr(const std::string& name) const;
  /// Index of an external id, created when missing.
  int32_t add_user(const std::string& id);
  int32_t add_item(const std::string& id);
  int32_t add_attr(const std::string& name);
  /// Adds attribute "kind:value" to an item / user unless present.
  void add_item_attr(int32_t item, const std::string& name);
  void add_user_attr(int32_t user, const std::string& name);
  /// Appends an event and updates the history indexes.
  void add_event(const Event& e);

  /// [n_users] histories sorted by time (stable for ties).
  const std::vector<std::vector<HistoryEntry>>& histories() const { return hist_; }
  /// [n_items] indexes of users who interacted with the item (may repeat).
  const std::vector<std::vector<int32_t>>& item_users() const { return item_users_; }
  /// [n_attrs] items carrying each attribute.
  std::vector<std::vector<int32_t>> attr_items() const;
  /// Rebuilds histories and item user lists from `events` (after bulk edits).
  void reindex();

 private:
  void grow();
  std::unordered_map<std::string, int32_t> user_index_, item_index_, attr_index_;
  std::vector<std::vector<HistoryEntry>> hist_;
  std::vector<std::vector<int32_t>> item_users_;
};

/// The weight of an interaction `age_s` seconds older than the user's latest one:
/// 0.5^(age / half_life); half_life_days <= 0 disables decay.
float decay_weight(int64_t age_s, double half_life_days);

}  // namespace moerag::recsys
