// Chunking: headings set the path and close the open chunk; paragraphs are split
// into sentences that are packed up to the budget; over-long sentences are cut.
#include "retrieval/chunker.h"

#include <deque>

#include "core/text.h"
#include "retrieval/analyzer.h"

namespace moerag::retrieval {
namespace {

struct Piece {
  std::string text;
  int n_tokens;
  bool paragraph_start;
};

// Cuts a sentence longer than the budget into pieces of at most max_tokens tokens,
// at word or CJK character boundaries.
std::vector<std::string> cut_long(std::string_view s, int max_tokens) {
  std::vector<std::string> out;
  // Token starts: each CJK character, and each word after space or CJK text.
  std::vector<size_t> starts;
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp;
    size_t n = text::utf8_decode(s, i, cp);
    if (n == 0) n = 1;
    bool cjk = text::is_cjk(cp) && !text::is_space(cp);
    bool word_start = !text::is_space(cp) && (i == 0 || cjk || [&] {
      char32_t prev = 0;
      size_t p = i - 1;
      while (p > 0 && (static_cast<unsigned char>(s[p]) & 0xC0) == 0x80) --p;
      text::utf8_decode(s, p, prev);
      return text::is_space(prev) || text::is_cjk(prev);
    }());
    if (word_start) starts.push_back(i);
    i += n;
  }
  for (size_t k = 0; k < starts.size(); k += max_tokens) {
    size_t b = starts[k];
    size_t e = k + max_tokens < starts.size() ? starts[k + max_tokens] : s.size();
    auto piece = text::trim(s.substr(b, e - b));
    if (!piece.empty()) out.emplace_back(piece);
  }
  return out;
}

bool ascii_boundary(const std::string& a, const std::string& b) {
  return !a.empty() && !b.empty() && static_cast<unsigned char>(a.back()) < 0x80 &&
         static_cast<unsigned char>(b.front()) < 0x80;
}

class Packer {
 public:
  Packer(const ChunkOptions& o, std::vector<Chunk>& out) : o_(o), out_(out) {}

  void add(Piece p, const std::string& path, int page) {
    if (!open_.empty() && n_tokens_ + p.n_tokens > o_.max_tokens) flush(true);
    path_ = path;
    page_ = page;
    n_tokens_ += p.n_tokens;
    open_.push_back(std::move(p));
  }

  // Closes the open chunk; `keep_overlap` carries its tail into the next one.
  void flush(bool keep_overlap) {
    if (open_.empty()) return;
    bool only_overlap = carried_ >= open_.size();
    if (!only_overlap) {
      Chunk c;
      for (const auto& p : open_) {
        if (!c.text.empty()) c.text += p.paragraph_start ? "\n" : (ascii_boundary(c.text, p.text) ? " " : "");
        c.text += p.text;
      }
      c.heading_path = path_;
      c.page = page_;
      c.position = static_cast<int>(out_.size());
      c.n_tokens = n_tokens_;
      out_.push_back(std::move(c));
    }
    std::deque<Piece> tail;
    int tail_tokens = 0;
    if (keep_overlap && o_.overlap > 0) {
      for (auto it = open_.rbegin(); it != open_.rend(); ++it) {
        if (tail_tokens + it->n_tokens > o_.overlap) break;
        tail_tokens += it->n_tokens;
        tail.push_front(*it);
      }
    }
    open_.assign(tail.begin(), tail.end());
    carried_ = open_.size();
    n_tokens_ = tail_tokens;
  }

 private:
  const ChunkOptions& o_;
  std::vector<Chunk>& out_;
  std::vector<Piece> open_;
  size_t carried_ = 0;  // leading pieces of open_ that repeat the previous chunk
  int n_tokens_ = 0;
  std::string path_;
  int page_ = 0;
};

}  // namespace

std::vector<Chunk> chunk_document(const ParsedDocument& doc, const ChunkOptions& options) {
  ChunkOptions o = options;
  if (o.max_tokens < 8) o.max_tokens = 8;
  if (o.overlap >= o.max_tokens / 2) o.overlap = o.max_tokens / 2;
  std::vector<Chunk> out;
  Packer packer(o, out);
  std::vector<std::string> headings;  // headings[i] = current heading of level i+1
  std::string path;
  int page = -1;
  for (const auto& b : doc.blocks) {
    auto body = text::trim(b.text);
    if (body.empty()) continue;
    if (b.heading_level > 0) {
      packer.flush(false);
      headings.resize(static_cast<size_t>(b.heading_level));
      headings.back() = std::string(body);
      path.clear();
      for (const auto& h : headings) {
        if (h.empty()) continue;
        if (!path.empty()) path += " > ";
        path += h;
      }
      continue;
    }
    if (b.page != page) {
      packer.flush(false);
      page = b.page;
    }
    bool first = true;
    for (auto sentence : text::split_sentences(body)) {
      int n = count_tokens(sentence);
      if (n == 0) continue;
      if (n <= o.max_tokens) {
        packer.add({std::string(sentence), n, first}, path, page);
      } else {
        for (auto& piece : cut_long(sentence, o.max_tokens))
          packer.add({piece, count_tokens(piece), first}, path, page), first = false;
      }
      first = false;
    }
  }
  packer.flush(false);
  return out;
}

}  // namespace moerag::retrieval
