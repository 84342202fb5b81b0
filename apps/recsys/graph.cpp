// Meta-path parsing/validation, CSR adjacency for the U/I/A graph and the
// meta-path-guided random walker.
#include "apps/recsys/graph.h"

#include <algorithm>
#include <random>

namespace moerag::recsys {

bool MetaPath::has(char t) const { return std::find(types.begin(), types.end(), t) != types.end(); }

const char* const kMetaPathSchema = "node types: U = user, I = item, A = attribute; edges: U-I, I-A, U-A";

Result<MetaPath> parse_meta_path(const std::string& text) {
  MetaPath p;
  std::string cur;
  auto flush = [&]() -> Status {
    if (cur.empty())
      return Error(ErrorCode::INVALID_INPUT, "meta-path '" + text + "': empty node type (" + kMetaPathSchema + ")");
    if (cur != "U" && cur != "I" && cur != "A")
      return Error(ErrorCode::INVALID_INPUT,
                   "meta-path '" + text + "': unknown node type '" + cur + "' (" + kMetaPathSchema + ")");
    p.types.push_back(cur[0]);
    cur.clear();
    return ok_status();
  };
  for (char c : text) {
    if (c == ' ') continue;
    if (c == '-') {
      MOERAG_TRY(flush());
    } else {
      cur += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  MOERAG_TRY(flush());
  if (p.types.size() < 3)
    return Error(ErrorCode::INVALID_INPUT,
                 "meta-path '" + text + "': needs at least 3 node types, e.g. U-I-U (" + kMetaPathSchema + ")");
  for (size_t i = 0; i + 1 < p.types.size(); ++i)
    if (p.types[i] == p.types[i + 1])
      return Error(ErrorCode::INVALID_INPUT, "meta-path '" + text + "': the graph has no " +
                                                 std::string(1, p.types[i]) + "-" + std::string(1, p.types[i]) +
                                                 " edges (" + kMetaPathSchema + ")");
  if (p.types.front() != p.types.back())
    return Error(ErrorCode::INVALID_INPUT, "meta-path '" + text +
                                               "': must end on the type it starts with, walks repeat it (" +
                                               kMetaPathSchema + ")");
  for (size_t i = 0; i < p.types.size(); ++i) {
    if (i) p.text += '-';
    p.text += p.types[i];
  }
  return p;
}

Result<std::vector<MetaPath>> parse_meta_paths(const std::vector<std::string>& texts) {
  std::vector<MetaPath> out;
  if (texts.empty()) return Error(ErrorCode::INVALID_INPUT, "recsys.meta_paths: at least one meta-path is required");
  for (const auto& t : texts) {
    MOERAG_ASSIGN_OR_RETURN(auto p, parse_meta_path(t));
    out.push_back(std::move(p));
  }
  return out;
}

Csr build_csr(int32_t n, std::vector<std::pair<int32_t, int32_t>> pairs) {
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  Csr c;
  c.off.assign(static_cast<size_t>(n) + 1, 0);
  c.idx.reserve(pairs.size());
  for (const auto& [r, col] : pairs) {
    ++c.off[r + 1];
    c.idx.push_back(col);
  }
  for (int32_t i = 0; i < n; ++i) c.off[i + 1] += c.off[i];
  return c;
}

Graph::Graph(const Dataset& d) : n_users(d.n_users()), n_items(d.n_items()), n_attrs(d.n_attrs()) {
  std::vector<std::pair<int32_t, int32_t>> ui, iu, ia, ai, ua, au;
  for (const auto& e : d.events) {
    ui.emplace_back(e.user, e.item);
    iu.emplace_back(e.item, e.user);
  }
  for (int32_t i = 0; i < n_items; ++i)
    for (int32_t a : d.item_attrs[i]) {
      ia.emplace_back(i, a);
      ai.emplace_back(a, i);
    }
  for (int32_t u = 0; u < n_users; ++u)
    for (int32_t a : d.user_attrs[u]) {
      ua.emplace_back(u, a);
      au.emplace_back(a, u);
    }
  user_items = build_csr(n_users, std::move(ui));
  item_users = build_csr(n_items, std::move(iu));
  item_attrs = build_csr(n_items, std::move(ia));
  attr_items = build_csr(n_attrs, std::move(ai));
  user_attrs = build_csr(n_users, std::move(ua));
  attr_users = build_csr(n_attrs, std::move(au));
}

const Csr* Graph::adjacency(char from, char to) const {
  if (from == 'U' && to == 'I') return &user_items;
  if (from == 'I' && to == 'U') return &item_users;
  if (from == 'I' && to == 'A') return &item_attrs;
  if (from == 'A' && to == 'I') return &attr_items;
  if (from == 'U' && to == 'A') return &user_attrs;
  if (from == 'A' && to == 'U') return &attr_users;
  return nullptr;
}

int32_t Graph::count(char type) const { return type == 'U' ? n_users : type == 'I' ? n_items : n_attrs; }

int32_t Graph::global_id(char type, int32_t index) const {
  return type == 'U' ? index : type == 'I' ? n_users + index : n_users + n_items + index;
}

bool Graph::has_edge(char ta, int32_t a, char tb, int32_t b) const {
  const Csr* c = adjacency(ta, tb);
  if (!c || a < 0 || b < 0 || a >= count(ta) || b >= count(tb)) return false;
  return std::binary_search(c->begin(a), c->end(a), b);
}

std::vector<int32_t> meta_path_walks(const Graph& g, const MetaPath& p, int walks_per_node, int walk_length,
                                     uint64_t seed) {
  // The cycle repeats types[0..m-2] (the last type equals the first).
  const size_t m = p.types.size() - 1;
  std::vector<std::pair<size_t, int32_t>> starts;  // (position in cycle, node index)
  std::vector<bool> type_done(128, false);
  for (size_t pos = 0; pos < m; ++pos) {
    char t = p.types[pos];
    if (type_done[t]) continue;  // start each node once per walk round even if its type repeats
    type_done[t] = true;
    const Csr* next = g.adjacency(t, p.types[pos + 1]);
    for (int32_t v = 0; v < g.count(t); ++v)
      if (next->degree(v) > 0) starts.emplace_back(pos, v);
  }
  std::vector<int32_t> out(starts.size() * walks_per_node * walk_length, -1);
  size_t w = 0;
  for (int r = 0; r < walks_per_node; ++r) {
    for (const auto& [pos0, v0] : starts) {
      std::mt19937_64 rng(seed ^ (0x9e3779b97f4a7c15ULL * (w + 1)));
      int32_t* walk = out.data() + w * walk_length;
      size_t pos = pos0;
      int32_t v = v0;
      walk[0] = g.global_id(p.types[pos], v);
      for (int s = 1; s < walk_length; ++s) {
        char from = p.types[pos], to = p.types[pos + 1];
        const Csr* adj = g.adjacency(from, to);
        int64_t deg = adj->degree(v);
        if (deg == 0) break;
        v = adj->begin(v)[rng() % deg];
        pos = (pos + 1) % m;
        walk[s] = g.global_id(to, v);
      }
      ++w;
    }
  }
  return out;
}

}  // namespace moerag::recsys
