// GGUF metadata values: type names, array element access, rendering for `model info`,
// and the typed getters of GgufFile (integer getters accept any integer type whose
// value fits, float getters any number).
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "engine/gguf.h"

namespace moerag::engine {
namespace {

using Int = __int128;  // holds every u64 and i64 value

std::optional<Int> scalar_int(const GgufValue& v) {
  switch (value_type(v)) {
    case GgufType::UINT8: return std::get<uint8_t>(v);
    case GgufType::INT8: return std::get<int8_t>(v);
    case GgufType::UINT16: return std::get<uint16_t>(v);
    case GgufType::INT16: return std::get<int16_t>(v);
    case GgufType::UINT32: return std::get<uint32_t>(v);
    case GgufType::INT32: return std::get<int32_t>(v);
    case GgufType::UINT64: return std::get<uint64_t>(v);
    case GgufType::INT64: return std::get<int64_t>(v);
    default: return std::nullopt;
  }
}

std::optional<double> scalar_float(const GgufValue& v) {
  if (auto i = scalar_int(v)) return static_cast<double>(*i);
  if (value_type(v) == GgufType::FLOAT32) return std::get<float>(v);
  if (value_type(v) == GgufType::FLOAT64) return std::get<double>(v);
  return std::nullopt;
}

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

std::optional<Int> array_int(const GgufArray& a, size_t i) {
  if (i >= a.size()) return std::nullopt;
  const uint8_t* p = a.raw.data();
  switch (a.type) {
    case GgufType::UINT8: return load<uint8_t>(p + i);
    case GgufType::INT8: return load<int8_t>(p + i);
    case GgufType::BOOL: return load<uint8_t>(p + i) != 0;
    case GgufType::UINT16: return load<uint16_t>(p + 2 * i);
    case GgufType::INT16: return load<int16_t>(p + 2 * i);
    case GgufType::UINT32: return load<uint32_t>(p + 4 * i);
    case GgufType::INT32: return load<int32_t>(p + 4 * i);
    case GgufType::UINT64: return load<uint64_t>(p + 8 * i);
    case GgufType::INT64: return load<int64_t>(p + 8 * i);
    default: return std::nullopt;
  }
}

template <typename T>
bool fits(Int v) {
  return v >= static_cast<Int>(std::numeric_limits<T>::min()) && v <= static_cast<Int>(std::numeric_limits<T>::max());
}

std::string int_to_string(Int v) {
  std::string s = std::to_string(static_cast<uint64_t>(v < 0 ? -v : v));
  if (v < 0) s.insert(s.begin(), '-');
  return s;
}

Error not_found(std::string_view key) {
  return Error(ErrorCode::NOT_FOUND, "missing metadata key '" + std::string(key) + "'");
}

Error wrong_type(std::string_view key, const GgufValue& v, const char* want) {
  return Error(ErrorCode::INVALID_INPUT, "metadata key '" + std::string(key) + "' holds " +
                                             gguf_type_name(value_type(v)) + " " + value_to_string(v, 4) +
                                             ", expected " + want);
}

template <typename T>
Result<T> get_int(const GgufFile& f, std::string_view key, const char* want) {
  const GgufValue* v = f.find(key);
  if (v == nullptr) return not_found(key);
  auto i = scalar_int(*v);
  if (!i || !fits<T>(*i)) return wrong_type(key, *v, want);
  return static_cast<T>(*i);
}

template <typename T>
Result<std::vector<T>> get_int_array(const GgufFile& f, std::string_view key, const char* want) {
  const GgufValue* v = f.find(key);
  if (v == nullptr) return not_found(key);
  const auto* a = std::get_if<GgufArray>(v);
  if (a == nullptr) return wrong_type(key, *v, want);
  std::vector<T> out(a->size());
  for (size_t i = 0; i < out.size(); ++i) {
    auto x = array_int(*a, i);
    if (!x || !fits<T>(*x)) {
      return Error(ErrorCode::INVALID_INPUT, "metadata key '" + std::string(key) + "' element " + std::to_string(i) +
                                                 " is not a " + want + " element");
    }
    out[i] = static_cast<T>(*x);
  }
  return out;
}

template <typename T>
std::optional<T> opt(Result<T> r) {
  if (!r.ok()) return std::nullopt;
  return std::move(r).value();
}

}  // namespace

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::UINT8: return "u8";
    case GgufType::INT8: return "i8";
    case GgufType::UINT16: return "u16";
    case GgufType::INT16: return "i16";
    case GgufType::UINT32: return "u32";
    case GgufType::INT32: return "i32";
    case GgufType::FLOAT32: return "f32";
    case GgufType::BOOL: return "bool";
    case GgufType::STRING: return "string";
    case GgufType::ARRAY: return "array";
    case GgufType::UINT64: return "u64";
    case GgufType::INT64: return "i64";
    case GgufType::FLOAT64: return "f64";
  }
  return "unknown";
}

size_t GgufArray::size() const {
  switch (type) {
    case GgufType::STRING: return strings.size();
    case GgufType::ARRAY: return arrays.size();
    case GgufType::UINT8: case GgufType::INT8: case GgufType::BOOL: return raw.size();
    case GgufType::UINT16: case GgufType::INT16: return raw.size() / 2;
    case GgufType::UINT32: case GgufType::INT32: case GgufType::FLOAT32: return raw.size() / 4;
    case GgufType::UINT64: case GgufType::INT64: case GgufType::FLOAT64: return raw.size() / 8;
  }
  return 0;
}

std::optional<int64_t> GgufArray::int_at(size_t i) const {
  auto v = array_int(*this, i);
  if (!v || !fits<int64_t>(*v)) return std::nullopt;
  return static_cast<int64_t>(*v);
}

