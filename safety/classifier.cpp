// Feature hashing, int8 scoring and the model file format.
//
// File layout (little-endian):
//   "MRSAFE\3\0"                      8-byte magic (feature version 3: placeholder tokens
//                                     for PII (v2) and web addresses (v3); older files are
//                                     refused, their features differ)
//   u32 n_bits, u32 n_cat, u32 reserved
//   n_cat x { u32 name_len, name bytes, f32 scale, bias, platt_a, platt_b, threshold }
//   int8 weights [2^n_bits][n_cat]    feature-major: one feature's weights share a cache line
//   u64 FNV-1a of every byte before it
#include "safety/classifier.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/embedded.h"
#include "core/hash.h"
#include "core/text.h"

namespace moerag {
extern const EmbeddedFiles moerag_safety_model;
}

namespace moerag::safety {
namespace {

constexpr char kMagic[8] = {'M', 'R', 'S', 'A', 'F', 'E', 3, 0};
constexpr size_t kMaxPlaceholder = 24;  // letters and '_' between the brackets of "[email]"
constexpr size_t kMaxFeatures = 1 << 15;  // longer texts are scored on their first ~8k tokens

uint64_t mix(uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Length of a placeholder token "[name]" (name: 1..24 of a-z and '_') at s[i], or 0.
size_t placeholder_len(std::string_view s, size_t i) {
  if (s[i] != '[') return 0;
  size_t k = i + 1;
  while (k < s.size() && k - i - 1 <= kMaxPlaceholder && ((s[k] >= 'a' && s[k] <= 'z') || s[k] == '_')) ++k;
  return (k > i + 1 && k - i - 1 <= kMaxPlaceholder && k < s.size() && s[k] == ']') ? k + 1 - i : 0;
}

bool is_word_cp(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
  return !text::is_cjk(c) && !text::is_space(c) && !(c >= 0x2000 && c <= 0x2BFF) && !(c >= 0xFF00 && c <= 0xFFEF);
}

template <typename T>
void put(std::string& out, T v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }

template <typename T>
bool get(std::string_view& in, T& v) {
  if (in.size() < sizeof v) return false;
  std::memcpy(&v, in.data(), sizeof v);
  in.remove_prefix(sizeof v);
  return true;
}

}  // namespace

const std::vector<std::string>& default_categories() {
  static const std::vector<std::string> cats = {"harmful_request", "hate_harassment", "sexual",
                                                "violence",        "self_harm",       "prompt_injection"};
  return cats;
}

void extract_features(std::string_view s, uint32_t n_bits, std::vector<uint32_t>& idx) {
  idx.clear();
  const int shift = 64 - static_cast<int>(n_bits);
  auto emit = [&](uint64_t h, uint64_t kind) { idx.push_back(static_cast<uint32_t>(mix(h * 31 + kind) >> shift)); };
  uint64_t prev = 0, prev2 = 0;  // hashes of the last two tokens (0 = none)
  bool prev_han = false, prev2_han = false;
  size_t i = 0;
  while (i < s.size() && idx.size() < kMaxFeatures) {
    char32_t cp;
    size_t len = text::utf8_decode(s, i, cp);
    if (len == 0) len = 1;
    uint64_t h;
    bool han = false;
    if (size_t pl = placeholder_len(s, i)) {  // "[email]": one token of its own, no character n-grams
      h = fnv1a64(s.substr(i, pl));
      i += pl;
    } else if (text::is_han(cp)) {
      h = fnv1a64(s.substr(i, len));
      han = true;
      i += len;
    } else if (is_word_cp(cp)) {
      size_t b = i;
      bool ascii = true;
      while (i < s.size()) {
        size_t l = text::utf8_decode(s, i, cp);
        if (l == 0 || !is_word_cp(cp) || text::is_han(cp)) break;
        ascii = ascii && cp < 0x80;
        i += l;
      }
      std::string_view w = s.substr(b, i - b);
      h = fnv1a64(w);
      // Character 4-grams of "<word>" catch misspellings and inflections.
      if (ascii && w.size() >= 3 && w.size() <= 40) {
        char buf[48];
        buf[0] = '<';
        std::memcpy(buf + 1, w.data(), w.size());
        buf[w.size() + 1] = '>';
        for (size_t k = 0; k + 4 <= w.size() + 2; ++k) emit(fnv1a64(std::string_view(buf + k, 4)), 4);
      }
    } else {
      i += len;
      continue;
    }
    emit(h, 1);
    if (prev) emit(prev * 0x9E3779B97F4A7C15ULL + h, 2);
    if (han && prev_han && prev2_han) emit((prev2 * 0x9E3779B97F4A7C15ULL + prev) * 0x9E3779B97F4A7C15ULL + h, 3);
    prev2 = prev;
    prev2_han = prev_han;
    prev = h;
    prev_han = han;
  }
}

std::unique_ptr<Classifier> Classifier::from_float(uint32_t n_bits, std::vector<ModelCategory> cats,
                                                   const std::vector<float>& w) {
  std::unique_ptr<Classifier> m(new Classifier());
  m->n_bits_ = n_bits;
  m->cats_ = std::move(cats);
  size_t n_cat = m->cats_.size(), n_feat = size_t{1} << n_bits;
  m->w_.resize(n_feat * n_cat);
  for (size_t c = 0; c < n_cat; ++c) {
    float mx = 1e-12f;
    for (size_t f = 0; f < n_feat; ++f) mx = std::max(mx, std::fabs(w[f * n_cat + c]));
    float scale = mx / 127.0f;
    m->cats_[c].scale = scale;
    for (size_t f = 0; f < n_feat; ++f)
      m->w_[f * n_cat + c] = static_cast<int8_t>(std::lround(w[f * n_cat + c] / scale));
  }
  return m;
}

std::string Classifier::serialize() const {
  std::string out(kMagic, sizeof kMagic);
  put(out, n_bits_);
  put(out, static_cast<uint32_t>(cats_.size()));
  put(out, uint32_t{0});
  for (const auto& c : cats_) {
    put(out, static_cast<uint32_t>(c.name.size()));
    out += c.name;
    for (float v : {c.scale, c.bias, c.platt_a, c.platt_b, c.threshold}) put(out, v);
  }
  out.append(reinterpret_cast<const char*>(w_.data()), w_.size());
  put(out, fnv1a64(out));
  return out;
}

Result<std::unique_ptr<Classifier>> Classifier::parse(std::string_view bytes) {
  auto bad = [](const std::string& why) { return make_error(ErrorCode::INVALID_INPUT, "safety model: " + why); };
  if (bytes.size() < sizeof kMagic + 8 || std::memcmp(bytes.data(), kMagic, 6) != 0)
    return bad("not a moerag safety model (bad magic)");
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return bad("feature version " + std::to_string(static_cast<int>(bytes[6])) + ", this build reads version " +
               std::to_string(static_cast<int>(kMagic[6])) + " (retrain with `moerag safety train`)");
  uint64_t sum;
  std::memcpy(&sum, bytes.data() + bytes.size() - 8, 8);
  if (fnv1a64(bytes.substr(0, bytes.size() - 8)) != sum) return bad("checksum mismatch (file truncated or damaged)");
  std::string_view in = bytes.substr(sizeof kMagic, bytes.size() - sizeof kMagic - 8);
  std::unique_ptr<Classifier> m(new Classifier());
  uint32_t n_cat = 0, reserved = 0;
  if (!get(in, m->n_bits_) || !get(in, n_cat) || !get(in, reserved)) return bad("truncated header");
  if (m->n_bits_ < 8 || m->n_bits_ > 24 || n_cat == 0 || n_cat > 64) return bad("implausible header");
  for (uint32_t c = 0; c < n_cat; ++c) {
    ModelCategory mc;
    uint32_t len = 0;
    if (!get(in, len) || len > 64 || in.size() < len) return bad("truncated category table");
    mc.name = std::string(in.substr(0, len));
    in.remove_prefix(len);
    for (float* v : {&mc.scale, &mc.bias, &mc.platt_a, &mc.platt_b, &mc.threshold})
      if (!get(in, *v)) return bad("truncated category table");
    m->cats_.push_back(std::move(mc));
  }
  size_t n_w = (size_t{1} << m->n_bits_) * n_cat;
  if (in.size() != n_w) return bad("weight table has " + std::to_string(in.size()) + " bytes, expected " + std::to_string(n_w));
  m->w_.assign(reinterpret_cast<const int8_t*>(in.data()), reinterpret_cast<const int8_t*>(in.data()) + n_w);
  return m;
}

Result<std::unique_ptr<Classifier>> Classifier::load_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return make_error(ErrorCode::NOT_FOUND, "safety model file " + path + " cannot be opened");
  std::stringstream ss;
  ss << f.rdbuf();
  auto m = parse(ss.str());
  if (!m.ok()) return m.error().with_context(path);
  return m;
}

Result<std::unique_ptr<Classifier>> Classifier::load_embedded() {
  if (moerag_safety_model.empty()) return make_error(ErrorCode::NOT_FOUND, "no safety model was embedded at build time");
  return parse(moerag_safety_model.front().view());
}

std::vector<float> Classifier::logits(std::string_view normalised) const {
  thread_local std::vector<uint32_t> idx;
  extract_features(normalised, n_bits_, idx);
  const size_t n_cat = cats_.size();
  int32_t acc[64] = {0};
  for (uint32_t f : idx) {
    const int8_t* w = &w_[static_cast<size_t>(f) * n_cat];
    for (size_t c = 0; c < n_cat; ++c) acc[c] += w[c];
  }
  float inv = feature_value(idx.size());
  std::vector<float> z(n_cat);
  for (size_t c = 0; c < n_cat; ++c) z[c] = cats_[c].bias + cats_[c].scale * static_cast<float>(acc[c]) * inv;
  return z;
}

std::vector<float> Classifier::probabilities(std::string_view normalised) const {
  std::vector<float> p = logits(normalised);
  for (size_t c = 0; c < p.size(); ++c) p[c] = sigmoid(cats_[c].platt_a * p[c] + cats_[c].platt_b);
  return p;
}

}  // namespace moerag::safety
