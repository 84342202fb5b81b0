// The forward pass against an independent, deliberately naive float64 reference
// written here from the architectures' public definitions (no engine kernel code):
// every architecture x every weight format, relative L2 of the logits <= 1e-4 for
// F32 and <= 1e-2 for quantised weights (reference on the dequantised weights), and
// 32-token greedy continuations identical for F32. MLA is checked in its plain
// (non-absorbed) form, so the engine's absorbed form is verified against it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "engine/forward.h"
#include "engine/synth.h"

namespace moerag::engine {
namespace {

using Vec = std::vector<double>;

struct Ref {
  const GgufFile& f;
  ModelConfig c;
  std::map<std::string, Vec> cache;

  bool has(const std::string& n) const { return f.find_tensor(n) != nullptr; }
  const Vec& W(const std::string& n) {
    auto it = cache.find(n);
    if (it != cache.end()) return it->second;
    const GgufTensor* t = f.find_tensor(n);
    EXPECT_NE(t, nullptr) << n;
    std::vector<float> tmp(t->n_elements);
    for (int64_t r = 0; r < t->n_rows(); ++r) {
      EXPECT_TRUE(dequantize_row(t->type, t->data + r * t->row_bytes(), tmp.data() + r * t->row_length(),
                                 t->row_length()).ok());
    }
    return cache[n] = Vec(tmp.begin(), tmp.end());
  }
  // y = W[row0 : row0 + rows] x, W [*, cols] (offset in elements for expert stacks)
  static Vec mv(const Vec& w, int64_t rows, int64_t cols, const Vec& x, int64_t off = 0) {
    Vec y(rows, 0.0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < cols; ++i) y[r] += w[off + r * cols + i] * x[i];
    return y;
  }
  static Vec rms(const Vec& x, const Vec* w, double eps, int64_t off = 0, int64_t n = -1) {
    if (n < 0) n = static_cast<int64_t>(x.size());
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += x[off + i] * x[off + i];
    Vec y(n);
    for (int64_t i = 0; i < n; ++i) y[i] = x[off + i] / std::sqrt(ss / n + eps) * (w ? (*w)[i] : 1.0);
    return y;
  }
  // Rotates x[off .. off + n_rot) at position pos.
  void rope(double* x, int pos) const {
    const int64_t d = c.n_rot;
    for (int64_t i = 0; i < d / 2; ++i) {
      double inv = std::pow(static_cast<double>(c.rope_freq_base), -2.0 * i / d);
      if (c.rope_scaling == RopeScaling::YARN) {  // YaRN: blend interpolated/extrapolated per dim
        auto corr = [&](double rot) {
          return d * std::log(c.rope_orig_ctx / (rot * 2 * M_PI)) / (2 * std::log(c.rope_freq_base));
        };
        double low = std::max(0.0, std::floor(corr(32))), high = std::min<double>(d - 1, std::ceil(corr(1)));
        double ramp = std::clamp((i - low) / std::max(0.001, high - low), 0.0, 1.0);
        double extra = 1.0 - ramp;
        inv = inv / c.rope_scaling_factor * (1 - extra) + inv * extra;
      }
      double th = pos * inv, cs = std::cos(th), sn = std::sin(th);
      if (c.arch == Arch::DEEPSEEK2 || c.rope_scaling != RopeScaling::YARN) {
      } else {
        double m = 1 + 0.1 * std::log(c.rope_scaling_factor);
        cs *= m, sn *= m;
      }
      const int64_t a = c.rope_type == RopeType::NEOX ? i : 2 * i, b = c.rope_type == RopeType::NEOX ? i + d / 2 : 2 * i + 1;
      const double x0 = x[a], x1 = x[b];
      x[a] = x0 * cs - x1 * sn;
      x[b] = x0 * sn + x1 * cs;
    }
  }
  Vec swiglu(const std::string& p, const Vec& h, int64_t ff, int64_t e = -1) {
    const int64_t D = c.n_embd, go = e < 0 ? 0 : e * ff * D;
    const std::string s = e < 0 ? "" : "_exps";
    Vec g = mv(W(p + "ffn_gate" + s + ".weight"), ff, D, h, go), u = mv(W(p + "ffn_up" + s + ".weight"), ff, D, h, go);
    for (int64_t i = 0; i < ff; ++i) g[i] = g[i] / (1 + std::exp(-g[i])) * u[i];
    return mv(W(p + "ffn_down" + s + ".weight"), D, ff, g, go);
  }
  Vec swiglu_named(const std::string& p, const std::string& suf, const Vec& h, int64_t ff) {
    const int64_t D = c.n_embd;
    Vec g = mv(W(p + "ffn_gate" + suf), ff, D, h), u = mv(W(p + "ffn_up" + suf), ff, D, h);
    for (int64_t i = 0; i < ff; ++i) g[i] = g[i] / (1 + std::exp(-g[i])) * u[i];
    return mv(W(p + "ffn_down" + suf), D, ff, g);
  }
  Vec moe(const std::string& p, const Vec& h) {
    const int64_t E = c.n_expert, K = c.n_expert_used;
    Vec l = mv(W(p + "ffn_gate_inp.weight"), E, c.n_embd, h), pr(E), ch(E);
    if (c.gating == GatingFunc::SIGMOID) {
      for (int64_t e = 0; e < E; ++e) pr[e] = 1 / (1 + std::exp(-l[e]));
    } else {
      double mx = *std::max_element(l.begin(), l.end()), s = 0;
      for (int64_t e = 0; e < E; ++e) s += pr[e] = std::exp(l[e] - mx);
      for (auto& v : pr) v /= s;
    }
    const bool has_b = has(p + "exp_probs_b.bias");
    for (int64_t e = 0; e < E; ++e) ch[e] = pr[e] + (has_b ? W(p + "exp_probs_b.bias")[e] : 0);
    if (c.n_expert_groups > 1) {
      const int64_t G = c.n_expert_groups, gs = E / G;
      std::vector<std::pair<double, int64_t>> gsc;
      for (int64_t g = 0; g < G; ++g) {
        Vec v(ch.begin() + g * gs, ch.begin() + (g + 1) * gs);
        std::sort(v.rbegin(), v.rend());
        gsc.push_back({has_b ? v[0] + v[1] : v[0], g});
      }
      std::stable_sort(gsc.begin(), gsc.end(), [](auto a, auto b) { return a.first > b.first; });
      for (int64_t j = c.n_group_used; j < G; ++j)
        for (int64_t e = 0; e < gs; ++e) ch[gsc[j].second * gs + e] = -INFINITY;
    }
    std::vector<int64_t> idx(E);
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return ch[a] > ch[b]; });
    double wsum = 0;
    for (int64_t j = 0; j < K; ++j) wsum += pr[idx[j]];
    Vec out(c.n_embd, 0.0);
    for (int64_t j = 0; j < K; ++j) {
      double w = pr[idx[j]] / (c.expert_weights_norm ? wsum : 1.0) * c.expert_weights_scale;
      Vec y = swiglu(p, h, c.n_ff_exp, idx[j]);
      for (int64_t i = 0; i < c.n_embd; ++i) out[i] += w * y[i];
    }
    if (has(p + "ffn_gate_shexp.weight")) {
      Vec y = swiglu_named(p, "_shexp.weight", h, c.n_ff_shexp);
      double g = 1;
      if (has(p + "ffn_gate_inp_shexp.weight")) g = 1 / (1 + std::exp(-mv(W(p + "ffn_gate_inp_shexp.weight"), 1, c.n_embd, h)[0]));
      for (int64_t i = 0; i < c.n_embd; ++i) out[i] += g * y[i];
    }
    return out;
  }

