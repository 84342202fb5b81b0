// GgufWriter: serialises metadata and tensor infos (little-endian, GGUF v3), then the
// tensor data, each tensor starting at a multiple of the alignment.
#include "engine/gguf_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include <unistd.h>

namespace moerag::engine {
namespace {

class ByteSink {
 public:
  void u8(uint8_t v) { out_.push_back(v); }
  void u32(uint32_t v) { put(&v, 4); }
  void u64(uint64_t v) { put(&v, 8); }
  void put(const void* p, size_t n) {
    size_t old = out_.size();
    out_.resize(old + n);
    if (n > 0) std::memcpy(out_.data() + old, p, n);
  }
  void str(const std::string& s) {
    u64(s.size());
    put(s.data(), s.size());
  }
  std::vector<uint8_t>& bytes() { return out_; }

 private:
  std::vector<uint8_t> out_;
};

void put_array(ByteSink& s, const GgufArray& a);

void put_value(ByteSink& s, const GgufValue& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          s.str(x);
        } else if constexpr (std::is_same_v<T, GgufArray>) {
          put_array(s, x);
        } else if constexpr (std::is_same_v<T, bool>) {
          s.u8(x ? 1 : 0);
        } else {
          s.put(&x, sizeof(T));
        }
      },
      v);
}

void put_array(ByteSink& s, const GgufArray& a) {
  s.u32(static_cast<uint32_t>(a.type));
  s.u64(a.size());
  if (a.type == GgufType::STRING) {
    for (const auto& x : a.strings) s.str(x);
  } else if (a.type == GgufType::ARRAY) {
    for (const auto& x : a.arrays) put_array(s, x);
  } else {
    s.put(a.raw.data(), a.raw.size());
  }
}

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

template <typename T>
GgufArray numeric_array(GgufType type, const std::vector<T>& v) {
  GgufArray a;
  a.type = type;
  a.raw.resize(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(a.raw.data(), v.data(), a.raw.size());
  return a;
}

}  // namespace

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  MOERAG_ASSERT(alignment != 0 && (alignment & (alignment - 1)) == 0);
  if (alignment != 32) set_u32("general.alignment", alignment);
}

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& kv : kvs_) {
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  }
  kvs_.push_back({key, std::move(value)});
}

void GgufWriter::set_arr_str(const std::string& key, std::vector<std::string> v) {
  GgufArray a;
  a.type = GgufType::STRING;
  a.strings = std::move(v);
  set(key, GgufValue(std::move(a)));
}

void GgufWriter::set_arr_f32(const std::string& key, const std::vector<float>& v) {
  set(key, GgufValue(numeric_array(GgufType::FLOAT32, v)));
}

void GgufWriter::set_arr_i32(const std::string& key, const std::vector<int32_t>& v) {
  set(key, GgufValue(numeric_array(GgufType::INT32, v)));
}

void GgufWriter::erase(const std::string& key) {
  std::erase_if(kvs_, [&](const GgufKV& kv) { return kv.key == key; });
}

const GgufValue* GgufWriter::find(const std::string& key) const {
  for (const auto& kv : kvs_) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

Result<GgufWriter::PendingTensor*> GgufWriter::add_common(const std::string& name, GgmlType type,
                                                          const std::vector<int64_t>& shape) {
  if (shape.empty() || shape.size() > 4) {
    return Error(ErrorCode::INVALID_INPUT, "tensor '" + name + "': needs 1 to 4 dimensions");
  }
  for (const auto& t : tensors_) {
    if (t.name == name) return Error(ErrorCode::INVALID_INPUT, "tensor '" + name + "' added twice");
  }
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i) {
    if (shape[i] <= 0) return Error(ErrorCode::INVALID_INPUT, "tensor '" + name + "': dimensions must be positive");
    rows *= shape[i];
  }
  if (shape.back() <= 0) return Error(ErrorCode::INVALID_INPUT, "tensor '" + name + "': dimensions must be positive");
  auto rs = row_size(type, shape.back());
  if (!rs.ok()) return rs.error().with_context("tensor '" + name + "'");
  PendingTensor t{name, type, shape, *rs * static_cast<uint64_t>(rows), 0, {}, {}};
  t.offset = align_up(data_size_, alignment_);
  data_size_ = t.offset + t.n_bytes;
  tensors_.push_back(std::move(t));
  return &tensors_.back();
}

