// The CPU Backend: weights are views into the memory-mapped file (never copied),
// device memory is host memory, and ops forward to kernels/cpu on the engine's own
// thread pool (n_threads - 1 workers plus the calling thread).
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "engine/backend.h"

namespace moerag::engine {
namespace {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(size_t n_threads) {
    if (n_threads == 0) n_threads = std::max(1u, std::thread::hardware_concurrency());
    if (n_threads > 1) pool_ = std::make_unique<ThreadPool>(n_threads - 1);
  }
  std::string name() const override { return std::string("cpu-") + kernels::cpu::simd_level(); }

  Result<DeviceWeight> upload_weight(const GgufTensor& t) override {
    DeviceWeight w;
    w.present = true;
    w.mat.type = t.type;
    w.mat.data = t.data;
    w.mat.n_cols = t.row_length();
    w.n_mat = t.shape.size() == 3 ? t.shape[0] : 1;
    w.mat.n_rows = t.n_rows() / w.n_mat;
    w.mat.row_bytes = t.row_bytes();
    w.mat_bytes = w.mat.row_bytes * static_cast<size_t>(w.mat.n_rows);
    return w;
  }
  void* alloc(size_t bytes) override {
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    MOERAG_ASSERT(p != nullptr);
    std::memset(p, 0, bytes);
    return p;
  }
  void free(void* p) override { std::free(p); }
  void to_host(const float* dev, float* host, size_t n) override { std::memcpy(host, dev, n * sizeof(float)); }
  void to_device(const float* host, float* dev, size_t n) override { std::memcpy(dev, host, n * sizeof(float)); }
  void copy(const float* src, float* dst, size_t n) override { std::memmove(dst, src, n * sizeof(float)); }

