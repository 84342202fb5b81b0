// `moerag model tokenize FILE [TEXT]`: tokenizes text with a GGUF file's vocabulary
// and prints one "id<TAB>piece" line per token, or {"ids":[...],"pieces":[...]}
// with --json. BOS/EOS only with --add-special; special-token markup in the text
// only becomes special ids with --parse-special.
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/text.h"
#include "engine/gguf.h"
#include "engine/tokenizer.h"

namespace moerag::cli {
namespace {

struct TokenizeArgs {
  std::string model;
  std::string text;
  std::string file;
  bool json = false;
  bool add_special = false;
  bool parse_special = false;
};

// A piece made printable: well-formed UTF-8 as is; each byte of an incomplete or
// invalid sequence (a character split across tokens) as <0xXX>.
std::string printable_piece(const std::string& piece) {
  std::string out;
  for (size_t i = 0; i < piece.size();) {
    char32_t cp = 0;
    const size_t len = text::utf8_decode(piece, i, cp);
    if (len == 0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "<0x%02X>", static_cast<unsigned char>(piece[i]));
      out += buf;
      ++i;
    } else {
      out.append(piece, i, len);
      i += len;
    }
  }
  return out;
}

int run_tokenize(const TokenizeArgs& a) {
  std::string input = a.text;
  if (!a.file.empty()) {
    std::ifstream in(a.file, std::ios::binary);
    if (!in) return fail("cannot read " + a.file);
    std::stringstream ss;
    ss << in.rdbuf();
    input = ss.str();
  } else if (a.text.empty()) {
    return fail("give the text to tokenize as an argument or with --file PATH", 2);
  }
  auto file = engine::GgufFile::open(a.model);
  if (!file.ok()) return fail(file.error().message);
  auto tok = engine::Tokenizer::from_gguf(**file);
  if (!tok.ok()) return fail(tok.error().message);

  const auto ids = (*tok)->encode(input, a.add_special, a.parse_special);
  if (a.json) {
    nlohmann::json j;
    j["ids"] = ids;
    j["pieces"] = nlohmann::json::array();
    for (int32_t id : ids) j["pieces"].push_back(printable_piece((*tok)->piece(id)));
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  for (int32_t id : ids) {
    // JSON string quoting makes spaces, tabs and newlines in pieces visible.
    std::cout << id << "\t" << nlohmann::json(printable_piece((*tok)->piece(id))).dump() << "\n";
  }
  std::cerr << ids.size() << " tokens (" << engine::vocab_kind_name((*tok)->kind()) << ", "
            << (*tok)->n_vocab() << " in vocabulary)\n";
  return 0;
}

RegisterCommand reg(41, [](CLI::App& app) {
  auto* model = group(app, "model", "GGUF models: inspect, synthesise, quantise, run");
  auto* sub = model->add_subcommand("tokenize", "Print the token ids and pieces of a text under a GGUF vocabulary");
  auto args = std::make_shared<TokenizeArgs>();
  sub->add_option("FILE", args->model, "GGUF file (a model or a vocabulary-only file)")->required();
  sub->add_option("TEXT", args->text, "Text to tokenize (or use --file)");
  sub->add_option("--file", args->file, "Read the text from this file instead");
  sub->add_flag("--json", args->json, "Print {\"ids\":[...],\"pieces\":[...]}");
  sub->add_flag("--add-special", args->add_special, "Add BOS/EOS (CLS/SEP) as the vocabulary asks");
  sub->add_flag("--parse-special", args->parse_special, "Turn special-token text such as <|im_start|> into its id");
  on_run(sub, [args] { return run_tokenize(*args); });
});

}  // namespace
}  // namespace moerag::cli
