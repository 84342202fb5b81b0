// English stemming shared by the lexical index, the built-in embedders and the chat
// app's term matching: the Porter algorithm, so that word families (infect,
// infected, infection; prepare, preparing, preparation) meet on one term.
#pragma once

#include <string>
#include <string_view>

namespace moerag::retrieval {

/// Porter stem of a lower-case ASCII word (M. F. Porter, "An algorithm for suffix
/// stripping", Program 14(3):130-137, 1980; steps 1a-5b as published). Words of
/// up to two letters, and words with characters other than a-z, come back unchanged.
std::string porter_stem(std::string_view word);

/// Version tag of the analysis (stemmer + tokenisation) the lexical index and the
/// built-in embedders are built with; stored per knowledge base, and a knowledge
/// base built under another tag is re-analysed when opened.
inline constexpr const char* kAnalyzerVersion = "porter1";

}  // namespace moerag::retrieval
