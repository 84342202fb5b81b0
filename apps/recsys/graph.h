// The heterogeneous information network: user (U), item (I) and attribute (A)
// nodes with U-I (interactions), I-A and U-A edges in CSR form; meta-path strings
// parsed and validated against that schema; meta-path-guided random walks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "apps/recsys/dataset.h"
#include "core/result.h"

namespace moerag::recsys {

/// A validated meta-path such as "U-I-A-I-U": node types 'U','I','A'.
struct MetaPath {
  std::string text;         ///< canonical "X-Y-Z"
  std::vector<char> types;  ///< [n_nodes] >= 2
  bool has(char t) const;
  /// Starts and ends at an item (I-...-I): usable as an item-item similarity.
  bool item_to_item() const { return types.front() == 'I' && types.back() == 'I'; }
};

/// The schema a meta-path is checked against, for messages: "node types: U = user, ...; edges: U-I, I-A, U-A".
extern const char* const kMetaPathSchema;

/// Parses "U-I-U" (case-insensitive, spaces ignored). INVALID_INPUT names the
/// problem: an unknown node type, an edge the schema lacks (U-U, I-I, A-A), fewer
/// than 3 nodes, or a path that does not end on its start type (walks repeat it).
Result<MetaPath> parse_meta_path(const std::string& text);
/// Parses every string; the first error names the offending path.
Result<std::vector<MetaPath>> parse_meta_paths(const std::vector<std::string>& texts);

/// Compressed adjacency: neighbours of node v are idx[off[v] .. off[v+1]).
struct Csr {
  std::vector<int64_t> off;  ///< [n + 1]
  std::vector<int32_t> idx;  ///< [nnz]
  int64_t degree(int32_t v) const { return off[v + 1] - off[v]; }
  const int32_t* begin(int32_t v) const { return idx.data() + off[v]; }
  const int32_t* end(int32_t v) const { return idx.data() + off[v + 1]; }
};

/// Builds a CSR with n rows from (row, col) pairs, de-duplicated, rows sorted.
Csr build_csr(int32_t n, std::vector<std::pair<int32_t, int32_t>> pairs);

/// The graph over a Dataset. Node indexes are per type; global ids for walks are
/// users [0,nU), items [nU,nU+nI), attributes [nU+nI, nU+nI+nA).
class Graph {
 public:
  /// Builds from the dataset's events and attributes.
  explicit Graph(const Dataset& d);
  int32_t n_users = 0, n_items = 0, n_attrs = 0;
  Csr user_items, item_users, item_attrs, attr_items, user_attrs, attr_users;

  /// Adjacency from type `from` to type `to`, or nullptr when the schema lacks it.
  const Csr* adjacency(char from, char to) const;
  int32_t count(char type) const;
  int32_t global_id(char type, int32_t index) const;
  bool has_edge(char ta, int32_t a, char tb, int32_t b) const;
};

/// Meta-path-guided random walks, flattened: [n_walks, walk_length] global node
/// ids, -1 after a dead end. Walks start at every node of every type on the path
/// (at that type's position) `walks_per_node` times; each start uses its own RNG
/// stream derived from seed, so the result is deterministic.
std::vector<int32_t> meta_path_walks(const Graph& g, const MetaPath& p, int walks_per_node, int walk_length,
                                     uint64_t seed);

}  // namespace moerag::recsys
