// File import for the recommender: CSV (RFC 4180 quoting, header row) or JSONL
// (one object per line) with a ColumnMap naming the fields; malformed rows are
// reported as "FILE:LINE: message" and skipped. Also the MovieLens folder loader
// used by `moerag eval recsys`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "apps/recsys/dataset.h"
#include "apps/recsys/recsys.h"

namespace moerag::recsys {

/// Records parsed from files, plus one message per rejected row.
struct ParsedRecords {
  std::vector<UserRecord> users;
  std::vector<ItemRecord> items;
  std::vector<InteractionRecord> interactions;
  std::vector<std::string> errors;
};

/// Splits one CSV line into fields (quotes, doubled quotes); false on an unclosed quote.
bool split_csv_line(const std::string& line, std::vector<std::string>& out);

/// Parses a users / items / interactions file into `out` (format by extension:
/// .jsonl/.json = JSONL, anything else = CSV). IO or a missing mapped id column
/// is an error; bad rows only add to out.errors.
Status parse_users_file(const std::string& path, const ColumnMap& c, ParsedRecords& out);
Status parse_items_file(const std::string& path, const ColumnMap& c, ParsedRecords& out);
Status parse_interactions_file(const std::string& path, const ColumnMap& c, ParsedRecords& out);

/// MovieLens (ml-latest-small layout): items with "genre:*" attributes, ratings as
/// RATING events (weight = rating), and the tags kept apart so an evaluation can
/// attach only tags that do not leak test interactions.
struct MovieLens {
  struct Tag {
    int32_t user = 0, item = 0;
    std::string tag;  ///< lower-cased
    int64_t time = 0;
  };
  Dataset data;
  std::vector<Tag> tags;
};
Result<MovieLens> load_movielens(const std::string& dir);

}  // namespace moerag::recsys
