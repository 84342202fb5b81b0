// Front door of the safety module: a two-layer filter (RE2 rules, then a trained
// classifier) applied to user input, retrieved passages and model output, with
// streaming checks, per-category counters for /metrics and an SQLite audit trail.
// Everything here is plain data or thread-safe; no RE2 or SQLite types leak out.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace moerag::sql {
class Database;
}

namespace moerag::safety {

/// Which way the text flows; decides which rules and model categories apply.
enum class Direction {
  INPUT,    ///< a user's prompt or question
  OUTPUT,   ///< text the system produced (answers, streamed tokens)
  PASSAGE,  ///< retrieved document text about to be put into a prompt (indirect injection)
};

/// What to do with the text.
enum class Decision {
  ALLOW,   ///< pass unchanged
  REDACT,  ///< pass `Verdict::redacted_text` instead (PII/secrets replaced, or a passage neutralised)
  BLOCK,   ///< refuse (input/output) or drop (passage)
};

/// "input" | "output" | "passage".
const char* direction_name(Direction d);
/// Parses a direction name; INVALID_INPUT on anything else.
Result<Direction> parse_direction(std::string_view name);
/// "allow" | "redact" | "block".
const char* decision_name(Decision d);

/// One replaced span. `original` is filled only with `SafetyOptions::reversible_redaction`.
struct Redaction {
  std::string placeholder;  ///< e.g. "[EMAIL]"
  std::string rule;         ///< id of the rule that found it
  size_t begin = 0;         ///< byte offset of the placeholder in Verdict::redacted_text
  size_t end = 0;           ///< one past the placeholder's last byte
  std::string original;     ///< the replaced bytes (reversible mode only)
};

/// The outcome of one check. Plain data: cheap to log, compare and build in tests.
struct Verdict {
  Decision decision = Decision::ALLOW;
  std::vector<std::string> categories;   ///< categories that fired, sorted, unique
  std::map<std::string, float> scores;   ///< model probability per category, each in [0,1]
  std::string reason;                    ///< one line for people: which rule or score decided
  std::string layer;                     ///< "limits" | "rules" | "model"; empty for allow
  std::vector<std::string> rules;        ///< ids of the rules that fired
  std::string redacted_text;             ///< set when decision == REDACT
  std::vector<Redaction> redactions;     ///< in text order
};

/// What happens to a passage that carries an injection attempt.
enum class PassagePolicy {
  DROP,        ///< Decision::BLOCK: leave the passage out
  NEUTRALISE,  ///< Decision::REDACT: the injected span is replaced by a marker
};

/// Settings of the filter (the lead maps `safety.*` config keys onto these).
struct SafetyOptions {
  bool enabled = true;                ///< false: every check allows (counters still count)
  std::string model_path;             ///< classifier file; empty = the model embedded at build time
  std::string rules_dir;              ///< folder of *.json rule files; empty = embedded config/safety
  bool model_enabled = true;          ///< layer 2 on/off
  std::map<std::string, float> thresholds;  ///< per-category overrides of the model's thresholds
  size_t max_bytes = 65536;           ///< longer texts are blocked (category "limit_length")
  size_t max_control_chars = 16;      ///< more control/bidi characters are blocked ("limit_control")
  bool redact_pii = true;             ///< false: PII is reported (categories) but passes unchanged
  bool reversible_redaction = false;  ///< keep originals in Verdict::redactions for the user's own view
  PassagePolicy passage_policy = PassagePolicy::NEUTRALISE;
  bool audit_store_text = false;      ///< store raw text of non-allow decisions in the audit table
  size_t stream_window_bytes = 600;   ///< StreamChecker checks at least this often without a sentence end
};

/// One counter: non-allow decisions by category, layer, decision and direction.
struct CounterRow {
  std::string category;
  std::string layer;
  std::string decision;
  std::string direction;
  uint64_t count = 0;
};

/// Snapshot of the filter's counters for /metrics.
struct SafetyStats {
  std::map<std::string, uint64_t> checks;     ///< direction name -> checks done
  std::map<std::string, uint64_t> decisions;  ///< decision name -> count (all directions)
  std::vector<CounterRow> rows;               ///< non-allow decisions, one row per label set
  uint64_t audit_errors = 0;                  ///< audit rows that could not be written
};

class Filter;

/// Checks streamed output per sentence window, so a blocked answer stops early.
/// Not thread-safe: one stream, one checker. Outlives nothing: keep the Filter alive.
class StreamChecker {
 public:
  /// What the caller may do after a chunk.
  struct Step {
    bool stop = false;     ///< true: stop generating; emit `release` (if any), then nothing more
    std::string release;   ///< checked text (redacted where needed) that may be shown now
    Verdict verdict;       ///< the verdict of the window that decided (allow when nothing fired)
  };
  StreamChecker(const Filter& filter, Direction dir, std::string kb);
  /// Adds a chunk of generated text (any split, even inside a UTF-8 sequence).
  Step feed(std::string_view chunk);
  /// Ends the stream: checks and releases whatever is still buffered.
  Step finish();
  /// True after a window was blocked.
  bool stopped() const { return stopped_; }

