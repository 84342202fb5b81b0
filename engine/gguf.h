// GGUF v3 (and v2) reader: a memory-mapped file, every metadata value type, and the
// tensor table with shapes converted to outermost-first. Every size, offset, count
// and string length is checked against the file before use, so a truncated or
// hostile file yields INVALID_INPUT naming the field, never a crash or huge
// allocation. Format: github.com/ggml-org/ggml docs/gguf.md (facts only).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"
#include "engine/mapped_file.h"
#include "engine/tensor_types.h"

namespace moerag::engine {

/// GGUF metadata value type ids (gguf.md `gguf_metadata_value_type`).
enum class GgufType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};

/// "u32", "string", "array", ... for messages and `model info`.
const char* gguf_type_name(GgufType t);

/// An array value. Exactly one of the three stores is used, chosen by `type`:
/// numbers and bools keep their file bytes in `raw` (read them with int_at/float_at
/// or the GgufFile array getters), strings live in `strings`, nested arrays in
/// `arrays`.
struct GgufArray {
  GgufType type = GgufType::UINT8;   ///< element type
  std::vector<uint8_t> raw;          ///< numeric/bool elements, little-endian, size n * elem size
  std::vector<std::string> strings;  ///< STRING elements
  std::vector<GgufArray> arrays;     ///< ARRAY elements (nested arrays)

  /// Number of elements.
  size_t size() const;
  /// Element i as integer (integer or bool types); nullopt otherwise or when the
  /// value does not fit int64 (a u64 above INT64_MAX).
  std::optional<int64_t> int_at(size_t i) const;
  /// Element i as double (any numeric type); nullopt for string/array elements.
  std::optional<double> float_at(size_t i) const;

  bool operator==(const GgufArray&) const = default;
};

/// One metadata value. The variant index equals the GGUF type id (GgufType), so
/// `static_cast<GgufType>(v.index())` is its type.
using GgufValue = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool,
                               std::string, GgufArray, uint64_t, int64_t, double>;

/// The GGUF type of a value.
inline GgufType value_type(const GgufValue& v) { return static_cast<GgufType>(v.index()); }
/// Short human rendering (arrays summarised as "[string x 32000]"), for `model info`.
std::string value_to_string(const GgufValue& v, size_t max_items = 8);

/// One metadata key/value pair, in file order.
struct GgufKV {
  std::string key;
  GgufValue value;
};

/// One tensor of the file. `shape` is outermost first: GGUF stores ne[] innermost
/// first, so a matrix with ne = [n_embd, n_vocab] becomes shape = {n_vocab, n_embd};
/// the last dimension is the contiguous row. This reader is the only place that
/// converts (CONVENTIONS.md "Shapes").
struct GgufTensor {
  std::string name;
  GgmlType type = GgmlType::F32;
  std::vector<int64_t> shape;    ///< outermost first, 1 to 4 dims
  uint64_t n_elements = 0;       ///< product of shape
  uint64_t offset = 0;           ///< bytes from the start of the data section
  uint64_t n_bytes = 0;          ///< exact size of the data (no padding)
  const uint8_t* data = nullptr; ///< n_bytes, aligned to the file's alignment

  /// Elements per row (the innermost dimension).
  int64_t row_length() const { return shape.empty() ? 1 : shape.back(); }
  /// Number of rows (product of all but the innermost dimension).
  int64_t n_rows() const { return row_length() == 0 ? 0 : static_cast<int64_t>(n_elements) / row_length(); }
  /// Bytes of one row.
  uint64_t row_bytes() const { return n_rows() == 0 ? 0 : n_bytes / static_cast<uint64_t>(n_rows()); }
  /// "[4096, 32000]"-style rendering of shape.
  std::string shape_string() const;
};

/// A parsed GGUF file. Tensor data points into the mapping (or the owned buffer),
/// valid while the GgufFile lives.
class GgufFile {
 public:
  /// Maps and parses a file. IO when it cannot be opened, INVALID_INPUT when it is
  /// not a valid GGUF (message names the offending field).
  static Result<std::unique_ptr<GgufFile>> open(const std::string& path);
  /// Parses a GGUF image held in memory (takes ownership of the bytes); used by the
  /// fuzzer and tests.
  static Result<std::unique_ptr<GgufFile>> open_memory(std::vector<uint8_t> bytes);

  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;
  ~GgufFile();

  // ---- file facts ----
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }       ///< `general.alignment`, default 32
  uint64_t data_offset() const { return data_offset_; }   ///< start of the tensor data section
  uint64_t file_size() const { return size_; }
  const std::string& path() const { return path_; }       ///< empty for open_memory
  /// Share of the sampled resident file mapped with 2 MiB pages at open (see
  /// MappedFile::huge_page_share); -1 when not measured or held in memory.
  double huge_page_share() const;
  /// `general.architecture`, or "" when absent.
  std::string architecture() const;

  // ---- metadata ----
  /// All key/value pairs in file order.
  const std::vector<GgufKV>& metadata() const { return kvs_; }
  /// The value of `key`, or nullptr.
  const GgufValue* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  /// Typed getters: NOT_FOUND when the key is missing, INVALID_INPUT when its type
  /// does not convert. Integer getters accept any integer type whose value fits
  /// (converters write some keys as u32 and others as u64/i32); get_f32/get_f64
  /// accept f32, f64 and integers; get_bool accepts bool.
  Result<uint32_t> get_u32(std::string_view key) const;
  Result<int32_t> get_i32(std::string_view key) const;
  Result<uint64_t> get_u64(std::string_view key) const;
  Result<int64_t> get_i64(std::string_view key) const;
  Result<float> get_f32(std::string_view key) const;
  Result<double> get_f64(std::string_view key) const;
  Result<bool> get_bool(std::string_view key) const;
  Result<std::string> get_str(std::string_view key) const;
  /// Array getters copy the elements; the element type must convert as above.
  Result<std::vector<std::string>> get_arr_str(std::string_view key) const;
  Result<std::vector<float>> get_arr_f32(std::string_view key) const;
  Result<std::vector<int32_t>> get_arr_i32(std::string_view key) const;
  Result<std::vector<int64_t>> get_arr_i64(std::string_view key) const;
  /// The array itself without copying; nullptr when missing or not an array.
  const GgufArray* get_arr(std::string_view key) const;

  /// Optional getters: nullopt when the key is missing or does not convert.
  std::optional<uint32_t> find_u32(std::string_view key) const;
  std::optional<int32_t> find_i32(std::string_view key) const;
  std::optional<uint64_t> find_u64(std::string_view key) const;
  std::optional<float> find_f32(std::string_view key) const;
  std::optional<bool> find_bool(std::string_view key) const;
  std::optional<std::string> find_str(std::string_view key) const;
  std::optional<std::vector<std::string>> find_arr_str(std::string_view key) const;
  std::optional<std::vector<float>> find_arr_f32(std::string_view key) const;
  std::optional<std::vector<int32_t>> find_arr_i32(std::string_view key) const;

  // ---- tensors ----
  /// All tensors in file order.
  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  /// The tensor called `name`, or nullptr.
  const GgufTensor* find_tensor(std::string_view name) const;
  /// Total bytes of tensor data.
  uint64_t tensor_bytes() const;

 private:
  GgufFile() = default;
  Status parse();
  Status check_tensor_ranges();

  std::string path_;
  std::unique_ptr<MappedFile> map_;  // set by open()
  std::vector<uint8_t> owned_;       // set by open_memory()
  const uint8_t* base_ = nullptr;
  uint64_t size_ = 0;

  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<GgufKV> kvs_;
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

}  // namespace moerag::engine
