// SQLite persistence of the recommender's data in the main database: tables
// recsys_users, recsys_items, recsys_interactions (migrations under component
// "recsys"). Rows are loaded in id order, so Dataset indexes equal id - 1 order.
#pragma once

#include "apps/recsys/dataset.h"
#include "apps/recsys/recsys.h"
#include "core/sqlite.h"

namespace moerag::recsys {

/// Creates or upgrades the recsys tables.
Status migrate_store(sql::Connection& c);

/// Loads every user, item and interaction into a fresh Dataset.
Result<Dataset> load_store(sql::Connection& c);

/// Validates records, writes them in one transaction and applies them to `data`
/// (same order, so indexes match the row order). Bad records are skipped and
/// listed in the report; `data` changes only when the transaction commits.
Result<ImportReport> write_records(sql::Connection& c, Dataset& data, const std::vector<UserRecord>& users,
                                   const std::vector<ItemRecord>& items,
                                   const std::vector<InteractionRecord>& interactions);

}  // namespace moerag::recsys