  // Logits of every position of `tokens` (full recomputation, no cache).
  std::vector<Vec> logits(const std::vector<int32_t>& tokens) {
    const int64_t T = tokens.size(), D = c.n_embd, H = c.n_head, Hkv = c.n_head_kv, dk = c.head_dim_k,
                  dv = c.head_dim_v;
    std::vector<Vec> x(T);
    for (int64_t t = 0; t < T; ++t) x[t] = Vec(W("token_embd.weight").begin() + tokens[t] * D, W("token_embd.weight").begin() + (tokens[t] + 1) * D);
    for (int64_t il = 0; il < c.n_layer; ++il) {
      const std::string p = "blk." + std::to_string(il) + ".";
      std::vector<Vec> q(T), k(T), v(T);  // per token: [heads * dim]
      for (int64_t t = 0; t < T; ++t) {
        Vec h = rms(x[t], &W(p + "attn_norm.weight"), c.norm_eps);
        if (c.arch == Arch::DEEPSEEK2) {
          const int64_t R = c.kv_lora_rank, nope = c.head_dim_qk_nope();
          if (c.q_lora_rank > 0) {
            Vec a = mv(W(p + "attn_q_a.weight"), c.q_lora_rank, D, h);
            q[t] = mv(W(p + "attn_q_b.weight"), H * dk, c.q_lora_rank, rms(a, &W(p + "attn_q_a_norm.weight"), c.norm_eps));
          } else {
            q[t] = mv(W(p + "attn_q.weight"), H * dk, D, h);
          }
          Vec kva = mv(W(p + "attn_kv_a_mqa.weight"), R + c.n_rot, D, h);
          Vec lat = rms(kva, &W(p + "attn_kv_a_norm.weight"), c.norm_eps, 0, R);
          Vec kvb = mv(W(p + "attn_kv_b.weight"), H * (nope + dv), R, lat);
          rope(kva.data() + R, t);
          k[t].assign(H * dk, 0), v[t].assign(H * dv, 0);
          for (int64_t hh = 0; hh < H; ++hh) {
            rope(q[t].data() + hh * dk + nope, t);
            for (int64_t i = 0; i < nope; ++i) k[t][hh * dk + i] = kvb[hh * (nope + dv) + i];
            for (int64_t i = 0; i < c.n_rot; ++i) k[t][hh * dk + nope + i] = kva[R + i];
            for (int64_t i = 0; i < dv; ++i) v[t][hh * dv + i] = kvb[hh * (nope + dv) + nope + i];
          }
          continue;
        }
        q[t] = mv(W(p + "attn_q.weight"), H * dk, D, h);
        k[t] = mv(W(p + "attn_k.weight"), Hkv * dk, D, h);
        v[t] = mv(W(p + "attn_v.weight"), Hkv * dv, D, h);
        if (c.attn_bias) {
          for (int64_t i = 0; i < H * dk; ++i) q[t][i] += W(p + "attn_q.bias")[i];
          for (int64_t i = 0; i < Hkv * dk; ++i) k[t][i] += W(p + "attn_k.bias")[i];
          for (int64_t i = 0; i < Hkv * dv; ++i) v[t][i] += W(p + "attn_v.bias")[i];
        }
        if (c.arch == Arch::QWEN3MOE) {
          for (int64_t hh = 0; hh < H; ++hh) {
            Vec r = rms(q[t], &W(p + "attn_q_norm.weight"), c.norm_eps, hh * dk, dk);
            std::copy(r.begin(), r.end(), q[t].begin() + hh * dk);
          }
          for (int64_t hh = 0; hh < Hkv; ++hh) {
            Vec r = rms(k[t], &W(p + "attn_k_norm.weight"), c.norm_eps, hh * dk, dk);
            std::copy(r.begin(), r.end(), k[t].begin() + hh * dk);
          }
        } else if (c.arch == Arch::OLMOE) {
          q[t] = rms(q[t], &W(p + "attn_q_norm.weight"), c.norm_eps);
          k[t] = rms(k[t], &W(p + "attn_k_norm.weight"), c.norm_eps);
        }
        for (int64_t hh = 0; hh < H; ++hh) rope(q[t].data() + hh * dk, t);
        for (int64_t hh = 0; hh < Hkv; ++hh) rope(k[t].data() + hh * dk, t);
      }
      double scale = 1 / std::sqrt(static_cast<double>(dk));
      if (c.arch == Arch::DEEPSEEK2 && c.rope_scaling == RopeScaling::YARN) {
        double m = 1 + c.rope_yarn_log_mul * std::log(c.rope_scaling_factor);
        scale *= m * m;
      }
      const int64_t kvh = c.arch == Arch::DEEPSEEK2 ? H : Hkv;
      for (int64_t t = 0; t < T; ++t) {
        Vec o(H * dv, 0.0);
        for (int64_t hh = 0; hh < H; ++hh) {
          const int64_t g = hh / (H / kvh);
          Vec s(t + 1);
          for (int64_t j = 0; j <= t; ++j) {
            s[j] = 0;
            for (int64_t i = 0; i < dk; ++i) s[j] += q[t][hh * dk + i] * k[j][g * dk + i];
            s[j] *= scale;
            if (c.sliding_window > 0 && t - j >= c.sliding_window) s[j] = -INFINITY;
          }
          double mx = *std::max_element(s.begin(), s.end()), sum = 0;
          for (auto& e : s) sum += e = std::exp(e - mx);
          for (int64_t j = 0; j <= t; ++j)
            for (int64_t i = 0; i < dv; ++i) o[hh * dv + i] += s[j] / sum * v[j][g * dv + i];
        }
        Vec a = mv(W(p + "attn_output.weight"), D, H * dv, o);
        for (int64_t i = 0; i < D; ++i) x[t][i] += a[i];
        Vec h = rms(x[t], &W(p + "ffn_norm.weight"), c.norm_eps);
        Vec f = c.layer_is_moe(il) ? moe(p, h) : swiglu_named(p, ".weight", h, c.n_ff);
        for (int64_t i = 0; i < D; ++i) x[t][i] += f[i];
      }
    }
    const std::string out = has("output.weight") ? "output.weight" : "token_embd.weight";
    std::vector<Vec> res;
    for (int64_t t = 0; t < T; ++t) res.push_back(mv(W(out), c.n_vocab, D, rms(x[t], &W("output_norm.weight"), c.norm_eps)));
    return res;
  }
};

