// GGUF parser. A bounds-checked cursor reads the header, the metadata key/values and
// the tensor infos; counts are capped by the bytes left in the file before anything
// is reserved, and every tensor's data range is checked against the file size,
// the alignment and its neighbours. Value accessors live in gguf_values.cpp.
#include "engine/gguf.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace moerag::engine {
namespace {

constexpr uint32_t kMaxArrayDepth = 8;  // nested arrays deeper than this are rejected
constexpr uint32_t kMaxDims = 4;        // GGML_MAX_DIMS

Error bad(std::string msg) { return Error(ErrorCode::INVALID_INPUT, std::move(msg)); }

// Bytes an element of `t` takes at least: fixed size for numbers, 8 for a string
// (its length), 12 for a nested array (type + count). 0 for unknown types.
uint64_t min_elem_bytes(uint32_t t) {
  switch (static_cast<GgufType>(t)) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::BOOL: return 1;
    case GgufType::UINT16: case GgufType::INT16: return 2;
    case GgufType::UINT32: case GgufType::INT32: case GgufType::FLOAT32: return 4;
    case GgufType::UINT64: case GgufType::INT64: case GgufType::FLOAT64: return 8;
    case GgufType::STRING: return 8;
    case GgufType::ARRAY: return 12;
  }
  return 0;
}

bool is_fixed_size(uint32_t t) { return t <= 12 && t != 8 && t != 9; }

// A cursor over [base, base + size) whose reads fail instead of running past the end.
class Cursor {
 public:
  Cursor(const uint8_t* base, uint64_t size) : base_(base), size_(size) {}
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return size_ - pos_; }

  template <typename T>
  Result<T> read(const std::string& what) {
    if (left() < sizeof(T)) {
      return bad(what + ": needs " + std::to_string(sizeof(T)) + " bytes at offset " + std::to_string(pos_) +
                 " but the file ends at " + std::to_string(size_) + " (truncated file)");
    }
    T v;
    std::memcpy(&v, base_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  Result<std::string> read_string(const std::string& what) {
    MOERAG_ASSIGN_OR_RETURN(uint64_t len, read<uint64_t>(what + " length"));
    if (len > left()) {
      return bad(what + ": string length " + std::to_string(len) + " at offset " + std::to_string(pos_ - 8) +
                 " exceeds the " + std::to_string(left()) + " bytes left in the file");
    }
    std::string s(reinterpret_cast<const char*>(base_ + pos_), static_cast<size_t>(len));
    pos_ += len;
    return s;
  }

  Result<std::vector<uint8_t>> read_bytes(uint64_t n, const std::string& what) {
    if (n > left()) return bad(what + ": " + std::to_string(n) + " bytes exceed the " + std::to_string(left()) + " left in the file");
    std::vector<uint8_t> out(base_ + pos_, base_ + pos_ + n);
    pos_ += n;
    return out;
  }

 private:
  const uint8_t* base_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

Result<GgufValue> read_value(Cursor& c, uint32_t type, uint32_t depth, const std::string& what);

Result<GgufArray> read_array(Cursor& c, uint32_t depth, const std::string& what) {
  if (depth >= kMaxArrayDepth) return bad(what + ": arrays nested deeper than " + std::to_string(kMaxArrayDepth));
  MOERAG_ASSIGN_OR_RETURN(uint32_t et, c.read<uint32_t>(what + " element type"));
  uint64_t min = min_elem_bytes(et);
  if (min == 0) return bad(what + ": unknown array element type " + std::to_string(et));
  MOERAG_ASSIGN_OR_RETURN(uint64_t n, c.read<uint64_t>(what + " element count"));
  if (n > c.left() / min) {
    return bad(what + ": array of " + std::to_string(n) + " " + gguf_type_name(static_cast<GgufType>(et)) +
               " elements cannot fit in the " + std::to_string(c.left()) + " bytes left in the file");
  }
  GgufArray arr;
  arr.type = static_cast<GgufType>(et);
  if (is_fixed_size(et)) {
    MOERAG_ASSIGN_OR_RETURN(arr.raw, c.read_bytes(n * min, what));
  } else if (arr.type == GgufType::STRING) {
    arr.strings.reserve(static_cast<size_t>(n));
    for (uint64_t i = 0; i < n; ++i) {
      MOERAG_ASSIGN_OR_RETURN(std::string s, c.read_string(what + "[" + std::to_string(i) + "]"));
      arr.strings.push_back(std::move(s));
    }
  } else {
    arr.arrays.reserve(static_cast<size_t>(n));
    for (uint64_t i = 0; i < n; ++i) {
      MOERAG_ASSIGN_OR_RETURN(GgufArray a, read_array(c, depth + 1, what + "[" + std::to_string(i) + "]"));
      arr.arrays.push_back(std::move(a));
    }
  }
  return arr;
}

template <typename T>
Result<GgufValue> read_scalar(Cursor& c, const std::string& what) {
  MOERAG_ASSIGN_OR_RETURN(T v, c.read<T>(what));
  return GgufValue(std::in_place_type<T>, v);
}

Result<GgufValue> read_value(Cursor& c, uint32_t type, uint32_t depth, const std::string& what) {
  switch (static_cast<GgufType>(type)) {
    case GgufType::UINT8: return read_scalar<uint8_t>(c, what);
    case GgufType::INT8: return read_scalar<int8_t>(c, what);
    case GgufType::UINT16: return read_scalar<uint16_t>(c, what);
    case GgufType::INT16: return read_scalar<int16_t>(c, what);
    case GgufType::UINT32: return read_scalar<uint32_t>(c, what);
    case GgufType::INT32: return read_scalar<int32_t>(c, what);
    case GgufType::FLOAT32: return read_scalar<float>(c, what);
    case GgufType::UINT64: return read_scalar<uint64_t>(c, what);
    case GgufType::INT64: return read_scalar<int64_t>(c, what);
    case GgufType::FLOAT64: return read_scalar<double>(c, what);
    case GgufType::BOOL: {
      MOERAG_ASSIGN_OR_RETURN(uint8_t b, c.read<uint8_t>(what));
      if (b > 1) return bad(what + ": bool value " + std::to_string(b) + " is neither 0 nor 1");
      return GgufValue(b != 0);
    }
    case GgufType::STRING: {
      MOERAG_ASSIGN_OR_RETURN(std::string s, c.read_string(what));
      return GgufValue(std::move(s));
    }
    case GgufType::ARRAY: {
      MOERAG_ASSIGN_OR_RETURN(GgufArray a, read_array(c, depth, what));
      return GgufValue(std::move(a));
    }
  }
  return bad(what + ": unknown value type " + std::to_string(type));
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char ch : s.substr(0, 80)) out += (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ? '?' : ch;
  return out + (s.size() > 80 ? "...'" : "'");
}

}  // namespace

Result<std::unique_ptr<GgufFile>> GgufFile::open(const std::string& path) {
  MOERAG_ASSIGN_OR_RETURN(auto map, MappedFile::open(path));
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->path_ = path;
  f->base_ = map->data();
  f->size_ = map->size();
  f->map_ = std::move(map);
  Status st = f->parse();
  if (!st.ok()) return st.error().with_context(path);
  return f;
}

Result<std::unique_ptr<GgufFile>> GgufFile::open_memory(std::vector<uint8_t> bytes) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->owned_ = std::move(bytes);
  f->base_ = f->owned_.data();
  f->size_ = f->owned_.size();
  MOERAG_TRY(f->parse());
  return f;
}

