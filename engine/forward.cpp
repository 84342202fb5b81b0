// The forward pass. decode() reads top to bottom as the model computes (embed ->
// per layer: norm, attention, residual, norm, FFN or MoE, residual -> norm, logits);
// it is longer than 60 lines on purpose. Architecture differences are config flags:
// biases (qwen2moe), q/k norms (qwen3moe per head, olmoe over the projection), NORM vs
// NEOX rope, MLA (deepseek2, absorbed form), routing (softmax/sigmoid, bias, groups,
// renormalisation, scale), shared experts (gated in qwen2moe). Semantics follow the
// public reference implementations (HF transformers modeling_*.py, DeepSeek-V3
// inference/model.py, llama.cpp llama-model.cpp); facts only.
#include "engine/forward.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

namespace moerag::engine {

Forward::Forward(const Model& model, Backend& backend, KvCache* kv)
    : model_(model), c_(model.config()), be_(backend), kv_(kv) {
  rope_.neox = c_.rope_type == RopeType::NEOX;
  rope_.n_rot = c_.n_rot;
  rope_.freq_base = c_.rope_freq_base;
  kq_scale_ = 1.0f / std::sqrt(static_cast<float>(c_.head_dim_k));
  if (c_.rope_scaling == RopeScaling::LINEAR) rope_.freq_scale = 1.0f / c_.rope_scaling_factor;
  if (c_.rope_scaling == RopeScaling::YARN) {
    const float factor = c_.rope_scaling_factor;
    rope_.freq_scale = 1.0f / factor;
    rope_.ext_factor = 1.0f;
    rope_.n_ctx_orig = c_.rope_orig_ctx;
    if (c_.arch == Arch::DEEPSEEK2) {
      // DeepSeek: cos/sin keep magnitude 1 (mscale == mscale_all_dim) and the softmax
      // scale carries mscale^2, mscale = 1 + yarn_log_multiplier * ln(factor).
      const float m = c_.rope_attn_factor * (1.0f + c_.rope_yarn_log_mul * std::log(factor));
      kq_scale_ *= m * m;
    } else {
      rope_.mscale = c_.rope_attn_factor * (1.0f + 0.1f * std::log(factor));
    }
  }
  reset_expert_load();
}

void Forward::reset_expert_load() {
  load_.assign(static_cast<size_t>(c_.n_layer), std::vector<uint64_t>(static_cast<size_t>(c_.n_expert), 0));
}

Status Forward::decode(const std::vector<BatchToken>& batch, std::vector<float>* logits) {
  MOERAG_ASSERT(kv_ != nullptr && c_.arch != Arch::BERT);
  const int64_t n = static_cast<int64_t>(batch.size()), D = c_.n_embd;
  if (n == 0) return ok_status();
  std::vector<int32_t> ids(static_cast<size_t>(n));
  pos_.resize(static_cast<size_t>(n));
  std::map<int32_t, int64_t> per_seq;  // tokens of each sequence in this batch
  for (int64_t t = 0; t < n; ++t) {
    const BatchToken& b = batch[static_cast<size_t>(t)];
    if (b.token < 0 || b.token >= c_.n_vocab) {
      return Error(ErrorCode::INVALID_INPUT, "token id " + std::to_string(b.token) + " is outside the vocabulary");
    }
    if (b.pos != kv_->n_pos(b.seq) + per_seq[b.seq]) {
      return Error(ErrorCode::INVALID_INPUT, "token position " + std::to_string(b.pos) + " does not follow sequence " +
                                                 std::to_string(b.seq));
    }
    ++per_seq[b.seq];
    ids[static_cast<size_t>(t)] = b.token;
    pos_[static_cast<size_t>(t)] = b.pos;
  }
  for (const auto& [seq, count] : per_seq) MOERAG_TRY(kv_->reserve(seq, count));

  DeviceBuffer x(be_, n * D);    // F32 [n, n_embd] residual stream
  DeviceBuffer cur(be_, n * D);  // F32 [n, n_embd] normed input of a sub-block
  DeviceBuffer out(be_, n * D);  // F32 [n, n_embd] output of a sub-block
  be_.get_rows(model_.tok_embd.mat, ids.data(), n, x.data());

  for (int64_t il = 0; il < c_.n_layer; ++il) {
    const LayerWeights& L = model_.layers[static_cast<size_t>(il)];
    // ---- attention ----
    be_.rms_norm(x.data(), L.attn_norm.f32(), n, D, c_.norm_eps, cur.data());
    if (c_.arch == Arch::DEEPSEEK2) {
      mla_block(il, cur.data(), n, batch, out.data());
    } else {
      attention_block(il, cur.data(), n, batch, out.data());
    }
    be_.add_scaled(out.data(), nullptr, n, D, x.data());
    // ---- feed-forward ----
    be_.rms_norm(x.data(), L.ffn_norm.f32(), n, D, c_.norm_eps, cur.data());
    if (c_.layer_is_moe(il)) {
      moe_ffn(il, cur.data(), n, out.data());
    } else {
      dense_ffn(L.ffn_gate.mat, L.ffn_up.mat, L.ffn_down.mat, cur.data(), n, out.data());
    }
    be_.add_scaled(out.data(), nullptr, n, D, x.data());
  }

  for (const auto& [seq, count] : per_seq) {
    std::vector<int32_t> toks;
    for (const BatchToken& b : batch) {
      if (b.seq == seq) toks.push_back(b.token);
    }
    kv_->commit(seq, toks.data(), count);
    if (c_.sliding_window > 0) kv_->evict_window(seq, c_.sliding_window);
  }

  // ---- logits of the requested rows ----
  std::vector<int32_t> rows;
  for (int64_t t = 0; t < n; ++t) {
    if (batch[static_cast<size_t>(t)].logits) rows.push_back(static_cast<int32_t>(t));
  }
  if (rows.empty() || logits == nullptr) return ok_status();
  const int64_t m = static_cast<int64_t>(rows.size());
  DeviceBuffer sel(be_, m * D);               // F32 [m, n_embd]
  DeviceBuffer lg(be_, m * c_.n_vocab);       // F32 [m, n_vocab]
  be_.gather(x.data(), rows.data(), m, D, sel.data());
  be_.rms_norm(sel.data(), model_.output_norm.f32(), m, D, c_.norm_eps, sel.data());
  be_.matmul(model_.output.mat, sel.data(), m, lg.data());
  const size_t base = logits->size();
  logits->resize(base + static_cast<size_t>(m * c_.n_vocab));
  be_.to_host(lg.data(), logits->data() + base, static_cast<size_t>(m * c_.n_vocab));
  return ok_status();
}

// q/k/v projections (+ biases, + q/k norms), rope, then cache and attend.
void Forward::attention_block(int64_t il, const float* cur, int64_t n, const std::vector<BatchToken>& batch,
                              float* out) {
  const LayerWeights& L = model_.layers[static_cast<size_t>(il)];
  const int64_t H = c_.n_head, Hkv = c_.n_head_kv, dk = c_.head_dim_k, dv = c_.head_dim_v;
  DeviceBuffer q(be_, n * H * dk);     // F32 [n, n_head, dk]
  DeviceBuffer k(be_, n * Hkv * dk);   // F32 [n, n_head_kv, dk]
  DeviceBuffer v(be_, n * Hkv * dv);   // F32 [n, n_head_kv, dv]
  DeviceBuffer o(be_, n * H * dv);     // F32 [n, n_head, dv]
  be_.matmul(L.attn_q.mat, cur, n, q.data());
  be_.matmul(L.attn_k.mat, cur, n, k.data());
  be_.matmul(L.attn_v.mat, cur, n, v.data());
  if (L.attn_q_bias.present) {
    be_.add_bias(L.attn_q_bias.f32(), n, H * dk, q.data());
    be_.add_bias(L.attn_k_bias.f32(), n, Hkv * dk, k.data());
    be_.add_bias(L.attn_v_bias.f32(), n, Hkv * dv, v.data());
  }
  if (c_.qk_norm) {
    const bool per_head = L.attn_q_norm.mat.n_cols == dk;  // qwen3moe: [dk]; olmoe: [n_head * dk]
    be_.rms_norm(q.data(), L.attn_q_norm.f32(), per_head ? n * H : n, per_head ? dk : H * dk, c_.norm_eps, q.data());
    be_.rms_norm(k.data(), L.attn_k_norm.f32(), per_head ? n * Hkv : n, per_head ? dk : Hkv * dk, c_.norm_eps,
                 k.data());
  }
  be_.rope(q.data(), n, H, dk, 0, pos_.data(), rope_);
  be_.rope(k.data(), n, Hkv, dk, 0, pos_.data(), rope_);
  kernels::AttnParams p;
  p.n_head = H, p.n_head_kv = Hkv, p.head_dim_k = dk, p.head_dim_v = dv;
  p.scale = kq_scale_, p.causal = c_.causal, p.window = c_.sliding_window;
  store_and_attend(il, q.data(), k.data(), v.data(), n, batch, p, o.data());
  be_.matmul(L.attn_output.mat, o.data(), n, out);
}

// Multi-head latent attention, absorbed: the cache row of a token is
// [c_kv (kv_lora_rank, normed) | k_pe (n_rot, roped)]. Each head's query becomes
// [W_uk_h^T q_nope_h | q_pe_h], scores are q_abs . row, values are the latent part of
// the same rows, and W_uv_h maps the attended latent back to the head's value.
void Forward::mla_block(int64_t il, const float* cur, int64_t n, const std::vector<BatchToken>& batch, float* out) {
  const LayerWeights& L = model_.layers[static_cast<size_t>(il)];
  const int64_t H = c_.n_head, dk = c_.head_dim_k, dv = c_.head_dim_v, R = c_.kv_lora_rank, nr = c_.n_rot;
  const int64_t nope = c_.head_dim_qk_nope(), row = R + nr;
  DeviceBuffer q(be_, n * H * dk);       // F32 [n, n_head, nope + n_rot]
  DeviceBuffer kv(be_, n * row);         // F32 [n, rank + n_rot]
  DeviceBuffer qa(be_, n * H * row);     // F32 [n, n_head, rank + n_rot] absorbed queries
  DeviceBuffer olat(be_, n * H * R);     // F32 [n, n_head, rank] attended latents
  DeviceBuffer o(be_, n * H * dv);       // F32 [n, n_head, dv]
  if (L.attn_q_a.present) {
    DeviceBuffer qlo(be_, n * c_.q_lora_rank);  // F32 [n, q_lora_rank]
    be_.matmul(L.attn_q_a.mat, cur, n, qlo.data());
    be_.rms_norm(qlo.data(), L.attn_q_a_norm.f32(), n, c_.q_lora_rank, c_.norm_eps, qlo.data());
    be_.matmul(L.attn_q_b.mat, qlo.data(), n, q.data());
  } else {
    be_.matmul(L.attn_q.mat, cur, n, q.data());
  }
  be_.matmul(L.attn_kv_a_mqa.mat, cur, n, kv.data());
  for (int64_t t = 0; t < n; ++t) {  // norm the latent part of each row only
    be_.rms_norm(kv.data() + t * row, L.attn_kv_a_norm.f32(), 1, R, c_.norm_eps, kv.data() + t * row);
  }
  be_.rope(q.data(), n, H, dk, nope, pos_.data(), rope_);
  be_.rope(kv.data(), n, 1, row, R, pos_.data(), rope_);
  std::vector<kernels::MatView> heads(static_cast<size_t>(H));
  for (int64_t h = 0; h < H; ++h) heads[static_cast<size_t>(h)] = L.attn_k_b.expert(h);
  be_.matmul_heads(heads.data(), H, q.data(), H * dk, dk, n, qa.data(), H * row, row);  // q_nope_h -> [rank]
  for (int64_t h = 0; h < H; ++h) {
    be_.copy_rows(q.data() + h * dk + nope, H * dk, qa.data() + h * row + R, H * row, n, nr);  // q_pe_h
  }
  kernels::AttnParams p;
  p.n_head = H, p.n_head_kv = 1, p.head_dim_k = row, p.head_dim_v = R, p.v_offset = 0;
  p.scale = kq_scale_, p.causal = true, p.window = c_.sliding_window;
  store_and_attend(il, qa.data(), kv.data(), nullptr, n, batch, p, olat.data());
  for (int64_t h = 0; h < H; ++h) heads[static_cast<size_t>(h)] = L.v_b_head(h, nope, dv);
  be_.matmul_heads(heads.data(), H, olat.data(), H * R, R, n, o.data(), H * dv, dv);  // latent_h -> [dv]
  be_.matmul(L.attn_output.mat, o.data(), n, out);
}

// Writes each token's k (and v) rows into its sequence's cache, then attends.
void Forward::store_and_attend(int64_t il, float* q, const float* k, const float* v, int64_t n,
                               const std::vector<BatchToken>& batch, const kernels::AttnParams& p, float* out) {
  const int64_t ke = kv_->k_row_elems(), ve = kv_->v_row_elems();
  std::map<int32_t, int64_t> n_kv;
  for (int64_t t = 0; t < n; ++t) {
    const BatchToken& b = batch[static_cast<size_t>(t)];
    be_.store_row(k + t * ke, ke, kv_->type(), kv_->k_row(il, b.seq, b.pos));
    if (v) be_.store_row(v + t * ve, ve, kv_->type(), kv_->v_row(il, b.seq, b.pos));
    n_kv[b.seq] = std::max<int64_t>(n_kv[b.seq], b.pos + 1);
  }
  std::unordered_map<int32_t, std::pair<kernels::KvView, kernels::KvView>> views;
  for (const auto& [seq, count] : n_kv) views[seq] = {kv_->k_view(il, seq), kv_->v_view(il, seq)};
  std::vector<kernels::AttnQuery> queries(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) {
    const BatchToken& b = batch[static_cast<size_t>(t)];
    const auto& vw = views[b.seq];
    queries[static_cast<size_t>(t)] = {vw.first, vw.second, n_kv[b.seq], b.pos};
  }
  be_.attention(q, n, queries.data(), p, out);
}

// SwiGLU FFN: down(silu(gate x) * up x).
void Forward::dense_ffn(const kernels::MatView& gate, const kernels::MatView& up, const kernels::MatView& down,
                        const float* x,
                        int64_t n, float* out) {
  const int64_t ff = gate.n_rows;
  DeviceBuffer g(be_, n * ff), u(be_, n * ff);  // F32 [n, ff]
  be_.matmul(gate, x, n, g.data());
  be_.matmul(up, x, n, u.data());
  be_.silu_mul(g.data(), u.data(), g.data(), n * ff);
  be_.matmul(down, g.data(), n, out);
}

}  // namespace moerag::engine
