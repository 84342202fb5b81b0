// Ingestion: parse → chunk → embed outside any lock → one transaction per group of
// documents (old chunks replaced, FTS rows written, generation bumped) → vector
// index updated before readers see the new generation. A bad input is reported
// in the IngestReport and the batch goes on.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/hash.h"
#include "core/log.h"
#include "retrieval/analyzer.h"
#include "retrieval/parsers.h"
#include "retrieval/retriever_impl.h"

namespace moerag::retrieval {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// A parsed, chunked document waiting for its commit.
struct Pending {
  DocumentInfo info;
  std::vector<Chunk> chunks;
  std::vector<std::string> texts;  // indexed text per chunk
};

constexpr size_t kGroupChunks = 512;  // chunks per transaction
constexpr int64_t kSaveEagerlyBelow = 20000;  // bigger indexes are saved by flush()

std::string content_hash(const ParsedItem& item, const DocumentInput& in) {
  std::string all = item.metadata_json + "\x1f" + in.owner + "\x1f";
  for (const auto& a : in.allowed) all += a + "\x1e";
  for (const auto& b : item.doc.blocks) all += std::to_string(b.heading_level) + ":" + std::to_string(b.page) + ":" + b.text + "\x1f";
  return sha256_hex(all);
}

Status check_metadata(const std::string& m) {
  auto j = json::parse(m.empty() ? "{}" : m, nullptr, false);
  if (!j.is_object()) return Error(ErrorCode::INVALID_INPUT, "metadata must be a JSON object");
  return {};
}

}  // namespace

