// KvCache: keys and values of every sequence in fixed-size blocks (paged), F16 by
// default or Q8_0. A sequence owns a block table; full blocks are registered under
// the hash of all tokens up to their end, so a new sequence that starts with the same
// tokens (a RAG system prompt, repeated passages) attaches them instead of
// recomputing. Blocks are ref-counted; unreferenced registered blocks stay cached
// until the space is needed (LRU). Sliding-window models drop blocks that fell out
// of the window. MLA (deepseek2) caches one row of kv_lora_rank + n_rot per token.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "engine/backend.h"
#include "engine/model_config.h"

namespace moerag::engine {

/// How the cache is sized and stored.
struct KvCacheOptions {
  GgmlType type = GgmlType::F16;  ///< F16, F32 or Q8_0 (row widths must be multiples of 32 for Q8_0)
  int64_t block_size = 16;        ///< tokens per block
  int64_t n_ctx = 4096;           ///< longest sequence
  int64_t n_seq = 1;              ///< sequences at full length the cache must hold (n_blocks = n_seq * n_ctx / block_size)
  bool prefix_reuse = true;       ///< share full blocks between sequences with equal prefixes
};

class KvCache {
 public:
  static Result<std::unique_ptr<KvCache>> create(const ModelConfig& config, Backend& backend,
                                                 const KvCacheOptions& options);
  ~KvCache();
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  /// Starts an empty sequence (CONFLICT when seq exists).
  Status add_sequence(int32_t seq);
  /// Releases a sequence's blocks (registered ones stay cached for reuse).
  void remove_sequence(int32_t seq);
  bool has_sequence(int32_t seq) const { return seqs_.count(seq) != 0; }
  /// Positions written so far (the next token's position).
  int64_t n_pos(int32_t seq) const;

  /// Attaches cached blocks matching the leading full blocks of `tokens` to an empty
  /// sequence; returns the positions reused (a multiple of block_size, always below
  /// tokens.size() so the last token is computed and yields logits).
  int64_t attach_prefix(int32_t seq, const std::vector<int32_t>& tokens);
  /// Makes positions [n_pos, n_pos + n) writable. OVERLOADED when out of blocks,
  /// CONTEXT_TOO_LONG beyond n_ctx.
  Status reserve(int32_t seq, int64_t n);
  /// Records that `tokens` were written at positions [n_pos, n_pos + n): advances
  /// n_pos and registers blocks that became full.
  void commit(int32_t seq, const int32_t* tokens, int64_t n);
  /// Frees blocks whose positions all lie before n_pos - window.
  void evict_window(int32_t seq, int64_t window);

  /// Row of layer il for (seq, pos) to write keys (and values). // type [row elems]
  uint8_t* k_row(int64_t il, int32_t seq, int64_t pos);
  uint8_t* v_row(int64_t il, int32_t seq, int64_t pos);
  /// Views for the attention op; valid until the next reserve/remove.
  kernels::KvView k_view(int64_t il, int32_t seq);
  kernels::KvView v_view(int64_t il, int32_t seq);

  int64_t k_row_elems() const { return k_elems_; }
  int64_t v_row_elems() const { return v_elems_; }
  /// True when values are read from the key rows (MLA).
  bool v_in_k() const { return v_elems_ == 0; }
  GgmlType type() const { return opt_.type; }
  int64_t block_size() const { return opt_.block_size; }
  int64_t n_blocks() const { return n_blocks_; }
  int64_t n_free_blocks() const;
  /// Bytes of cache storage, and bytes one token position occupies over all layers.
  uint64_t bytes() const { return total_bytes_; }
  uint64_t bytes_per_token() const;
  /// Blocks attached from the prefix registry so far (statistics).
  uint64_t n_prefix_hits() const { return prefix_hits_; }

 private:
  KvCache() = default;
  struct Seq {
    std::vector<int32_t> blocks;  // block id per block index, -1 after eviction
    std::vector<int32_t> tokens;  // tokens written (for registering full blocks)
    uint64_t hash = 0;            // chained hash of tokens of all full blocks so far
    int64_t n_pos = 0;
  };
  struct Cached {
    std::vector<int32_t> tokens;  // the whole prefix, to rule out hash collisions
    int32_t block = -1;
  };
  int32_t alloc_block();
  void release_block(int32_t b);
  uint8_t* row(int64_t il, bool v, int32_t block, int64_t slot) const;
  kernels::KvView view(int64_t il, int32_t seq, bool v);

  Backend* backend_ = nullptr;
  KvCacheOptions opt_;
  int64_t n_layer_ = 0, k_elems_ = 0, v_elems_ = 0, n_blocks_ = 0;
  size_t k_row_bytes_ = 0, v_row_bytes_ = 0, block_bytes_ = 0;
  uint64_t total_bytes_ = 0;
  uint8_t* base_ = nullptr;                 // [n_layer][k|v][n_blocks][block_size][row]
  std::vector<int32_t> refs_;               // per block
  std::vector<uint64_t> block_hash_;        // per block, 0 = unregistered
  std::vector<int32_t> free_;               // unreferenced, unregistered blocks
  std::list<int32_t> lru_;                  // unreferenced, registered blocks (front = oldest)
  std::unordered_map<uint64_t, Cached> registry_;
  std::unordered_map<int32_t, Seq> seqs_;
  std::unordered_map<int64_t, std::vector<const uint8_t*>> views_;  // (il, seq, k|v) -> block pointers
  uint64_t prefix_hits_ = 0;
};

}  // namespace moerag::engine
