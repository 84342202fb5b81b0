// MappedFile: a read-only memory mapping of a whole file (RAII over open/mmap/munmap),
// used by the GGUF reader so tensor data is paged in lazily and shared between
// processes.
//
// Large files are mapped at a 2 MiB-aligned address with MADV_HUGEPAGE, so that a
// kernel whose page cache holds the file in 2 MiB folios (Linux 6.x, filesystems with
// large-folio support, e.g. ext4 from 6.16, xfs, tmpfs) maps them with one TLB entry
// per 2 MiB instead of 512. Decoding streams every active weight once per token;
// with 4 KiB pages the page walks cost about a third of the memory bandwidth.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"

namespace moerag::engine {

/// A read-only mapping of one file; unmapped on destruction.
class MappedFile {
 public:
  struct Options {
    /// Files at least this large get the huge-page treatment (0 = never).
    uint64_t huge_pages_from = 64ull << 20;
    /// When the sampled part of the file is resident in small pages (e.g. it was just
    /// written), drop the file's clean cached pages once and map it again, so they are
    /// read back as 2 MiB folios. Costs one re-read of the file from disk.
    bool recache_small_pages = true;
  };

  /// Maps `path` read-only. IO when it cannot be opened or mapped. An empty file
  /// gives a valid mapping with size 0 and data nullptr.
  static Result<std::unique_ptr<MappedFile>> open(const std::string& path);
  static Result<std::unique_ptr<MappedFile>> open(const std::string& path, const Options& options);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  /// Share (0..1) of the sampled resident part mapped through 2 MiB entries when the
  /// file was opened; -1 when not measured (small file, or no /proc/self/smaps).
  double huge_page_share() const { return huge_share_; }

 private:
  MappedFile(const uint8_t* data, uint64_t size, double huge_share)
      : data_(data), size_(size), huge_share_(huge_share) {}
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  double huge_share_ = -1;
};

}  // namespace moerag::engine
