// MappedFile: open + fstat + mmap (2 MiB-aligned with MADV_HUGEPAGE for large files),
// unmapped in the destructor.
#include "engine/mapped_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace moerag::engine {
namespace {

constexpr uint64_t kHuge = 2ull << 20;

// Maps the whole file at a 2 MiB-aligned address: reserve size + 2 MiB of address
// space, place the file mapping on the first aligned address inside, give back the
// rest. File offset 0 then sits on a 2 MiB boundary, as a PMD mapping needs.
void* map_aligned(int fd, uint64_t size) {
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t span = size + kHuge;
  void* r = ::mmap(nullptr, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED) return MAP_FAILED;
  auto base = reinterpret_cast<uintptr_t>(r);
  uintptr_t at = (base + kHuge - 1) & ~(kHuge - 1);
  void* p = ::mmap(reinterpret_cast<void*>(at), size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) {
    int e = errno;
    ::munmap(r, span);
    errno = e;
    return MAP_FAILED;
  }
  uintptr_t end = at + ((size + page - 1) & ~(page - 1));
  if (at > base) ::munmap(r, at - base);
  if (base + span > end) ::munmap(reinterpret_cast<void*>(end), base + span - end);
  ::madvise(p, size, MADV_HUGEPAGE);  // advice only: ignored where THP is off
  return p;
}

// Rss and FilePmdMapped (kB) of the mapping that starts at `start`, from
// /proc/self/smaps; false when the file or the fields are not there.
bool smaps_of(const void* start, long* rss_kb, long* pmd_kb) {
  FILE* f = std::fopen("/proc/self/smaps", "re");
  if (f == nullptr) return false;
  char want[32];
  std::snprintf(want, sizeof want, "%lx-", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(start)));
  char line[512];
  bool inside = false, got_rss = false, got_pmd = false;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    // a mapping's header line starts with its address in lower-case hex, fields with a capitalised name
    bool header = (line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f');
    if (!inside) {
      inside = std::strncmp(line, want, std::strlen(want)) == 0;
      continue;
    }
    if (header) break;  // the next mapping
    if (std::sscanf(line, "Rss: %ld kB", rss_kb) == 1) got_rss = true;
    if (std::sscanf(line, "FilePmdMapped: %ld kB", pmd_kb) == 1) got_pmd = true;
  }
  std::fclose(f);
  return got_rss && got_pmd;
}

// Touches 16 bytes spread over the file (each fault reads in at most 2 MiB) and
// measures which share of what is resident is mapped through 2 MiB entries.
double sample_huge_share(const uint8_t* p, uint64_t size) {
  constexpr int kSamples = 16;
  volatile uint8_t sink = 0;
  for (int i = 0; i < kSamples; ++i) sink = sink + p[(size / kSamples) * static_cast<uint64_t>(i)];
  long rss = 0, pmd = 0;
  if (!smaps_of(p, &rss, &pmd) || rss <= 0) return -1;
  return static_cast<double>(pmd) / static_cast<double>(rss);
}

}  // namespace

Result<std::unique_ptr<MappedFile>> MappedFile::open(const std::string& path) { return open(path, Options{}); }

Result<std::unique_ptr<MappedFile>> MappedFile::open(const std::string& path, const Options& options) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error(ErrorCode::IO, "cannot open '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return Error(ErrorCode::IO, "cannot stat '" + path + "': " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error(ErrorCode::IO, "'" + path + "' is not a regular file");
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  const uint8_t* data = nullptr;
  double share = -1;
  if (size > 0) {
    bool huge = options.huge_pages_from > 0 && size >= options.huge_pages_from;
    void* p = huge ? map_aligned(fd, size) : ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      return Error(ErrorCode::IO, "cannot map '" + path + "': " + std::strerror(e));
    }
    if (huge) {
      share = sample_huge_share(static_cast<const uint8_t*>(p), size);
      if (share >= 0 && share < 0.5 && options.recache_small_pages) {
        // Cached in small folios (a file just written or copied keeps the folios of its
        // writes): drop the clean cached pages nobody maps and read them in again
        // through the huge-page mapping. Pages mapped by another process stay.
        ::munmap(p, size);
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        p = map_aligned(fd, size);
        if (p == MAP_FAILED) {
          int e = errno;
          ::close(fd);
          return Error(ErrorCode::IO, "cannot map '" + path + "': " + std::strerror(e));
        }
        share = sample_huge_share(static_cast<const uint8_t*>(p), size);
      }
    }
    data = static_cast<const uint8_t*>(p);
  }
  ::close(fd);  // the mapping keeps its own reference to the file
  return std::unique_ptr<MappedFile>(new MappedFile(data, size, share));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace moerag::engine
