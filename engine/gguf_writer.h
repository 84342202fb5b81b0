// GgufWriter: builds a GGUF v3 file from metadata values and tensors (shapes
// outermost first, converted to GGUF's innermost-first ne[] here) and writes it
// atomically (temporary file + rename). Tensor bytes can be supplied up front or
// produced at write time by a fill callback, so multi-GB files never sit in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/gguf.h"
#include "engine/tensor_types.h"

namespace moerag::engine {

class GgufWriter {
 public:
  /// Fills `dst` (exactly the tensor's byte size) with the tensor's data.
  using FillFn = std::function<Status(uint8_t* dst)>;

  /// alignment: a power of two; written as `general.alignment` when not 32.
  explicit GgufWriter(uint32_t alignment = 32);

  /// Sets `key` (replacing an earlier value in place, else appending).
  void set(const std::string& key, GgufValue value);
  void set_u32(const std::string& key, uint32_t v) { set(key, GgufValue(v)); }
  void set_i32(const std::string& key, int32_t v) { set(key, GgufValue(v)); }
  void set_u64(const std::string& key, uint64_t v) { set(key, GgufValue(v)); }
  void set_f32(const std::string& key, float v) { set(key, GgufValue(v)); }
  void set_bool(const std::string& key, bool v) { set(key, GgufValue(v)); }
  void set_str(const std::string& key, std::string v) { set(key, GgufValue(std::move(v))); }
  void set_arr_str(const std::string& key, std::vector<std::string> v);
  void set_arr_f32(const std::string& key, const std::vector<float>& v);
  void set_arr_i32(const std::string& key, const std::vector<int32_t>& v);
  /// Removes `key` if present.
  void erase(const std::string& key);
  /// The value of `key`, or nullptr.
  const GgufValue* find(const std::string& key) const;
  const std::vector<GgufKV>& metadata() const { return kvs_; }

  /// Adds a tensor with its bytes (size must equal the type's size for `shape`).
  /// shape: outermost first, 1-4 dims, innermost a multiple of the block size.
  Status add_tensor(const std::string& name, GgmlType type, const std::vector<int64_t>& shape,
                    std::vector<uint8_t> data);
  /// Adds an F32 tensor from floats.
  Status add_tensor_f32(const std::string& name, const std::vector<int64_t>& shape, const std::vector<float>& data);
  /// Adds a tensor whose bytes `fill` writes during write().
  Status add_tensor_lazy(const std::string& name, GgmlType type, const std::vector<int64_t>& shape, FillFn fill);
  size_t n_tensors() const { return tensors_.size(); }
  /// Total bytes of tensor data (without padding).
  uint64_t tensor_bytes() const;

  /// Writes the file to `path` atomically: `path.tmp` then rename. IO on failure
  /// (the temporary file is removed), or the first error a fill callback returns.
  Status write(const std::string& path) const;
  /// The whole file as bytes (tests, fuzzer seeds).
  Result<std::vector<uint8_t>> to_bytes() const;

 private:
  struct PendingTensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> shape;  // outermost first
    uint64_t n_bytes;
    uint64_t offset;             // within the data section
    std::vector<uint8_t> data;   // used when fill is empty
    FillFn fill;
  };
  Result<PendingTensor*> add_common(const std::string& name, GgmlType type, const std::vector<int64_t>& shape);
  std::vector<uint8_t> header_bytes() const;
  Status emit(const std::function<Status(const uint8_t*, size_t)>& sink) const;

  uint32_t alignment_;
  std::vector<GgufKV> kvs_;
  std::vector<PendingTensor> tensors_;
  uint64_t data_size_ = 0;  // end of the last tensor within the data section
};

}  // namespace moerag::engine
