// Files embedded into the binary at build time (cmake/embed.cmake): the default
// config and the web UI. Lookup by relative path.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace moerag {

/// One embedded file: its path relative to the embedded folder and its bytes.
struct EmbeddedFile {
  const char* path;
  const char* data;  ///< size bytes, followed by a NUL not counted in size
  std::size_t size;
  std::string_view view() const { return {data, size}; }
};

using EmbeddedFiles = std::vector<EmbeddedFile>;

/// The file at `path` in `files`, or nullptr.
inline const EmbeddedFile* find_embedded(const EmbeddedFiles& files, std::string_view path) {
  for (const auto& f : files)
    if (path == f.path) return &f;
  return nullptr;
}

}  // namespace moerag
