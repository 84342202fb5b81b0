// MappedFile: a read-only memory mapping of a whole file (RAII over open/mmap/munmap),
// used by the GGUF reader so tensor data is paged in lazily and shared between
// processes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"

namespace moerag::engine {

/// A read-only mapping of one file; unmapped on destruction.
class MappedFile {
 public:
  /// Maps `path` read-only. IO when it cannot be opened or mapped. An empty file
  /// gives a valid mapping with size 0 and data nullptr.
  static Result<std::unique_ptr<MappedFile>> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  MappedFile(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace moerag::engine
