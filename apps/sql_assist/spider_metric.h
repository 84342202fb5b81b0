// Internal: the two measuring pieces of the Spider evaluation, exposed for tests:
// hardness from parsed gold SQL and the execution-result comparison.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace moerag::sql_assist {

/// "easy" | "medium" | "hard" | "extra" from a dev.json `sql` object (Spider's rules).
std::string spider_hardness(const nlohmann::json& sql);

/// Whether two normalised result tables are equal as multisets of rows (as
/// sequences when `ordered`), allowing a permutation of the predicted columns.
bool results_match(const std::vector<std::vector<std::string>>& gold, const std::vector<std::vector<std::string>>& pred,
                   size_t n_gold_cols, size_t n_pred_cols, bool ordered);

}  // namespace moerag::sql_assist