Result<IngestReport> Retriever::ingest(const std::string& kb, const std::vector<DocumentInput>& inputs,
                                       const IngestProgress& progress) {
  auto t0 = std::chrono::steady_clock::now();
  auto& I = *impl_;
  std::lock_guard<std::mutex> w(I.write_mu);
  MOERAG_ASSIGN_OR_RETURN(auto c, I.db->lease());
  MOERAG_ASSIGN_OR_RETURN(auto row, store::find_kb(*c, kb));
  const int64_t kb_id = row.kb.id;
  auto st = I.state(kb_id);
  {
    std::unique_lock<std::shared_mutex> lock(st->mu);
    MOERAG_TRY(I.sync(*c, kb_id, *st));
  }
  IngestReport report;
  std::vector<Pending> group;
  size_t group_chunks = 0, done = 0;
  ChunkOptions copt{I.options.chunk_tokens, I.options.chunk_overlap};

  auto commit = [&]() -> Status {
    if (group.empty()) return {};
    std::unique_lock<std::shared_mutex> lock(st->mu);
    // The first chunks of a KB fit the built-in embedder's IDF; later growth refits below.
    if (!I.external && st->fit_n == 0) {
      std::vector<std::string> texts;
      for (auto& p : group) texts.insert(texts.end(), p.texts.begin(), p.texts.end());
      MOERAG_TRY(store::for_each_chunk(*c, kb_id, [&](int64_t, const std::string& t) { texts.push_back(t); }));
      MOERAG_TRY(I.fit_and_rebuild(*c, kb_id, *st, texts));
    }
    std::vector<std::string> texts;
    for (auto& p : group) texts.insert(texts.end(), p.texts.begin(), p.texts.end());
    MOERAG_ASSIGN_OR_RETURN(auto vecs, st->embedder->embed(texts));
    MOERAG_TRY(I.check_vectors(kb, *st, texts.size(), vecs.size()));
    std::vector<int64_t> new_ids, old_ids;
    std::vector<std::string> committed;
    int added = 0, updated = 0;
    int64_t gen = 0;
    {
      sql::Transaction tx(*c);
      MOERAG_TRY(tx.begun());
      for (auto& p : group) {
        MOERAG_ASSIGN_OR_RETURN(auto existing, store::find_doc(*c, kb_id, p.info.id));
        std::optional<int64_t> rowid;
        if (existing) {
          rowid = existing->rowid;
          MOERAG_ASSIGN_OR_RETURN(auto removed, store::delete_chunks(*c, existing->rowid));
          old_ids.insert(old_ids.end(), removed.begin(), removed.end());
          ++updated;
        } else {
          ++added;
        }
        MOERAG_ASSIGN_OR_RETURN(int64_t doc_rowid, store::upsert_doc(*c, kb_id, p.info, rowid));
        for (size_t i = 0; i < p.chunks.size(); ++i) {
          MOERAG_ASSIGN_OR_RETURN(int64_t id,
                                  store::insert_chunk(*c, kb_id, doc_rowid, p.chunks[i], index_text(p.texts[i], I.options.stem_english)));
          new_ids.push_back(id);
        }
        committed.push_back(p.info.id);
      }
      MOERAG_ASSIGN_OR_RETURN(gen, store::bump_generation(*c, kb_id));
      MOERAG_TRY(tx.commit());
    }
    st->index->remove(old_ids);
    MOERAG_TRY(st->index->add(new_ids.size(), vecs.data(), new_ids.data()));
    st->generation = gen;
    st->dirty = true;
    report.n_added += added;
    report.n_updated += updated;
    report.n_chunks += static_cast<int64_t>(new_ids.size());
    report.document_ids.insert(report.document_ids.end(), committed.begin(), committed.end());
    group.clear();
    group_chunks = 0;
    lock.unlock();
    if (progress) progress(committed, done, inputs.size());
    return {};
  };

  for (const auto& in : inputs) {
    auto fail = [&](const Error& e) {
      report.errors.push_back({in.source, e.code, e.message});
      ++report.n_failed;
    };
    if (auto m = check_metadata(in.metadata_json); !m.ok()) {
      fail(m.error());
    } else if (auto items = parse_input(in, I.options.max_file_bytes); !items.ok()) {
      fail(items.error());
    } else {
      for (auto& item : *items) {
        Pending p;
        p.info.id = item.id;
        p.info.source = item.source;
        p.info.metadata_json = item.metadata_json;
        p.info.owner = in.owner;
        p.info.allowed = in.allowed;
        p.info.n_pages = item.doc.n_pages;
        p.info.content_hash = content_hash(item, in);
        MOERAG_ASSIGN_OR_RETURN(auto existing, store::find_doc(*c, kb_id, p.info.id));
        if (existing && existing->info.content_hash == p.info.content_hash) {
          ++report.n_skipped;
          continue;
        }
        p.chunks = chunk_document(item.doc, copt);
        if (p.chunks.empty()) {
          report.errors.push_back({item.source, ErrorCode::INVALID_INPUT, "no text to index in '" + item.id + "'"});
          ++report.n_failed;
          continue;
        }
        p.info.n_chunks = static_cast<int64_t>(p.chunks.size());
        for (auto& ch : p.chunks) p.texts.push_back(store::indexed_text(ch.heading_path, ch.text));
        group_chunks += p.chunks.size();
        group.push_back(std::move(p));
      }
    }
    ++done;
    if (group_chunks >= kGroupChunks) MOERAG_TRY(commit());
  }
  MOERAG_TRY(commit());

  std::unique_lock<std::shared_mutex> lock(st->mu);
  MOERAG_ASSIGN_OR_RETURN(auto after, store::kb_by_id(*c, kb_id));
  // Refit the embedder when the KB has doubled since the last fit (amortised O(n)).
  if (!I.external && after.kb.n_chunks > 2 * std::max<int64_t>(after.fit_n, 32)) MOERAG_TRY(I.refit(*c, kb_id, *st));
  if (st->index && st->index->size() < kSaveEagerlyBelow) MOERAG_TRY(I.save(kb_id, *st));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

Result<IngestReport> Retriever::ingest_path(const std::string& kb, const std::string& path,
                                            const IngestPathOptions& options, const IngestProgress& progress) {
  std::error_code ec;
  std::vector<fs::path> files;
  if (fs::is_directory(path, ec)) {
    for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (it->is_regular_file(ec)) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
  } else if (fs::exists(path, ec)) {
    files.push_back(path);
  } else {
    return Error(ErrorCode::NOT_FOUND, "no such file or folder: " + path);
  }
  IngestReport total;
  auto t0 = std::chrono::steady_clock::now();
  const auto& fmts = supported_formats();
  // Files are read and ingested in slices so memory stays bounded on big folders.
  constexpr size_t kSlice = 64;
  size_t done_before = 0;
  for (size_t b = 0; b < files.size(); b += kSlice) {
    std::vector<DocumentInput> inputs;
    for (size_t i = b; i < std::min(files.size(), b + kSlice); ++i) {
      const auto& f = files[i];
      std::string rel = fs::is_directory(path) ? fs::relative(f, path, ec).string() : f.filename().string();
      std::string fmt = format_of(f.string());
      bool known = std::find(fmts.begin(), fmts.end(), fmt) != fmts.end();
      if (!known && fs::is_directory(path)) continue;  // folders: other files are not documents
      DocumentInput in;
      in.source = rel;
      in.metadata_json = options.metadata_json;
      in.owner = options.owner;
      in.allowed = options.allowed;
      in.text_field = options.text_field;
      auto size = fs::file_size(f, ec);
      if (!ec && static_cast<int64_t>(size) > impl_->options.max_file_bytes) {
        total.errors.push_back({rel, ErrorCode::TOO_LARGE, "file is " + std::to_string(size) + " bytes; the limit is " +
                                                               std::to_string(impl_->options.max_file_bytes)});
        ++total.n_failed;
        continue;
      }
      std::ifstream is(f, std::ios::binary);
      std::stringstream ss;
      ss << is.rdbuf();
      if (!is) {
        total.errors.push_back({rel, ErrorCode::IO, "cannot read " + f.string()});
        ++total.n_failed;
        continue;
      }
      in.content = ss.str();
      inputs.push_back(std::move(in));
    }
    auto wrapped = [&](const std::vector<std::string>& ids, size_t done, size_t) {
      if (progress) progress(ids, done_before + done, files.size());
    };
    MOERAG_ASSIGN_OR_RETURN(auto r, ingest(kb, inputs, wrapped));
    done_before += inputs.size();
    total.n_added += r.n_added;
    total.n_updated += r.n_updated;
    total.n_skipped += r.n_skipped;
    total.n_failed += r.n_failed;
    total.n_chunks += r.n_chunks;
    total.document_ids.insert(total.document_ids.end(), r.document_ids.begin(), r.document_ids.end());
    total.errors.insert(total.errors.end(), r.errors.begin(), r.errors.end());
  }
  total.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return total;
}

}  // namespace moerag::retrieval
