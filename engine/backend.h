// Backend: the op-level interface the forward pass runs on. A backend owns its
// memory: weights are made resident once (`upload_weight`: zero-copy on the CPU, a
// device copy on CUDA), activations and KV blocks live in buffers it allocates, and
// every op takes device pointers. The forward pass never touches device memory
// directly except through `to_host`/`to_device` (routing decisions are made on the
// host from downloaded router logits). The CPU backend runs kernels/cpu on the
// engine's thread pool; a CUDA backend implements the same ops over kernels/cuda.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "engine/gguf.h"
#include "engine/kernels/kernels.h"

namespace moerag {
class ThreadPool;
}

namespace moerag::engine {

/// A weight tensor resident on a backend: n_mat matrices (experts) of
/// [n_rows, n_cols], matrix e at mat.data + e * mat_bytes. 1-D tensors have n_rows 1.
struct DeviceWeight {
  kernels::MatView mat;     ///< matrix 0 // type [n_rows, n_cols]
  int64_t n_mat = 1;        ///< experts in a 3-D stack
  size_t mat_bytes = 0;     ///< bytes per matrix
  bool present = false;     ///< false for an optional tensor the file lacks

  /// Matrix e of a stack (rows [row0, row0 + n) when n > 0).
  kernels::MatView expert(int64_t e, int64_t row0 = 0, int64_t n = -1) const {
    kernels::MatView m = mat;
    m.data += static_cast<size_t>(e) * mat_bytes;
    return n < 0 ? m : m.rows(row0, n);
  }
  /// F32 data of a norm/bias vector (only valid for F32 tensors).
  const float* f32() const { return present ? reinterpret_cast<const float*>(mat.data) : nullptr; }
};

/// Op-level compute interface; the CPU one is make_cpu_backend().
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // ---- memory ----
  /// Makes a file tensor resident. CPU: a view into the mapping (no copy).
  virtual Result<DeviceWeight> upload_weight(const GgufTensor& t) = 0;
  /// Device memory of `bytes` (zeroed), freed with free().
  virtual void* alloc(size_t bytes) = 0;
  virtual void free(void* p) = 0;
  /// Copies n floats between host and device.
  virtual void to_host(const float* dev, float* host, size_t n) = 0;
  virtual void to_device(const float* host, float* dev, size_t n) = 0;
  /// Device-to-device copy of n floats.
  virtual void copy(const float* src, float* dst, size_t n) = 0;

  // ---- ops (shapes as in kernels.h). Float buffers are device memory; small index,
  // position and scale arrays (ids, idx, pos, scale) are host arrays. ----
  virtual void matmul(const kernels::MatView& w, const float* x, int64_t n_tok, float* y) = 0;
  /// One SwiGLU expert's work in a step: y F32 [m, n_embd] = down(silu(gate x) * up x) for
  /// its m tokens x F32 [m, n_embd].
  struct ExpertJob {
    kernels::MatView gate, up, down;
    const float* x = nullptr;
    int64_t m = 0;
    float* y = nullptr;
  };
  /// Runs every job; each job's y equals the dense FFN of its tokens alone. The CPU backend
  /// gives whole experts to threads in decode (one token each, at least one expert per
  /// thread): one parallel region per MoE layer instead of three per expert.
  virtual void expert_ffns(const ExpertJob* jobs, int64_t count) = 0;
  /// Per-head products in one pass (MLA's absorbed heads): for h < n_head and every token t,
  /// y[t * ldy + h * y_head ..][n_rows of w[h]] = w[h] . x[t * ldx + h * x_head ..][n_cols of w[h]].
  /// Each head's result equals matmul() of that head alone.
  virtual void matmul_heads(const kernels::MatView* w, int64_t n_head, const float* x, int64_t ldx, int64_t x_head,
                            int64_t n_tok, float* y, int64_t ldy, int64_t y_head) = 0;
  virtual void rms_norm(const float* x, const float* w, int64_t n_rows, int64_t n, float eps, float* y) = 0;
  virtual void layer_norm(const float* x, const float* w, const float* b, int64_t n_rows, int64_t n, float eps,
                          float* y) = 0;
  virtual void rope(float* x, int64_t n_tok, int64_t n_head, int64_t head_stride, int64_t off,
                    const int32_t* pos, const kernels::RopeParams& p) = 0;
  virtual void softmax(float* x, int64_t n_rows, int64_t n) = 0;
  virtual void silu_mul(const float* g, const float* u, float* y, int64_t n) = 0;
  virtual void gelu(float* x, int64_t n) = 0;
  virtual void attention(const float* q, int64_t n_tok, const kernels::AttnQuery* queries,
                         const kernels::AttnParams& p, float* out) = 0;
  /// y[r, i] += x[r, i] * (scale ? scale[r] : 1). x, y F32 [n_rows, n]; scale F32 [n_rows].
  virtual void add_scaled(const float* x, const float* scale, int64_t n_rows, int64_t n, float* y) = 0;
  /// y[r, i] += b[i]. y F32 [n_rows, n]; b F32 [n].
  virtual void add_bias(const float* b, int64_t n_rows, int64_t n, float* y) = 0;
  /// y[i] = row ids[i] of an embedding table, as F32. table type [n_vocab, n]; y F32 [n_ids, n].
  virtual void get_rows(const kernels::MatView& table, const int32_t* ids, int64_t n_ids, float* y) = 0;
  /// Writes n elements of x F32 [n] into dst in `type` (KV cache stores).
  virtual void store_row(const float* x, int64_t n, GgmlType type, uint8_t* dst) = 0;
  /// Gathers rows: y[i] = x[idx[i]]. x F32 [*, n]; y F32 [n_idx, n].
  virtual void gather(const float* x, const int32_t* idx, int64_t n_idx, int64_t n, float* y) = 0;
  /// Scatter-add: y[idx[i]] += scale[i] * x[i]. x F32 [n_idx, n]; y F32 [*, n].
  virtual void scatter_add(const float* x, const int32_t* idx, const float* scale, int64_t n_idx, int64_t n,
                           float* y) = 0;
  /// Strided 2-D copy: dst[r * dst_stride + i] = src[r * src_stride + i], i < n.
  virtual void copy_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t n_rows,
                         int64_t n) = 0;
};

/// The CPU backend on a pool of n_threads (0 = hardware concurrency).
std::unique_ptr<Backend> make_cpu_backend(size_t n_threads = 0);

/// RAII F32 buffer on a backend. // F32 [n]
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(Backend& b, size_t n) : b_(&b), n_(n), p_(static_cast<float*>(b.alloc(n * sizeof(float)))) {}
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : b_(o.b_), n_(o.n_), p_(o.p_) { o.p_ = nullptr; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      b_ = o.b_, n_ = o.n_, p_ = o.p_;
      o.p_ = nullptr;
    }
    return *this;
  }
  float* data() const { return p_; }
  size_t size() const { return n_; }
  void reset() {
    if (p_) b_->free(p_);
    p_ = nullptr;
  }

 private:
  Backend* b_ = nullptr;
  size_t n_ = 0;
  float* p_ = nullptr;
};

}  // namespace moerag::engine