Status GgufWriter::add_tensor(const std::string& name, GgmlType type, const std::vector<int64_t>& shape,
                              std::vector<uint8_t> data) {
  MOERAG_ASSIGN_OR_RETURN(PendingTensor * t, add_common(name, type, shape));
  if (data.size() != t->n_bytes) {
    std::string msg = "tensor '" + name + "': got " + std::to_string(data.size()) + " bytes, shape needs " +
                      std::to_string(t->n_bytes);
    data_size_ = t->offset;  // undo
    tensors_.pop_back();
    return Error(ErrorCode::INVALID_INPUT, msg);
  }
  t->data = std::move(data);
  return ok_status();
}

Status GgufWriter::add_tensor_f32(const std::string& name, const std::vector<int64_t>& shape,
                                  const std::vector<float>& data) {
  std::vector<uint8_t> bytes(data.size() * 4);
  if (!data.empty()) std::memcpy(bytes.data(), data.data(), bytes.size());
  return add_tensor(name, GgmlType::F32, shape, std::move(bytes));
}

Status GgufWriter::add_tensor_lazy(const std::string& name, GgmlType type, const std::vector<int64_t>& shape,
                                   FillFn fill) {
  MOERAG_ASSIGN_OR_RETURN(PendingTensor * t, add_common(name, type, shape));
  t->fill = std::move(fill);
  return ok_status();
}

uint64_t GgufWriter::tensor_bytes() const {
  uint64_t n = 0;
  for (const auto& t : tensors_) n += t.n_bytes;
  return n;
}

std::vector<uint8_t> GgufWriter::header_bytes() const {
  ByteSink s;
  s.u32(0x46554747u);  // "GGUF" read as a little-endian u32
  s.u32(3);
  s.u64(tensors_.size());
  s.u64(kvs_.size());
  for (const auto& kv : kvs_) {
    s.str(kv.key);
    s.u32(static_cast<uint32_t>(value_type(kv.value)));
    put_value(s, kv.value);
  }
  for (const auto& t : tensors_) {
    s.str(t.name);
    s.u32(static_cast<uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) s.u64(static_cast<uint64_t>(*it));  // ne[]: innermost first
    s.u32(static_cast<uint32_t>(t.type));
    s.u64(t.offset);
  }
  s.bytes().resize(align_up(s.bytes().size(), alignment_), 0);
  return std::move(s.bytes());
}

Status GgufWriter::emit(const std::function<Status(const uint8_t*, size_t)>& sink) const {
  std::vector<uint8_t> header = header_bytes();
  MOERAG_TRY(sink(header.data(), header.size()));
  std::vector<uint8_t> buf;
  const std::vector<uint8_t> zeros(alignment_, 0);
  uint64_t pos = 0;
  for (const auto& t : tensors_) {
    MOERAG_TRY(sink(zeros.data(), t.offset - pos));
    const uint8_t* bytes = t.data.data();
    if (t.fill) {
      buf.resize(t.n_bytes);
      std::memset(buf.data(), 0, buf.size());
      Status st = t.fill(buf.data());
      if (!st.ok()) return st.error().with_context("tensor '" + t.name + "'");
      bytes = buf.data();
    }
    MOERAG_TRY(sink(bytes, t.n_bytes));
    pos = t.offset + t.n_bytes;
  }
  return ok_status();
}

Result<std::vector<uint8_t>> GgufWriter::to_bytes() const {
  std::vector<uint8_t> out;
  MOERAG_TRY(emit([&](const uint8_t* p, size_t n) {
    out.insert(out.end(), p, p + n);
    return ok_status();
  }));
  return out;
}

Status GgufWriter::write(const std::string& path) const {
  std::string tmp = path + ".tmp";
  struct Closer {
    void operator()(FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<FILE, Closer> f(std::fopen(tmp.c_str(), "wb"));
  if (!f) return Error(ErrorCode::IO, "cannot create '" + tmp + "': " + std::strerror(errno));
  std::setvbuf(f.get(), nullptr, _IOFBF, 1 << 20);
  Status st = emit([&](const uint8_t* p, size_t n) -> Status {
    if (n > 0 && std::fwrite(p, 1, n, f.get()) != n) {
      return Error(ErrorCode::IO, "cannot write '" + tmp + "': " + std::strerror(errno));
    }
    return ok_status();
  });
  if (st.ok() && (std::fflush(f.get()) != 0 || ::fsync(fileno(f.get())) != 0)) {
    st = Error(ErrorCode::IO, "cannot flush '" + tmp + "': " + std::strerror(errno));
  }
  f.reset();
  std::error_code ec;
  if (st.ok()) {
    std::filesystem::rename(tmp, path, ec);
    if (ec) st = Error(ErrorCode::IO, "cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
  }
  if (!st.ok()) std::filesystem::remove(tmp, ec);
  return st;
}

}  // namespace moerag::engine