GgufFile::~GgufFile() = default;

double GgufFile::huge_page_share() const { return map_ ? map_->huge_page_share() : -1; }

Status GgufFile::parse() {
  Cursor c(base_, size_);
  if (size_ < 4) return bad("file is " + std::to_string(size_) + " bytes, too small for a GGUF header");
  if (std::memcmp(base_, "GGUF", 4) != 0) {
    std::string got(reinterpret_cast<const char*>(base_), 4);
    return bad("bad magic " + quoted(got) + ", expected 'GGUF' (not a GGUF file)");
  }
  MOERAG_TRY(c.read<uint32_t>("magic"));
  MOERAG_ASSIGN_OR_RETURN(version_, c.read<uint32_t>("header version"));
  if (version_ != 2 && version_ != 3) {
    return bad("unsupported GGUF version " + std::to_string(version_) +
               (version_ == 1 ? " (v1 files are obsolete; re-convert the model)"
                              : version_ > 0xffff ? " (a big-endian file?)" : " (supported: 2, 3)"));
  }
  MOERAG_ASSIGN_OR_RETURN(uint64_t n_tensors, c.read<uint64_t>("header tensor_count"));
  MOERAG_ASSIGN_OR_RETURN(uint64_t n_kv, c.read<uint64_t>("header metadata_kv_count"));
  // A key/value takes at least 13 bytes (key length, type, one byte of value) and a
  // tensor info 24 (name length, n_dims, type, offset): cap counts by what is left.
  if (n_kv > c.left() / 13) {
    return bad("header metadata_kv_count " + std::to_string(n_kv) + " cannot fit in the " + std::to_string(c.left()) +
               " bytes left in the file");
  }
  if (n_tensors > (c.left() - 13 * n_kv) / 24) {
    return bad("header tensor_count " + std::to_string(n_tensors) + " cannot fit in the " +
               std::to_string(c.left()) + " bytes left in the file");
  }

  kvs_.reserve(static_cast<size_t>(n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string what = "metadata #" + std::to_string(i);
    MOERAG_ASSIGN_OR_RETURN(std::string key, c.read_string(what + " key"));
    what += " (" + quoted(key) + ")";
    MOERAG_ASSIGN_OR_RETURN(uint32_t type, c.read<uint32_t>(what + " value type"));
    MOERAG_ASSIGN_OR_RETURN(GgufValue value, read_value(c, type, 0, what));
    if (kv_index_.count(key)) return bad(what + ": duplicate metadata key");
    kv_index_.emplace(key, kvs_.size());
    kvs_.push_back({std::move(key), std::move(value)});
  }

  if (const GgufValue* a = find("general.alignment")) {
    if (a->index() != static_cast<size_t>(GgufType::UINT32)) {
      return bad(std::string("metadata 'general.alignment' must be u32, got ") + gguf_type_name(value_type(*a)));
    }
    uint32_t al = std::get<uint32_t>(*a);
    if (al == 0 || (al & (al - 1)) != 0) {
      return bad("metadata 'general.alignment' = " + std::to_string(al) + " is not a power of two");
    }
    alignment_ = al;
  }

  tensors_.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    std::string what = "tensor #" + std::to_string(i);
    GgufTensor t;
    MOERAG_ASSIGN_OR_RETURN(t.name, c.read_string(what + " name"));
    what = "tensor " + quoted(t.name);
    if (tensor_index_.count(t.name)) return bad(what + ": duplicate tensor name");
    MOERAG_ASSIGN_OR_RETURN(uint32_t n_dims, c.read<uint32_t>(what + " n_dims"));
    if (n_dims == 0 || n_dims > kMaxDims) {
      return bad(what + ": n_dims " + std::to_string(n_dims) + " outside 1.." + std::to_string(kMaxDims));
    }
    std::vector<int64_t> ne(n_dims);  // innermost first, as stored
    for (uint32_t d = 0; d < n_dims; ++d) {
      MOERAG_ASSIGN_OR_RETURN(uint64_t v, c.read<uint64_t>(what + " ne[" + std::to_string(d) + "]"));
      if (v == 0 || v > static_cast<uint64_t>(INT64_MAX)) {
        return bad(what + ": dimension ne[" + std::to_string(d) + "] = " + std::to_string(v) + " is out of range");
      }
      ne[d] = static_cast<int64_t>(v);
    }
    MOERAG_ASSIGN_OR_RETURN(uint32_t type_id, c.read<uint32_t>(what + " type"));
    MOERAG_ASSIGN_OR_RETURN(t.offset, c.read<uint64_t>(what + " offset"));
    const TypeTraits* tr = type_traits(type_id);
    if (tr == nullptr) return bad(what + ": unknown tensor type id " + std::to_string(type_id));
    t.type = tr->type;
    // GGUF lists dimensions innermost first; we keep them outermost first.
    t.shape.assign(ne.rbegin(), ne.rend());
    uint64_t n = 1;
    for (int64_t v : ne) {
      if (__builtin_mul_overflow(n, static_cast<uint64_t>(v), &n) || n > static_cast<uint64_t>(INT64_MAX)) {
        return bad(what + ": element count of shape " + t.shape_string() + " overflows");
      }
    }
    t.n_elements = n;
    if (ne[0] % tr->block_size != 0) {
      return bad(what + ": row length " + std::to_string(ne[0]) + " is not a multiple of the " + tr->name +
                 " block size " + std::to_string(tr->block_size));
    }
    if (__builtin_mul_overflow(n / static_cast<uint64_t>(tr->block_size), static_cast<uint64_t>(tr->type_size),
                               &t.n_bytes)) {
      return bad(what + ": byte size of shape " + t.shape_string() + " overflows");
    }
    if (t.offset % alignment_ != 0) {
      return bad(what + ": data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                 std::to_string(alignment_));
    }
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  uint64_t pad = (alignment_ - c.pos() % alignment_) % alignment_;
  data_offset_ = c.pos() + pad;
  if (tensors_.empty()) return ok_status();  // vocab-only files need not pad to the data section
  if (data_offset_ > size_) {
    return bad("data section starts at " + std::to_string(data_offset_) + " past the end of the file (" +
               std::to_string(size_) + " bytes)");
  }
  return check_tensor_ranges();
}

Status GgufFile::check_tensor_ranges() {
  uint64_t room = size_ - data_offset_;
  std::vector<size_t> order(tensors_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (auto& t : tensors_) {
    if (t.offset > room || t.n_bytes > room - t.offset) {
      uint64_t begin = data_offset_ + std::min(t.offset, UINT64_MAX - data_offset_);
      uint64_t end = begin + std::min(t.n_bytes, UINT64_MAX - begin);
      return bad("tensor " + quoted(t.name) + ": data range [" + std::to_string(begin) + ", " + std::to_string(end) +
                 ") exceeds file size " + std::to_string(size_));
    }
    t.data = base_ + data_offset_ + t.offset;
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tensors_[a].offset < tensors_[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const GgufTensor& prev = tensors_[order[k - 1]];
    const GgufTensor& cur = tensors_[order[k]];
    if (prev.offset + prev.n_bytes > cur.offset) {
      return bad("tensor " + quoted(cur.name) + ": data at offset " + std::to_string(cur.offset) +
                 " overlaps tensor " + quoted(prev.name) + " [" + std::to_string(prev.offset) + ", " +
                 std::to_string(prev.offset + prev.n_bytes) + ")");
    }
  }
  return ok_status();
}

std::string GgufTensor::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

const GgufTensor* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

uint64_t GgufFile::tensor_bytes() const {
  uint64_t total = 0;
  for (const auto& t : tensors_) total += t.n_bytes;
  return total;
}

}  // namespace moerag::engine
