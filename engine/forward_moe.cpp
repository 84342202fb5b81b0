// Mixture-of-experts FFN and expert routing, and the bert encoder. Routing is decided
// on the host from the router logits; tokens are then grouped by expert so each
// expert's three matrices are read once per step for all tokens routed to it.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/forward.h"

namespace moerag::engine {

// Router logits F32 [n, n_expert] (host) -> ids / weights [n, n_expert_used].
//  probs = softmax(logits) or sigmoid(logits) (gating func);
//  choice = probs + exp_probs_b (bias only steers the choice, DeepSeek-V3);
//  group-limited (n_expert_groups > 1): rank groups by max(choice) without a bias
//    (DeepSeek-V2 group_limited_greedy) or by the sum of their top-2 with one
//    (DeepSeek-V3 noaux_tc), keep n_group_used groups, mask the rest;
//  top-k of choice; weights = probs of the chosen, renormalised when
//  expert_weights_norm, times expert_weights_scale.
void Forward::route(int64_t il, const float* logits, int64_t n, std::vector<int32_t>& ids,
                    std::vector<float>& weights) {
  const LayerWeights& L = model_.layers[static_cast<size_t>(il)];
  const int64_t E = c_.n_expert, K = c_.n_expert_used, G = c_.n_expert_groups;
  std::vector<float> bias;
  if (L.exp_probs_b.present) {
    bias.resize(static_cast<size_t>(E));
    be_.to_host(L.exp_probs_b.f32(), bias.data(), bias.size());
  }
  ids.resize(static_cast<size_t>(n * K));
  weights.resize(static_cast<size_t>(n * K));
  std::vector<float> probs(static_cast<size_t>(E)), choice(static_cast<size_t>(E));
  for (int64_t t = 0; t < n; ++t) {
    const float* l = logits + t * E;
    if (c_.gating == GatingFunc::SIGMOID) {
      for (int64_t e = 0; e < E; ++e) probs[e] = 1.0f / (1.0f + std::exp(-l[e]));
    } else {
      const float mx = *std::max_element(l, l + E);
      float sum = 0;
      for (int64_t e = 0; e < E; ++e) sum += (probs[e] = std::exp(l[e] - mx));
      for (int64_t e = 0; e < E; ++e) probs[e] /= sum;
    }
    for (int64_t e = 0; e < E; ++e) choice[e] = probs[e] + (bias.empty() ? 0.0f : bias[e]);
    if (G > 1 && c_.n_group_used < G) {
      const int64_t gs = E / G;
      std::vector<float> gscore(static_cast<size_t>(G));
      for (int64_t g = 0; g < G; ++g) {
        std::vector<float> v(choice.begin() + g * gs, choice.begin() + (g + 1) * gs);
        std::sort(v.begin(), v.end(), std::greater<float>());
        gscore[g] = bias.empty() ? v[0] : v[0] + (gs > 1 ? v[1] : 0.0f);
      }
      std::vector<int32_t> keep(static_cast<size_t>(c_.n_group_used));
      kernels::cpu::top_k(gscore.data(), G, c_.n_group_used, keep.data());
      for (int64_t g = 0; g < G; ++g) {
        if (std::find(keep.begin(), keep.end(), g) != keep.end()) continue;
        std::fill(choice.begin() + g * gs, choice.begin() + (g + 1) * gs, -INFINITY);
      }
    }
    int32_t* top = ids.data() + t * K;
    float* w = weights.data() + t * K;
    kernels::cpu::top_k(choice.data(), E, K, top);
    float sum = 0;
    for (int64_t j = 0; j < K; ++j) sum += (w[j] = probs[top[j]]);
    for (int64_t j = 0; j < K; ++j) {
      if (c_.expert_weights_norm) w[j] /= sum;
      w[j] *= c_.expert_weights_scale;
    }
  }
}

void Forward::moe_ffn(int64_t il, const float* cur, int64_t n, float* out) {
  const LayerWeights& L = model_.layers[static_cast<size_t>(il)];
  const int64_t E = c_.n_expert, K = c_.n_expert_used, D = c_.n_embd, ff = c_.n_ff_exp;
  DeviceBuffer rl(be_, n * E);  // F32 [n, n_expert] router logits
  be_.matmul(L.ffn_gate_inp.mat, cur, n, rl.data());
  std::vector<float> logits(static_cast<size_t>(n * E));
  be_.to_host(rl.data(), logits.data(), logits.size());
  std::vector<int32_t> ids;
  std::vector<float> weights;
  route(il, logits.data(), n, ids, weights);

  // Group (token, weight) pairs by expert.
  std::vector<std::vector<int32_t>> toks(static_cast<size_t>(E));
  std::vector<std::vector<float>> ws(static_cast<size_t>(E));
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t j = 0; j < K; ++j) {
      const int32_t e = ids[static_cast<size_t>(t * K + j)];
      toks[e].push_back(static_cast<int32_t>(t));
      ws[e].push_back(weights[static_cast<size_t>(t * K + j)]);
      ++load_[static_cast<size_t>(il)][static_cast<size_t>(e)];
    }
  }
  DeviceBuffer acc(be_, n * D);      // F32 [n, n_embd] weighted sum of expert outputs
  DeviceBuffer xe(be_, n * K * D);   // F32 [n * top-k, n_embd] tokens grouped by expert
  DeviceBuffer ye(be_, n * K * D);   // F32 [n * top-k, n_embd] their expert outputs
  std::vector<Backend::ExpertJob> jobs;
  std::vector<int32_t> job_expert;
  for (int64_t e = 0, off = 0; e < E; ++e) {
    const int64_t m = static_cast<int64_t>(toks[e].size());
    if (m == 0) continue;
    be_.gather(cur, toks[e].data(), m, D, xe.data() + off * D);
    jobs.push_back({L.ffn_gate_exps.expert(e), L.ffn_up_exps.expert(e), L.ffn_down_exps.expert(e), xe.data() + off * D,
                    m, ye.data() + off * D});
    job_expert.push_back(static_cast<int32_t>(e));
    off += m;
  }
  be_.expert_ffns(jobs.data(), static_cast<int64_t>(jobs.size()));
  for (size_t j = 0; j < jobs.size(); ++j) {
    const int32_t e = job_expert[j];
    be_.scatter_add(jobs[j].y, toks[e].data(), ws[e].data(), jobs[j].m, D, acc.data());
  }
  (void)ff;
  if (L.ffn_gate_shexp.present) {
    DeviceBuffer sh(be_, n * D);  // F32 [n, n_embd] shared experts' output
    dense_ffn(L.ffn_gate_shexp.mat, L.ffn_up_shexp.mat, L.ffn_down_shexp.mat, cur, n, sh.data());
    if (L.ffn_gate_inp_shexp.present) {  // qwen2moe: scaled by sigmoid(w . x)
      DeviceBuffer gl(be_, n);  // F32 [n, 1]
      be_.matmul(L.ffn_gate_inp_shexp.mat, cur, n, gl.data());
      std::vector<float> gate(static_cast<size_t>(n));
      be_.to_host(gl.data(), gate.data(), gate.size());
      for (float& g : gate) g = 1.0f / (1.0f + std::exp(-g));
      be_.add_scaled(sh.data(), gate.data(), n, D, acc.data());
    } else {
      be_.add_scaled(sh.data(), nullptr, n, D, acc.data());
    }
  }
  be_.copy(acc.data(), out, static_cast<size_t>(n * D));
}