std::optional<double> GgufArray::float_at(size_t i) const {
  if (i >= size()) return std::nullopt;
  if (type == GgufType::FLOAT32) return load<float>(raw.data() + 4 * i);
  if (type == GgufType::FLOAT64) return load<double>(raw.data() + 8 * i);
  if (auto v = array_int(*this, i)) return static_cast<double>(*v);
  return std::nullopt;
}

std::string value_to_string(const GgufValue& v, size_t max_items) {
  std::ostringstream os;
  if (auto i = scalar_int(v)) return int_to_string(*i);
  switch (value_type(v)) {
    case GgufType::FLOAT32: os << std::get<float>(v); return os.str();
    case GgufType::FLOAT64: os << std::get<double>(v); return os.str();
    case GgufType::BOOL: return std::get<bool>(v) ? "true" : "false";
    case GgufType::STRING: {
      const auto& s = std::get<std::string>(v);
      std::string shown = s.size() > 60 ? s.substr(0, 57) + "..." : s;
      for (char& c : shown) if (c == '\n' || c == '\r' || c == '\t') c = ' ';
      return "\"" + shown + "\"" + (s.size() > 60 ? " (" + std::to_string(s.size()) + " bytes)" : "");
    }
    default: break;
  }
  const auto& a = std::get<GgufArray>(v);
  os << "[" << gguf_type_name(a.type) << " x " << a.size() << "]";
  if (a.size() > 0 && max_items > 0) {
    os << " ";
    size_t n = std::min(a.size(), max_items);
    for (size_t i = 0; i < n; ++i) {
      if (i) os << ", ";
      if (a.type == GgufType::STRING) os << "\"" << a.strings[i].substr(0, 20) << "\"";
      else if (a.type == GgufType::ARRAY) os << "[" << a.arrays[i].size() << "]";
      else if (a.type == GgufType::FLOAT32 || a.type == GgufType::FLOAT64) os << *a.float_at(i);
      else os << int_to_string(*array_int(a, i));
    }
    if (a.size() > n) os << ", ...";
  }
  return os.str();
}

std::string GgufFile::architecture() const { return find_str("general.architecture").value_or(""); }

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second].value;
}

Result<uint32_t> GgufFile::get_u32(std::string_view key) const { return get_int<uint32_t>(*this, key, "u32"); }
Result<int32_t> GgufFile::get_i32(std::string_view key) const { return get_int<int32_t>(*this, key, "i32"); }
Result<uint64_t> GgufFile::get_u64(std::string_view key) const { return get_int<uint64_t>(*this, key, "u64"); }
Result<int64_t> GgufFile::get_i64(std::string_view key) const { return get_int<int64_t>(*this, key, "i64"); }

Result<double> GgufFile::get_f64(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return not_found(key);
  auto f = scalar_float(*v);
  if (!f) return wrong_type(key, *v, "a number");
  return *f;
}

Result<float> GgufFile::get_f32(std::string_view key) const {
  MOERAG_ASSIGN_OR_RETURN(double d, get_f64(key));
  return static_cast<float>(d);
}

Result<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return not_found(key);
  if (value_type(*v) != GgufType::BOOL) return wrong_type(key, *v, "bool");
  return std::get<bool>(*v);
}

Result<std::string> GgufFile::get_str(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return not_found(key);
  if (value_type(*v) != GgufType::STRING) return wrong_type(key, *v, "string");
  return std::get<std::string>(*v);
}

const GgufArray* GgufFile::get_arr(std::string_view key) const {
  const GgufValue* v = find(key);
  return v == nullptr ? nullptr : std::get_if<GgufArray>(v);
}

Result<std::vector<std::string>> GgufFile::get_arr_str(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return not_found(key);
  const auto* a = std::get_if<GgufArray>(v);
  if (a == nullptr || a->type != GgufType::STRING) return wrong_type(key, *v, "array of string");
  return a->strings;
}

Result<std::vector<float>> GgufFile::get_arr_f32(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return not_found(key);
  const auto* a = std::get_if<GgufArray>(v);
  if (a == nullptr || a->type == GgufType::STRING || a->type == GgufType::ARRAY || a->type == GgufType::BOOL) {
    return wrong_type(key, *v, "array of numbers");
  }
  std::vector<float> out(a->size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(*a->float_at(i));
  return out;
}

Result<std::vector<int32_t>> GgufFile::get_arr_i32(std::string_view key) const {
  return get_int_array<int32_t>(*this, key, "i32");
}
Result<std::vector<int64_t>> GgufFile::get_arr_i64(std::string_view key) const {
  return get_int_array<int64_t>(*this, key, "i64");
}

std::optional<uint32_t> GgufFile::find_u32(std::string_view key) const { return opt(get_u32(key)); }
std::optional<int32_t> GgufFile::find_i32(std::string_view key) const { return opt(get_i32(key)); }
std::optional<uint64_t> GgufFile::find_u64(std::string_view key) const { return opt(get_u64(key)); }
std::optional<float> GgufFile::find_f32(std::string_view key) const { return opt(get_f32(key)); }
std::optional<bool> GgufFile::find_bool(std::string_view key) const { return opt(get_bool(key)); }
std::optional<std::string> GgufFile::find_str(std::string_view key) const { return opt(get_str(key)); }
std::optional<std::vector<std::string>> GgufFile::find_arr_str(std::string_view key) const {
  return opt(get_arr_str(key));
}
std::optional<std::vector<float>> GgufFile::find_arr_f32(std::string_view key) const { return opt(get_arr_f32(key)); }
std::optional<std::vector<int32_t>> GgufFile::find_arr_i32(std::string_view key) const {
  return opt(get_arr_i32(key));
}

}  // namespace moerag::engine
