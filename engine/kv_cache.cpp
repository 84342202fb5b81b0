// KvCache: block allocation, ref-counting, the prefix registry and sliding-window
// eviction. Storage is one backend allocation laid out
// [n_layer][k, v][n_blocks][block_size][row bytes].
#include "engine/kv_cache.h"

#include <algorithm>

namespace moerag::engine {
namespace {

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h *= 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 31);
}

}  // namespace

Result<std::unique_ptr<KvCache>> KvCache::create(const ModelConfig& c, Backend& backend, const KvCacheOptions& o) {
  std::unique_ptr<KvCache> kv(new KvCache());
  kv->backend_ = &backend;
  kv->opt_ = o;
  if (o.block_size <= 0 || o.n_ctx <= 0 || o.n_seq <= 0) {
    return Error(ErrorCode::INVALID_INPUT, "KV cache block size, context and sequence count must be positive");
  }
  kv->n_layer_ = c.n_layer;
  if (c.arch == Arch::DEEPSEEK2) {  // compressed latent + shared rope key; values are the latent
    kv->k_elems_ = c.kv_lora_rank + c.n_rot;
    kv->v_elems_ = 0;
  } else {
    kv->k_elems_ = c.n_head_kv * c.head_dim_k;
    kv->v_elems_ = c.n_head_kv * c.head_dim_v;
  }
  if (o.type != GgmlType::F16 && o.type != GgmlType::F32 && o.type != GgmlType::Q8_0) {
    return Error(ErrorCode::INVALID_INPUT, "KV cache type must be f16, f32 or q8_0, not " + type_name(o.type));
  }
  auto rb = [&](int64_t n) -> Result<size_t> {
    if (n == 0) return size_t{0};
    auto r = row_size(o.type, n);
    if (!r.ok()) return Error(ErrorCode::INVALID_INPUT, "KV cache type " + type_name(o.type) + " needs rows of a multiple of its block: " + r.error().message);
    return static_cast<size_t>(*r);
  };
  MOERAG_ASSIGN_OR_RETURN(kv->k_row_bytes_, rb(kv->k_elems_));
  MOERAG_ASSIGN_OR_RETURN(kv->v_row_bytes_, rb(kv->v_elems_));
  kv->n_blocks_ = o.n_seq * ((o.n_ctx + o.block_size - 1) / o.block_size);
  kv->block_bytes_ = static_cast<size_t>(o.block_size) * (kv->k_row_bytes_ + kv->v_row_bytes_);
  kv->total_bytes_ = static_cast<uint64_t>(kv->block_bytes_) * kv->n_blocks_ * c.n_layer;
  kv->base_ = static_cast<uint8_t*>(backend.alloc(kv->total_bytes_));
  kv->refs_.assign(kv->n_blocks_, 0);
  kv->block_hash_.assign(kv->n_blocks_, 0);
  for (int32_t b = static_cast<int32_t>(kv->n_blocks_) - 1; b >= 0; --b) kv->free_.push_back(b);
  return kv;
}

KvCache::~KvCache() {
  if (base_) backend_->free(base_);
}

uint64_t KvCache::bytes_per_token() const { return (k_row_bytes_ + v_row_bytes_) * static_cast<uint64_t>(n_layer_); }

int64_t KvCache::n_free_blocks() const { return static_cast<int64_t>(free_.size() + lru_.size()); }

Status KvCache::add_sequence(int32_t seq) {
  if (seqs_.count(seq)) return Error(ErrorCode::CONFLICT, "sequence " + std::to_string(seq) + " exists");
  seqs_[seq] = Seq{};
  return ok_status();
}

void KvCache::remove_sequence(int32_t seq) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) return;
  for (int32_t b : it->second.blocks) {
    if (b >= 0) release_block(b);
  }
  seqs_.erase(it);
}

int64_t KvCache::n_pos(int32_t seq) const {
  auto it = seqs_.find(seq);
  return it == seqs_.end() ? 0 : it->second.n_pos;
}

int32_t KvCache::alloc_block() {
  int32_t b = -1;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else if (!lru_.empty()) {  // evict the least recently used cached prefix block
    b = lru_.front();
    lru_.pop_front();
    registry_.erase(block_hash_[b]);
    block_hash_[b] = 0;
  }
  if (b >= 0) refs_[b] = 1;
  return b;
}

void KvCache::release_block(int32_t b) {
  if (--refs_[b] > 0) return;
  if (block_hash_[b] != 0) {
    lru_.push_back(b);
  } else {
    free_.push_back(b);
  }
}

int64_t KvCache::attach_prefix(int32_t seq, const std::vector<int32_t>& tokens) {
  Seq& s = seqs_.at(seq);
  if (!opt_.prefix_reuse || s.n_pos != 0) return 0;
  const int64_t bs = opt_.block_size;
  uint64_t h = 0;
  int64_t n = 0;
  while ((n + bs) < static_cast<int64_t>(tokens.size())) {  // keep at least one token to compute
    uint64_t nh = h;
    for (int64_t i = n; i < n + bs; ++i) nh = mix(nh, static_cast<uint32_t>(tokens[i]));
    nh |= 1;  // 0 means "unregistered"
    auto it = registry_.find(nh);
    if (it == registry_.end() || !std::equal(it->second.tokens.begin(), it->second.tokens.end(), tokens.begin()) ||
        static_cast<int64_t>(it->second.tokens.size()) != n + bs) {
      break;
    }
    const int32_t b = it->second.block;
    if (refs_[b]++ == 0) lru_.remove(b);
    s.blocks.push_back(b);
    s.tokens.insert(s.tokens.end(), tokens.begin() + n, tokens.begin() + n + bs);
    h = nh;
    n += bs;
    ++prefix_hits_;
  }
  s.hash = h;
  s.n_pos = n;
  return n;
}

