// `moerag safety check|score|eval|train`: the safety filter from the command line.
// check = one text through both layers; score = every category's score for each line
// of a JSONL file; eval = metrics on labelled data and the external sets; train =
// the deterministic training that produced safety/model/safety-model.bin.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "safety/filter.h"
#include "safety/tools.h"

namespace moerag::cli {
namespace {

using nlohmann::json;
using namespace moerag::safety;

struct FilterFlags {
  std::string model_path, rules_dir;
  void add_to(CLI::App* cmd) {
    cmd->add_option("--model", model_path, "Classifier file (default: the model built into the binary)");
    cmd->add_option("--rules-dir", rules_dir, "Folder of rule *.json files (default: the built-in config/safety)");
  }
  Result<std::unique_ptr<Filter>> create() const {
    SafetyOptions o;
    o.model_path = model_path;
    o.rules_dir = rules_dir;
    return Filter::create(o);
  }
};

json verdict_json(const Verdict& v) {
  json j = {{"decision", decision_name(v.decision)}, {"categories", v.categories}, {"layer", v.layer},
            {"reason", v.reason}, {"rules", v.rules}};
  json s = json::object();
  for (const auto& [k, p] : v.scores) s[k] = std::round(p * 10000) / 10000;
  j["scores"] = s;
  if (v.decision == Decision::REDACT) j["redacted_text"] = v.redacted_text;
  return j;
}

void add_check(CLI::App* s) {
  auto* cmd = s->add_subcommand("check", "Check one text with both layers and print the decision");
  auto text = std::make_shared<std::string>();
  auto dir = std::make_shared<std::string>("input");
  auto kb = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto flags = std::make_shared<FilterFlags>();
  cmd->add_option("text", *text, "The text to check")->required();
  cmd->add_option("--direction", *dir, "input | output | passage")->check(CLI::IsMember({"input", "output", "passage"}));
  cmd->add_option("--kb", *kb, "Knowledge base whose block/allow lists apply");
  cmd->add_flag("--json", *as_json, "Print the verdict as JSON");
  flags->add_to(cmd);
  on_run(cmd, [=] {
    auto f = flags->create();
    if (!f.ok()) return fail(f.error().message, 2);
    auto d = parse_direction(*dir);
    if (!d.ok()) return fail(d.error().message, 2);
    Verdict v = (*f)->check(*text, *d, *kb);
    if (*as_json) {
      std::cout << verdict_json(v).dump(2) << "\n";
      return 0;
    }
    std::printf("decision: %s\n", decision_name(v.decision));
    if (!v.categories.empty()) {
      std::printf("categories:");
      for (const auto& c : v.categories) std::printf(" %s", c.c_str());
      std::printf("\n");
    }
    if (!v.layer.empty()) std::printf("layer: %s\nreason: %s\n", v.layer.c_str(), v.reason.c_str());
    if (v.decision == Decision::REDACT) std::printf("redacted: %s\n", v.redacted_text.c_str());
    for (const auto& [k, p] : v.scores) std::printf("  %-18s %.4f\n", k.c_str(), p);
    return 0;
  });
}

void add_score(CLI::App* s) {
  auto* cmd = s->add_subcommand("score", "Score every line of a JSONL file (all categories + the decision)");
  auto in = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto field = std::make_shared<std::string>("text");
  auto dir = std::make_shared<std::string>("input");
  auto flags = std::make_shared<FilterFlags>();
  cmd->add_option("--in", *in, "Input JSON Lines file")->required();
  cmd->add_option("--out", *out, "Output JSON Lines file (one line per input line)")->required();
  cmd->add_option("--field", *field, "The field holding the text");
  cmd->add_option("--direction", *dir, "input | output | passage")->check(CLI::IsMember({"input", "output", "passage"}));
  flags->add_to(cmd);
  on_run(cmd, [=] {
    auto f = flags->create();
    if (!f.ok()) return fail(f.error().message, 2);
    auto d = parse_direction(*dir);
    std::ifstream is(*in);
    if (!is) return fail("cannot open " + *in, 2);
    std::ofstream os(*out);
    if (!os) return fail("cannot write " + *out);
    std::string line;
    size_t n = 0;
    for (int no = 1; std::getline(is, line); ++no) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      json j;
      try {
        j = json::parse(line);
      } catch (const std::exception& e) {
        return fail(*in + ":" + std::to_string(no) + ": " + e.what());
      }
      if (!j.contains(*field) || !j[*field].is_string())
        return fail(*in + ":" + std::to_string(no) + ": no string field '" + *field + "'");
      Verdict v = (*f)->check(j[*field].get<std::string>(), *d);
      json r = verdict_json(v);
      r["line"] = no;
      if (j.contains("id")) r["id"] = j["id"];
      os << r.dump() << "\n";
      ++n;
    }
    std::fprintf(stderr, "scored %zu lines -> %s\n", n, out->c_str());
    return 0;
  });
}

void add_eval(CLI::App* s) {
  auto* cmd = s->add_subcommand("eval", "Precision, recall, F1 and AUPRC per category; flag rates on public sets");
  auto req = std::make_shared<EvalRequest>();
  auto flags = std::make_shared<FilterFlags>();
  cmd->add_option("--data", req->data,
                  "Labelled JSONL ({\"text\",\"labels\":[...]}, all rows are scored), or the ../shared/data folder "
                  "(held-out test split of the training recipe + the external evaluation sets)")
      ->required();
  cmd->add_option("--seeds", req->seeds, "Project seed examples (with a data folder)");
  flags->add_to(cmd);
  on_run(cmd, [=] {
    auto f = flags->create();
    if (!f.ok()) return fail(f.error().message, 2);
    auto report = evaluate(**f, *req);
    if (!report.ok()) return fail(report.error().message, 2);
    std::printf("%s\n%s", report->description.c_str(), format_category_table(report->categories).c_str());
    if (report->sets.empty()) return 0;
    std::printf("\nexternal sets, both layers, direction input (never trained on):\n");
    std::printf("%-58s %6s %8s %8s %9s\n", "set", "n", "flagged", "rate", "by rules");
    for (const auto& r : report->sets) {
      double rate = r.n ? 100.0 * static_cast<double>(r.flagged) / static_cast<double>(r.n) : 0;
      std::printf("%-58s %6zu %8zu %7.1f%% %9zu\n", r.name.c_str(), r.n, r.flagged, rate, r.by_rules);
    }
    return 0;
  });
}

void add_train(CLI::App* s) {
  auto* cmd = s->add_subcommand("train", "Train the layer-2 classifier (deterministic)");
  auto req = std::make_shared<TrainRequest>();
  auto out = std::make_shared<std::string>();
  cmd->add_option("--data", req->data, "The ../shared/data folder (built-in recipe) or a labelled JSONL file")->required();
  cmd->add_option("--out", *out, "Model file to write")->required();
  cmd->add_option("--seeds", req->seeds, "Project seed examples (with a data folder)");
  cmd->add_option("--rules-dir", req->rules_dir, "Rule files whose PII findings become placeholders (default: built-in)");
  cmd->add_option("--bits", req->n_bits, "log2 of the hashed feature count")->check(CLI::Range(12, 22));
  cmd->add_option("--epochs", req->epochs, "Passes over the training split")->check(CLI::Range(1, 100));
  cmd->add_option("--seed", req->seed, "Shuffle seed");
  cmd->add_option("--max-fpr", req->max_valid_fpr, "Thresholds flag at most this share of validation negatives");
  on_run(cmd, [=] {
    auto t0 = std::chrono::steady_clock::now();
    auto report = train_model(*req);
    if (!report.ok()) return fail(report.error().message, 2);
    for (const auto& l : report->log) std::printf("%s\n", l.c_str());
    const std::string& bytes = report->model_bytes;
    std::ofstream os(*out, std::ios::binary);
    os.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!os) return fail("cannot write " + *out);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("wrote %s (%zu bytes, sha256 %s) in %.1f s\n", out->c_str(), bytes.size(), report->sha256.c_str(), secs);
    return 0;
  });
}

moerag::cli::RegisterCommand reg(60, [](CLI::App& app) {
  auto* s = moerag::cli::group(app, "safety", "Safety filter: check, score, evaluate and train");
  add_check(s);
  add_score(s);
  add_eval(s);
  add_train(s);
});

}  // namespace
}  // namespace moerag::cli