struct Case {
  const char* label;
  SynthOptions o;
};

std::vector<Case> cases(int64_t dim) {
  auto mk = [&](Arch a) {
    SynthOptions o;
    o.arch = a, o.n_layer = 2, o.n_embd = dim, o.n_vocab = 320, o.seed = 42, o.n_threads = 1;
    return o;
  };
  std::vector<Case> v;
  v.push_back({"llama-dense", mk(Arch::LLAMA)});
  v.back().o.n_head = 4, v.back().o.n_head_kv = 2;
  v.push_back({"llama-mixtral", mk(Arch::LLAMA)});
  v.back().o.n_expert = 4, v.back().o.n_expert_used = 2, v.back().o.n_ff = dim;
  v.push_back({"qwen2moe", mk(Arch::QWEN2MOE)});
  v.push_back({"qwen3moe", mk(Arch::QWEN3MOE)});
  v.push_back({"olmoe", mk(Arch::OLMOE)});
  v.push_back({"deepseek2-v2lite", mk(Arch::DEEPSEEK2)});
  v.back().o.n_head = 2;
  v.push_back({"deepseek2-v3", mk(Arch::DEEPSEEK2)});
  v.back().o.n_head = 2, v.back().o.sigmoid_gating = true, v.back().o.q_lora_rank = 64, v.back().o.n_expert = 8;
  return v;
}