Status KvCache::reserve(int32_t seq, int64_t n) {
  Seq& s = seqs_.at(seq);
  const int64_t end = s.n_pos + n;
  if (end > opt_.n_ctx) {
    return Error(ErrorCode::CONTEXT_TOO_LONG, "sequence needs " + std::to_string(end) + " positions, the context holds " +
                                                  std::to_string(opt_.n_ctx));
  }
  while (static_cast<int64_t>(s.blocks.size()) * opt_.block_size < end) {
    const int32_t b = alloc_block();
    if (b < 0) return Error(ErrorCode::OVERLOADED, "KV cache is full");
    s.blocks.push_back(b);
  }
  return ok_status();
}

void KvCache::commit(int32_t seq, const int32_t* tokens, int64_t n) {
  Seq& s = seqs_.at(seq);
  const int64_t bs = opt_.block_size;
  for (int64_t i = 0; i < n; ++i) {
    s.tokens.push_back(tokens[i]);
    ++s.n_pos;
    if (s.n_pos % bs != 0 || !opt_.prefix_reuse) continue;
    // A block became full: register it under the hash of the whole prefix.
    for (int64_t j = s.n_pos - bs; j < s.n_pos; ++j) s.hash = mix(s.hash, static_cast<uint32_t>(s.tokens[j]));
    s.hash |= 1;
    const int32_t b = s.blocks[static_cast<size_t>(s.n_pos / bs - 1)];
    if (b >= 0 && block_hash_[b] == 0 && registry_.count(s.hash) == 0) {
      block_hash_[b] = s.hash;
      registry_[s.hash] = Cached{s.tokens, b};
    }
  }
}

void KvCache::evict_window(int32_t seq, int64_t window) {
  Seq& s = seqs_.at(seq);
  if (window <= 0) return;
  const int64_t first_needed = s.n_pos - window;  // the next query (pos n_pos) needs keys > n_pos - window
  for (size_t i = 0; i < s.blocks.size(); ++i) {
    const int64_t last_pos = static_cast<int64_t>(i + 1) * opt_.block_size - 1;
    if (last_pos > first_needed || s.blocks[i] < 0) continue;
    release_block(s.blocks[i]);
    s.blocks[i] = -1;
  }
}

uint8_t* KvCache::row(int64_t il, bool v, int32_t block, int64_t slot) const {
  const size_t layer_bytes = block_bytes_ * static_cast<size_t>(n_blocks_);
  const size_t k_part = static_cast<size_t>(opt_.block_size) * k_row_bytes_ * static_cast<size_t>(n_blocks_);
  uint8_t* p = base_ + static_cast<size_t>(il) * layer_bytes;
  if (v) return p + k_part + (static_cast<size_t>(block) * opt_.block_size + slot) * v_row_bytes_;
  return p + (static_cast<size_t>(block) * opt_.block_size + slot) * k_row_bytes_;
}

uint8_t* KvCache::k_row(int64_t il, int32_t seq, int64_t pos) {
  const Seq& s = seqs_.at(seq);
  return row(il, false, s.blocks[static_cast<size_t>(pos / opt_.block_size)], pos % opt_.block_size);
}

uint8_t* KvCache::v_row(int64_t il, int32_t seq, int64_t pos) {
  if (v_in_k()) return k_row(il, seq, pos);
  const Seq& s = seqs_.at(seq);
  return row(il, true, s.blocks[static_cast<size_t>(pos / opt_.block_size)], pos % opt_.block_size);
}

kernels::KvView KvCache::view(int64_t il, int32_t seq, bool v) {
  const Seq& s = seqs_.at(seq);
  auto& ptrs = views_[(il << 33) | (static_cast<int64_t>(static_cast<uint32_t>(seq)) << 1) | (v ? 1 : 0)];
  ptrs.resize(s.blocks.size());
  for (size_t i = 0; i < s.blocks.size(); ++i) ptrs[i] = s.blocks[i] < 0 ? nullptr : row(il, v, s.blocks[i], 0);
  kernels::KvView out;
  out.type = opt_.type;
  out.blocks = ptrs.data();
  out.block_size = opt_.block_size;
  out.row_bytes = v ? v_row_bytes_ : k_row_bytes_;
  out.row_elems = v ? v_elems_ : k_elems_;
  return out;
}

kernels::KvView KvCache::k_view(int64_t il, int32_t seq) { return view(il, seq, false); }
kernels::KvView KvCache::v_view(int64_t il, int32_t seq) { return v_in_k() ? view(il, seq, false) : view(il, seq, true); }

}  // namespace moerag::engine