 private:
  Step check_until(size_t cut);
  const Filter& filter_;
  Direction dir_;
  std::string kb_;
  std::string pending_;    // generated, not yet checked
  std::string previous_;   // the last checked sentence: context for the next window
  bool stopped_ = false;
};

class Rules;
class Classifier;
class AuditLog;
struct Counters;

/// The two-layer filter. Create once; check() is safe to call from many threads.
class Filter {
 public:
  /// Loads rules and model (embedded defaults when the paths are empty). With
  /// `audit_db`, every non-allow decision is written to its `safety_audit` table.
  static Result<std::unique_ptr<Filter>> create(const SafetyOptions& options,
                                                std::shared_ptr<sql::Database> audit_db = nullptr);
  ~Filter();
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;

  /// Checks text going `dir`; `kb` selects that knowledge base's block/allow lists.
  Verdict check(std::string_view text, Direction dir, const std::string& kb = "") const;

  /// Layer 1 only (limits, rules, the knowledge base's lists), counted like check(): for
  /// text that never reaches a model, such as a knowledge-base search query, where the
  /// model's categories (requests to a model, injections) do not apply.
  Verdict check_rules(std::string_view text, Direction dir, const std::string& kb = "") const;

  /// For retrieved passages: the text to put into the prompt (unchanged or
  /// neutralised), or nullopt when the passage must be dropped.
  std::optional<std::string> screen_passage(std::string_view passage, const std::string& kb = "") const;

  /// Layer-2 probabilities only (every category, each in [0,1]) of the text as layer 1 leaves
  /// it (PII as placeholders, global rules; see model_input.h); empty without a model.
  std::map<std::string, float> score(std::string_view text) const;

  /// A checker for one streamed answer.
  std::unique_ptr<StreamChecker> stream(Direction dir = Direction::OUTPUT, const std::string& kb = "") const;

  /// The model's categories, in model order (empty without a model).
  std::vector<std::string> categories() const;
  /// Effective per-category thresholds (model defaults with overrides applied).
  std::map<std::string, float> thresholds() const;

  /// Counter snapshot (for /metrics).
  SafetyStats stats() const;

  /// Puts the originals back into redacted text (needs reversible redactions).
  static std::string restore(std::string_view redacted, const std::vector<Redaction>& redactions);

 private:
  friend class StreamChecker;
  Filter() = default;
  Verdict check_uncounted(std::string_view text, Direction dir, const std::string& kb, bool use_model = true) const;
  void record(const Verdict& v, Direction dir, const std::string& kb, std::string_view text) const;

  SafetyOptions options_;
  std::unique_ptr<Rules> rules_;
  std::unique_ptr<Classifier> model_;
  std::vector<float> thresholds_;  // per model category
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<Counters> counters_;
};

}  // namespace moerag::safety