struct Loaded {
  std::unique_ptr<Backend> be = make_cpu_backend(2);
  std::unique_ptr<Model> model;
  std::unique_ptr<KvCache> kv;
};

Loaded load(const SynthOptions& o) {
  Loaded l;
  GgufWriter w;
  auto built = build_synth(o, w);
  EXPECT_TRUE(built.ok()) << (built.ok() ? "" : built.error().message);
  auto bytes = w.to_bytes();
  EXPECT_TRUE(bytes.ok());
  auto file = GgufFile::open_memory(std::move(*bytes));
  EXPECT_TRUE(file.ok()) << (file.ok() ? "" : file.error().message);
  auto m = Model::from_file(std::move(*file), *l.be);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  l.model = std::move(*m);
  KvCacheOptions ko;
  ko.type = GgmlType::F32, ko.n_ctx = 128, ko.block_size = 8;
  l.kv = std::move(KvCache::create(l.model->config(), *l.be, ko)).value();
  return l;
}

double rel(const std::vector<float>& a, const Vec& b) {
  double n = 0, d = 0;
  for (size_t i = 0; i < b.size(); ++i) n += (a[i] - b[i]) * (a[i] - b[i]), d += b[i] * b[i];
  return std::sqrt(n / d);
}

const std::vector<int32_t> kPrompt = {1, 17, 250, 33, 99, 7};

