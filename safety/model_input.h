// The text layer 2 scores: normalised text in which every layer-1 redaction finding
// (PII, secrets) is replaced by its placeholder token, e.g. "[email]". The model then
// never learns from, or reacts to, raw addresses, numbers or keys. Training, the
// filter and `moerag safety eval` all build it here, so they cannot drift apart.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "safety/normalize.h"
#include "safety/rules.h"

namespace moerag::safety {

/// n.text with each REDACT hit replaced by its placeholder in lower case ("[EMAIL]" ->
/// "[email]", one token for the feature extractor) and, with `drop_blocked`, each BLOCK
/// hit by a space (a passage whose injected spans will be neutralised). `hits` come
/// from Rules::match on n: in text order, non-overlapping. Web addresses (http://,
/// https://, www.) become "[url]": their host and path words are not evidence.
std::string model_input(const Normalized& n, const std::vector<RuleHit>& hits, bool drop_blocked);

/// Normalises raw text, matches the global rules (direction input) and builds the
/// model input as above: what training and calibration feed the classifier.
std::string model_input(std::string_view raw, const Rules& rules);

}  // namespace moerag::safety
