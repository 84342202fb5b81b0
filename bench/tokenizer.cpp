// bench_tokenizer: encode and decode throughput of each vocabulary kind on ~1 MB of
// mixed English and Chinese text (SQuAD v1.1 dev contexts interleaved with CMRC
// 2018 trial contexts, from shared/data), beside the baseline of merely scanning the
// same bytes once (a UTF-8 validation pass), measured in the same run.
// Usage: bench_tokenizer [--json] [--repeat N] [--vocab-dir DIR] [--bytes N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "engine/gguf.h"
#include "engine/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
namespace fs = std::filesystem;
using moerag::engine::Tokenizer;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Paragraph contexts of a SQuAD-style JSON file, in file order, without repeats.
std::vector<std::string> contexts(const fs::path& p) {
  std::vector<std::string> out;
  if (!fs::exists(p)) return out;
  try {
    const json j = json::parse(read_file(p));
    for (const auto& article : j.at("data")) {
      for (const auto& para : article.at("paragraphs")) out.push_back(para.at("context").get<std::string>());
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_tokenizer: cannot read " << p << ": " << e.what() << "\n";
  }
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// English and Chinese paragraphs alternately, joined by blank lines, up to `target` bytes.
std::string build_corpus(const fs::path& data, size_t target, size_t& n_en, size_t& n_zh) {
  const auto en = contexts(data / "squad-v1.1-dev" / "dev-v1.1.json");
  const auto zh = contexts(data / "cmrc2018" / "cmrc2018_trial.squad-style.json");
  std::string text;
  n_en = n_zh = 0;
  for (size_t i = 0; text.size() < target && (i < en.size() || i < zh.size()); ++i) {
    if (i < en.size()) text += en[i] + "\n\n", n_en += en[i].size();
    if (i < zh.size() && text.size() < target) text += zh[i] + "\n\n", n_zh += zh[i].size();
  }
  return text;
}

// Best wall time of `repeat` runs of fn, in seconds.
template <typename Fn>
double best_of(int repeat, Fn&& fn) {
  double best = 1e30;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = Clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  bool as_json = false;
  int repeat = 3;
  size_t target = 1 << 20;
  fs::path data = MOERAG_SHARED_DATA;
  fs::path vocab_dir = data / "llama-cpp-vocab";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") {
      as_json = true;
    } else if (a == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--bytes" && i + 1 < argc) {
      target = static_cast<size_t>(std::atoll(argv[++i]));
    } else if (a == "--vocab-dir" && i + 1 < argc) {
      vocab_dir = argv[++i];
    } else {
      std::cerr << "usage: bench_tokenizer [--json] [--repeat N] [--bytes N] [--vocab-dir DIR]\n";
      return 2;
    }
  }

  size_t n_en = 0, n_zh = 0;
  const std::string text = build_corpus(data, target, n_en, n_zh);
  if (text.empty()) {
    std::cerr << "bench_tokenizer: no text: " << data << " lacks squad-v1.1-dev and cmrc2018\n";
    return 1;
  }
  std::vector<fs::path> vocabs;
  if (fs::exists(vocab_dir)) {
    for (const auto& e : fs::directory_iterator(vocab_dir)) {
      if (e.path().extension() == ".gguf") vocabs.push_back(e.path());
    }
  }
  std::sort(vocabs.begin(), vocabs.end());
  if (vocabs.empty()) {
    std::cerr << "bench_tokenizer: no .gguf vocabularies in " << vocab_dir << "\n";
    return 1;
  }

  // Baseline: one pass over the bytes that looks at every one (UTF-8 validation).
  bool valid = false;
  const double scan_s = best_of(repeat * 10, [&] { valid = moerag::text::utf8_valid(text); });
  const double mb = static_cast<double>(text.size()) / 1e6;

  json rows = json::array();
  for (const auto& path : vocabs) {
    auto file = moerag::engine::GgufFile::open(path.string());
    if (!file.ok()) continue;
    auto tok = Tokenizer::from_gguf(**file);
    if (!tok.ok()) continue;
    std::vector<int32_t> ids;
    const double enc_s = best_of(repeat, [&] { ids = (*tok)->encode(text, false, false); });
    std::string back;
    const double dec_s = best_of(repeat, [&] { back = (*tok)->decode(ids); });
    const bool lossless = (*tok)->kind() != moerag::engine::VocabKind::WPM;
    rows.push_back({{"vocab", path.stem().string()},
                    {"kind", moerag::engine::vocab_kind_name((*tok)->kind())},
                    {"tokens", ids.size()},
                    {"encode_s", enc_s},
                    {"encode_tokens_per_s", ids.size() / enc_s},
                    {"encode_mb_per_s", mb / enc_s},
                    {"decode_tokens_per_s", ids.size() / dec_s},
                    {"encode_vs_scan", enc_s / scan_s},
                    {"round_trip_ok", lossless ? json(back == text) : json(nullptr)}});
  }

  json out = {{"text_bytes", text.size()},     {"english_bytes", n_en},       {"chinese_bytes", n_zh},
              {"utf8_valid", valid},           {"scan_s", scan_s},            {"scan_mb_per_s", mb / scan_s},
              {"repeat", repeat},              {"results", rows}};
  if (as_json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("text: %zu bytes (%zu English, %zu Chinese); baseline UTF-8 scan: %.3f ms (%.0f MB/s)\n",
              text.size(), n_en, n_zh, scan_s * 1e3, mb / scan_s);
  std::printf("%-28s %-4s %9s %11s %13s %9s %13s %9s %6s\n", "vocab", "kind", "tokens", "encode ms",
              "enc tok/s", "enc MB/s", "dec tok/s", "x scan", "exact");
  for (const auto& r : rows) {
    const std::string exact = r["round_trip_ok"].is_null() ? "n/a" : (r["round_trip_ok"].get<bool>() ? "yes" : "NO");
    std::printf("%-28s %-4s %9zu %11.1f %13.0f %9.2f %13.0f %9.0f %6s\n", r["vocab"].get<std::string>().c_str(),
                r["kind"].get<std::string>().c_str(), r["tokens"].get<size_t>(), r["encode_s"].get<double>() * 1e3,
                r["encode_tokens_per_s"].get<double>(), r["encode_mb_per_s"].get<double>(),
                r["decode_tokens_per_s"].get<double>(), r["encode_vs_scan"].get<double>(), exact.c_str());
  }
  return 0;
}