// bert: embeddings (token + type 0 + absolute position) -> LayerNorm, then post-norm
// blocks: x = LN(x + attn(x)); x = LN(x + down(gelu(up x))). Attention is
// bidirectional over this sequence's own keys (no cache).
Status Forward::encode(const std::vector<int32_t>& tokens, std::vector<float>* hidden) {
  MOERAG_ASSERT(c_.arch == Arch::BERT);
  const int64_t n = static_cast<int64_t>(tokens.size()), D = c_.n_embd, H = c_.n_head, dk = c_.head_dim_k,
                dv = c_.head_dim_v;
  if (n == 0) return Error(ErrorCode::INVALID_INPUT, "nothing to embed");
  if (n > c_.n_ctx_train) {
    return Error(ErrorCode::CONTEXT_TOO_LONG, std::to_string(n) + " tokens exceed the model's " +
                                                  std::to_string(c_.n_ctx_train) + " positions");
  }
  for (int32_t t : tokens) {
    if (t < 0 || t >= c_.n_vocab) return Error(ErrorCode::INVALID_INPUT, "token id out of range");
  }
  std::vector<int32_t> zeros(static_cast<size_t>(n), 0), positions(static_cast<size_t>(n));
  std::iota(positions.begin(), positions.end(), 0);
  DeviceBuffer x(be_, n * D), tmp(be_, n * D);  // F32 [n, n_embd]
  be_.get_rows(model_.tok_embd.mat, tokens.data(), n, x.data());
  be_.get_rows(model_.token_types.mat, zeros.data(), n, tmp.data());
  be_.add_scaled(tmp.data(), nullptr, n, D, x.data());
  be_.get_rows(model_.position_embd.mat, positions.data(), n, tmp.data());
  be_.add_scaled(tmp.data(), nullptr, n, D, x.data());
  be_.layer_norm(x.data(), model_.token_embd_norm.f32(), model_.token_embd_norm_b.f32(), n, D, c_.norm_eps, x.data());

  DeviceBuffer q(be_, n * H * dk), k(be_, n * H * dk), v(be_, n * H * dv), o(be_, n * H * dv);
  DeviceBuffer h(be_, n * c_.n_ff);  // F32 [n, n_ff]
  for (int64_t il = 0; il < c_.n_layer; ++il) {
    const LayerWeights& L = model_.layers[static_cast<size_t>(il)];
    be_.matmul(L.attn_q.mat, x.data(), n, q.data());
    be_.add_bias(L.attn_q_bias.f32(), n, H * dk, q.data());
    be_.matmul(L.attn_k.mat, x.data(), n, k.data());
    be_.add_bias(L.attn_k_bias.f32(), n, H * dk, k.data());
    be_.matmul(L.attn_v.mat, x.data(), n, v.data());
    be_.add_bias(L.attn_v_bias.f32(), n, H * dv, v.data());
    const uint8_t* kb = reinterpret_cast<const uint8_t*>(k.data());
    const uint8_t* vb = reinterpret_cast<const uint8_t*>(v.data());
    kernels::KvView kv{GgmlType::F32, &kb, n, static_cast<size_t>(H * dk) * 4, H * dk};
    kernels::KvView vv{GgmlType::F32, &vb, n, static_cast<size_t>(H * dv) * 4, H * dv};
    std::vector<kernels::AttnQuery> queries(static_cast<size_t>(n));
    for (int64_t t = 0; t < n; ++t) queries[static_cast<size_t>(t)] = {kv, vv, n, static_cast<int32_t>(t)};
    kernels::AttnParams p;
    p.n_head = p.n_head_kv = H, p.head_dim_k = dk, p.head_dim_v = dv;
    p.scale = 1.0f / std::sqrt(static_cast<float>(dk)), p.causal = false;
    be_.attention(q.data(), n, queries.data(), p, o.data());
    be_.matmul(L.attn_output.mat, o.data(), n, tmp.data());
    be_.add_bias(L.attn_output_bias.f32(), n, D, tmp.data());
    be_.add_scaled(tmp.data(), nullptr, n, D, x.data());
    be_.layer_norm(x.data(), L.attn_output_norm.f32(), L.attn_output_norm_b.f32(), n, D, c_.norm_eps, x.data());
    be_.matmul(L.ffn_up.mat, x.data(), n, h.data());
    be_.add_bias(L.ffn_up_bias.f32(), n, c_.n_ff, h.data());
    be_.gelu(h.data(), n * c_.n_ff);
    be_.matmul(L.ffn_down.mat, h.data(), n, tmp.data());
    be_.add_bias(L.ffn_down_bias.f32(), n, D, tmp.data());
    be_.add_scaled(tmp.data(), nullptr, n, D, x.data());
    be_.layer_norm(x.data(), L.layer_output_norm.f32(), L.layer_output_norm_b.f32(), n, D, c_.norm_eps, x.data());
  }
  hidden->resize(static_cast<size_t>(n * D));
  be_.to_host(x.data(), hidden->data(), hidden->size());
  return ok_status();
}

}  // namespace moerag::engine