TEST(ForwardReference, EveryArchAndFormatMatchesFloat64) {
  const GgmlType types[] = {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0,
                            GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K};
  for (GgmlType type : types) {
    for (Case cs : cases(256)) {
      cs.o.type = type;
      Loaded l = load(cs.o);
      ASSERT_TRUE(l.model);
      Ref ref{l.model->file(), l.model->config()};
      const Vec want = ref.logits(kPrompt).back();
      ASSERT_TRUE(l.kv->add_sequence(0).ok());
      Forward fwd(*l.model, *l.be, l.kv.get());
      std::vector<BatchToken> batch;
      for (size_t i = 0; i < kPrompt.size(); ++i) batch.push_back({kPrompt[i], 0, static_cast<int32_t>(i), i + 1 == kPrompt.size()});
      std::vector<float> got;
      ASSERT_TRUE(fwd.decode(batch, &got).ok());
      const double tol = type == GgmlType::F32 ? 1e-4 : 1e-2;
      EXPECT_LT(rel(got, want), tol) << cs.label << " " << type_name(type);
    }
  }
}

TEST(ForwardReference, GreedyContinuationsIdenticalF32) {
  for (Case cs : cases(64)) {
    Loaded l = load(cs.o);
    ASSERT_TRUE(l.model);
    Ref ref{l.model->file(), l.model->config()};
    ASSERT_TRUE(l.kv->add_sequence(0).ok());
    Forward fwd(*l.model, *l.be, l.kv.get());
    std::vector<int32_t> seq = kPrompt, ref_seq = kPrompt;
    std::vector<BatchToken> batch;
    for (size_t i = 0; i < seq.size(); ++i) batch.push_back({seq[i], 0, static_cast<int32_t>(i), i + 1 == seq.size()});
    for (int step = 0; step < 32; ++step) {
      std::vector<float> lg;
      ASSERT_TRUE(fwd.decode(batch, &lg).ok());
      const int32_t next = static_cast<int32_t>(std::max_element(lg.begin(), lg.end()) - lg.begin());
      seq.push_back(next);
      batch = {{next, 0, static_cast<int32_t>(seq.size() - 1), true}};
    }
    // Reference: full recomputation once over the generated sequence (teacher forcing
    // gives every step's argmax in one pass).
    auto all = ref.logits(std::vector<int32_t>(seq.begin(), seq.end() - 1));
    for (size_t t = kPrompt.size() - 1; t < all.size(); ++t) {
      const int32_t want = static_cast<int32_t>(std::max_element(all[t].begin(), all[t].end()) - all[t].begin());
      ASSERT_EQ(seq[t + 1], want) << cs.label << " step " << t;
    }
  }
}

}  // namespace
}  // namespace moerag::engine