  void matmul(const kernels::MatView& w, const float* x, int64_t n_tok, float* y) override {
    kernels::cpu::matmul(w, x, n_tok, y, pool_.get());
  }
  void expert_ffns(const ExpertJob* jobs, int64_t count) override {
    const size_t threads = pool_ ? pool_->size() + 1 : 1;
    auto run = [&](const ExpertJob& j, ThreadPool* pool, std::vector<float>& g, std::vector<float>& u) {
      const int64_t ff = j.gate.n_rows;
      g.resize(static_cast<size_t>(j.m * ff));
      u.resize(static_cast<size_t>(j.m * ff));
      kernels::cpu::matmul(j.gate, j.x, j.m, g.data(), pool);
      kernels::cpu::matmul(j.up, j.x, j.m, u.data(), pool);
      kernels::cpu::silu_mul(g.data(), u.data(), g.data(), j.m * ff);
      kernels::cpu::matmul(j.down, g.data(), j.m, j.y, pool);
    };
    // Whole experts to threads only when each has one token (decode): there a row split
    // of every small product costs more in hand-offs than it saves; with several tokens
    // per expert, splitting rows measured faster (bench_load N = 16, separate runs: about
    // 1,050 tok/s with the row split, 780-920 with whole experts).
    bool single = static_cast<size_t>(count) >= threads;
    for (int64_t i = 0; i < count && single; ++i) single = jobs[i].m == 1;
    if (pool_ == nullptr || !single) {
      std::vector<float> g, u;  // F32 [m, ff]
      for (int64_t i = 0; i < count; ++i) run(jobs[i], pool_.get(), g, u);
      return;
    }
    pool_->parallel_for(static_cast<size_t>(count), [&](size_t b, size_t e) {
      std::vector<float> g, u;  // F32 [m, ff]
      for (size_t i = b; i < e; ++i) run(jobs[i], nullptr, g, u);
    });
  }
  // Heads are shared out among the threads (one parallel region instead of one per head);
  // a head's strided slices are packed into per-thread scratch when there are several tokens.
  void matmul_heads(const kernels::MatView* w, int64_t n_head, const float* x, int64_t ldx, int64_t x_head,
                    int64_t n_tok, float* y, int64_t ldy, int64_t y_head) override {
    auto heads = [&](size_t h0, size_t h1) {
      std::vector<float> xin, yout;  // F32 [n_tok, n_cols], [n_tok, n_rows]: one head's packed slices
      for (size_t h = h0; h < h1; ++h) {
        const kernels::MatView& m = w[h];
        const float* xh = x + static_cast<int64_t>(h) * x_head;
        float* yh = y + static_cast<int64_t>(h) * y_head;
        if (n_tok == 1) {
          kernels::cpu::matmul(m, xh, 1, yh, nullptr);
          continue;
        }
        xin.resize(static_cast<size_t>(n_tok * m.n_cols));
        yout.resize(static_cast<size_t>(n_tok * m.n_rows));
        copy_rows(xh, ldx, xin.data(), m.n_cols, n_tok, m.n_cols);
        kernels::cpu::matmul(m, xin.data(), n_tok, yout.data(), nullptr);
        copy_rows(yout.data(), m.n_rows, yh, ldy, n_tok, m.n_rows);
      }
    };
    if (pool_ == nullptr || n_head < 2) return heads(0, static_cast<size_t>(n_head));
    pool_->parallel_for(static_cast<size_t>(n_head), heads);
  }
  void rms_norm(const float* x, const float* w, int64_t n_rows, int64_t n, float eps, float* y) override {
    kernels::cpu::rms_norm(x, w, n_rows, n, eps, y);
  }
  void layer_norm(const float* x, const float* w, const float* b, int64_t n_rows, int64_t n, float eps,
                  float* y) override {
    kernels::cpu::layer_norm(x, w, b, n_rows, n, eps, y);
  }
  void rope(float* x, int64_t n_tok, int64_t n_head, int64_t head_stride, int64_t off, const int32_t* pos,
            const kernels::RopeParams& p) override {
    kernels::cpu::rope(x, n_tok, n_head, head_stride, off, pos, p);
  }
  void softmax(float* x, int64_t n_rows, int64_t n) override { kernels::cpu::softmax(x, n_rows, n); }
  void silu_mul(const float* g, const float* u, float* y, int64_t n) override { kernels::cpu::silu_mul(g, u, y, n); }
  void gelu(float* x, int64_t n) override { kernels::cpu::gelu(x, n); }
  void attention(const float* q, int64_t n_tok, const kernels::AttnQuery* queries, const kernels::AttnParams& p,
                 float* out) override {
    kernels::cpu::attention(q, n_tok, queries, p, out, pool_.get());
  }
  void add_scaled(const float* x, const float* scale, int64_t n_rows, int64_t n, float* y) override {
    for (int64_t r = 0; r < n_rows; ++r) {
      const float s = scale ? scale[r] : 1.0f;
      for (int64_t i = 0; i < n; ++i) y[r * n + i] += s * x[r * n + i];
    }
  }
  void add_bias(const float* b, int64_t n_rows, int64_t n, float* y) override {
    for (int64_t r = 0; r < n_rows; ++r) {
      for (int64_t i = 0; i < n; ++i) y[r * n + i] += b[i];
    }
  }
  void get_rows(const kernels::MatView& table, const int32_t* ids, int64_t n_ids, float* y) override {
    for (int64_t i = 0; i < n_ids; ++i) {
      MOERAG_ASSERT(ids[i] >= 0 && ids[i] < table.n_rows);
      MOERAG_ASSERT(dequantize_row(table.type, table.data + static_cast<size_t>(ids[i]) * table.row_bytes,
                                   y + i * table.n_cols, table.n_cols)
                        .ok());
    }
  }
  void store_row(const float* x, int64_t n, GgmlType type, uint8_t* dst) override {
    MOERAG_ASSERT(quantize_row(type, x, dst, n).ok());
  }
  void gather(const float* x, const int32_t* idx, int64_t n_idx, int64_t n, float* y) override {
    for (int64_t i = 0; i < n_idx; ++i) std::memcpy(y + i * n, x + static_cast<int64_t>(idx[i]) * n, n * sizeof(float));
  }
  void scatter_add(const float* x, const int32_t* idx, const float* scale, int64_t n_idx, int64_t n,
                   float* y) override {
    for (int64_t i = 0; i < n_idx; ++i) {
      float* dst = y + static_cast<int64_t>(idx[i]) * n;
      for (int64_t j = 0; j < n; ++j) dst[j] += scale[i] * x[i * n + j];
    }
  }
  void copy_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t n_rows,
                 int64_t n) override {
    for (int64_t r = 0; r < n_rows; ++r) std::memcpy(dst + r * dst_stride, src + r * src_stride, n * sizeof(float));
  }

 private:
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(size_t n_threads) { return std::make_unique<CpuBackend>(n_threads); }

}  // namespace moerag::engine
