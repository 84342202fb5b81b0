// Structure-aware chunking: parsed blocks (headings, paragraphs, pages) become
// chunks that never cross a heading or a page, fill a token budget sentence by
// sentence (Chinese punctuation included) and repeat a short overlap.
#pragma once

#include <string>
#include <vector>

namespace moerag::retrieval {

/// A unit of a parsed document, in reading order.
struct Block {
  int heading_level = 0;  ///< 1..6 for a heading, 0 for body text
  std::string text;
  int page = 0;           ///< 1-based page, 0 when the format has none
};

/// A parsed document: its blocks and its page count (0 unless paged).
struct ParsedDocument {
  std::vector<Block> blocks;
  int n_pages = 0;
};

/// One chunk, ready to index.
struct Chunk {
  std::string text;
  std::string heading_path;  ///< "A > B > C"
  int page = 0;
  int position = 0;          ///< ordinal within the document, from 0
  int n_tokens = 0;
};

struct ChunkOptions {
  int max_tokens = 200;  ///< budget per chunk (words + CJK characters)
  int overlap = 40;      ///< tokens carried over from the end of the previous chunk
};

/// Splits a document into chunks; body text only (headings go to heading_path).
std::vector<Chunk> chunk_document(const ParsedDocument& doc, const ChunkOptions& options);

}  // namespace moerag::retrieval
