// LSA embedder: feature vocabulary and IDF from the sample, a sparse TF-IDF
// matrix X [n, m] with unit rows, a rank-k basis of its row space by randomized
// SVD (Halko et al.: Gaussian sketch, two power iterations, Cholesky QR with
// cblas), and the blob that stores the fit. Embedding = [latent | hashed].
#include "retrieval/lsa_embedder.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "core/hash.h"

namespace moerag::retrieval {
namespace {

constexpr char kMagic[4] = {'L', 'S', 'A', '1'};
constexpr int kOversample = 10;       // extra sketch columns beyond k
constexpr int kPowerIterations = 2;   // sharpen the spectrum of a flat TF-IDF matrix
constexpr float kSigmaPower = 0.5f;   // latent coordinates are U * sigma^(1 - kSigmaPower); measured on SQuAD
constexpr float kLatentShare = 0.5f;  // squared norm of the latent part in the embedding

struct Header {
  char magic[4];
  uint32_t k;       // latent dimensions
  uint32_t m;       // kept features
  uint32_t d_hash;  // hashed dimensions
  uint64_t n_docs;  // texts the fit saw
};

// Sparse rows: X [n, m], CSR.
struct Csr {
  std::vector<size_t> ptr{0};
  std::vector<int32_t> col;
  std::vector<float> val;
  size_t rows() const { return ptr.size() - 1; }
};

float idf_of(uint32_t df, uint64_t n) { return std::max(0.0f, static_cast<float>(std::log((n + 1.0) / (df + 0.5)))); }

// out [n, l] = X [n, m] * d [m, l]
void mul_x(const Csr& x, const std::vector<float>& d, int l, std::vector<float>& out) {
  out.assign(x.rows() * l, 0.0f);
  for (size_t i = 0; i < x.rows(); ++i)
    for (size_t p = x.ptr[i]; p < x.ptr[i + 1]; ++p)
      cblas_saxpy(l, x.val[p], d.data() + static_cast<size_t>(x.col[p]) * l, 1, out.data() + i * l, 1);
}

// out [m, l] = X^T [m, n] * d [n, l]
void mul_xt(const Csr& x, size_t m, const std::vector<float>& d, int l, std::vector<float>& out) {
  out.assign(m * l, 0.0f);
  for (size_t i = 0; i < x.rows(); ++i)
    for (size_t p = x.ptr[i]; p < x.ptr[i + 1]; ++p)
      cblas_saxpy(l, x.val[p], d.data() + i * l, 1, out.data() + static_cast<size_t>(x.col[p]) * l, 1);
}

// Orthonormalises the columns of a [r, l] in place: twice A <- A L^-T with
// A^T A = L L^T (Cholesky QR2); a small ridge keeps rank-deficient input finite.
void orthonormalize(std::vector<float>& a, size_t r, int l) {
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<float> g(static_cast<size_t>(l) * l);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, l, l, static_cast<int>(r), 1.0f, a.data(), l, a.data(), l,
                0.0f, g.data(), l);
    double trace = 0;
    for (int i = 0; i < l; ++i) trace += g[i * l + i];
    const double ridge = 1e-6 * trace / l + 1e-20;
    std::vector<double> lo(static_cast<size_t>(l) * l, 0.0);  // lower-triangular Cholesky factor
    for (int i = 0; i < l; ++i) {
      for (int j = 0; j <= i; ++j) {
        double s = g[i * l + j] + (i == j ? ridge : 0.0);
        for (int t = 0; t < j; ++t) s -= lo[i * l + t] * lo[j * l + t];
        if (i == j) lo[i * l + i] = std::sqrt(std::max(s, ridge));
        else lo[i * l + j] = s / lo[j * l + j];
      }
    }
    std::vector<float> lf(lo.begin(), lo.end());
    cblas_strsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, static_cast<int>(r), l, 1.0f,
                lf.data(), l, a.data(), l);
  }
}

// Eigenvalues (descending) and eigenvectors (columns of v [l, l]) of a symmetric
// s [l, l], by cyclic Jacobi rotations; l is a few hundred at most.
void symmetric_eigen(std::vector<double> s, int l, std::vector<double>& lambda, std::vector<double>& v) {
  v.assign(static_cast<size_t>(l) * l, 0.0);
  for (int i = 0; i < l; ++i) v[i * l + i] = 1.0;
  for (int sweep = 0; sweep < 30; ++sweep) {
    double off = 0, diag = 0;
    for (int i = 0; i < l; ++i)
      for (int j = 0; j < l; ++j) (i == j ? diag : off) += s[i * l + j] * s[i * l + j];
    if (off <= 1e-22 * diag) break;
    for (int p = 0; p < l; ++p)
      for (int q = p + 1; q < l; ++q) {
        double apq = s[p * l + q];
        if (std::abs(apq) < 1e-30) continue;
        double theta = (s[q * l + q] - s[p * l + p]) / (2 * apq);
        double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        double c = 1 / std::sqrt(t * t + 1), sn = t * c;
        for (int k = 0; k < l; ++k) {  // columns p, q
          double a = s[k * l + p], b = s[k * l + q];
          s[k * l + p] = c * a - sn * b;
          s[k * l + q] = sn * a + c * b;
        }
        for (int k = 0; k < l; ++k) {  // rows p, q
          double a = s[p * l + k], b = s[q * l + k];
          s[p * l + k] = c * a - sn * b;
          s[q * l + k] = sn * a + c * b;
        }
        for (int k = 0; k < l; ++k) {
          double a = v[k * l + p], b = v[k * l + q];
          v[k * l + p] = c * a - sn * b;
          v[k * l + q] = sn * a + c * b;
        }
      }
  }
  std::vector<int> order(l);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return s[a * l + a] > s[b * l + b]; });
  std::vector<double> sorted(static_cast<size_t>(l) * l);
  lambda.resize(l);
  for (int j = 0; j < l; ++j) {
    lambda[j] = s[order[j] * l + order[j]];
    for (int i = 0; i < l; ++i) sorted[i * l + j] = v[i * l + order[j]];
  }
  v = std::move(sorted);
}

void put(std::string& out, const void* p, size_t n) { out.append(static_cast<const char*>(p), n); }

void normalize(float* v, size_t n, float scale) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(v[i]) * v[i];
  float f = s > 0 ? static_cast<float>(scale / std::sqrt(s)) : 0.0f;
  for (size_t i = 0; i < n; ++i) v[i] *= f;
}

}  // namespace

std::string LsaEmbedder::fit(const std::vector<std::string>& all, size_t dim) {
  const size_t step = std::max<size_t>(1, (all.size() + kMaxFitTexts - 1) / kMaxFitTexts);
  std::vector<const std::string*> texts;
  for (size_t i = 0; i < all.size(); i += step) texts.push_back(&all[i]);
  const uint64_t n = texts.size();
  std::vector<uint32_t> df(HashedEmbedder::kBuckets, 0);
  for (auto* t : texts) HashedEmbedder::count_df(*t, df);

  // Vocabulary: the most frequent buckets seen in at least two texts.
  std::vector<uint32_t> buckets;
  for (uint32_t b = 0; b < HashedEmbedder::kBuckets; ++b)
    if (df[b] >= 2) buckets.push_back(b);
  std::stable_sort(buckets.begin(), buckets.end(), [&](uint32_t a, uint32_t b) { return df[a] > df[b]; });
  if (buckets.size() > kMaxFeatures) buckets.resize(kMaxFeatures);
  std::sort(buckets.begin(), buckets.end());
  const size_t m = buckets.size();
  std::vector<int32_t> row_of(HashedEmbedder::kBuckets, -1);
  for (size_t j = 0; j < m; ++j) row_of[buckets[j]] = static_cast<int32_t>(j);

  const uint32_t k = static_cast<uint32_t>(std::min<size_t>(dim * 2 / 3, 256));
  const uint32_t d_hash = static_cast<uint32_t>(dim - k);
  const int l = static_cast<int>(std::min<size_t>({k + kOversample, n, m}));
  std::vector<float> proj(m * k, 0.0f);  // [m, k]
  if (l > 0) {
    Csr x;  // [n, m] unit rows of TF-IDF
    for (auto* t : texts) {
      size_t begin = x.col.size();
      for (auto& [h, w] : HashedEmbedder::features(*t)) {
        int32_t j = row_of[h % HashedEmbedder::kBuckets];
        if (j < 0) continue;
        x.col.push_back(j);
        x.val.push_back(w * idf_of(df[buckets[j]], n));
      }
      normalize(x.val.data() + begin, x.val.size() - begin, 1.0f);
      x.ptr.push_back(x.col.size());
    }
    std::mt19937 rng(12345);
    std::normal_distribution<float> gauss;
    std::vector<float> omega(m * l), y, z;  // omega [m, l], y [n, l], z [m, l]
    for (auto& v : omega) v = gauss(rng);
    mul_x(x, omega, l, y);
    orthonormalize(y, n, l);
    for (int q = 0; q < kPowerIterations; ++q) {
      mul_xt(x, m, y, l, z);
      orthonormalize(z, m, l);
      mul_x(x, z, l, y);
      orthonormalize(y, n, l);
    }
    mul_xt(x, m, y, l, z);  // z = X^T Q = B^T [m, l]
    std::vector<float> c(static_cast<size_t>(l) * l);  // B B^T [l, l]
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, l, l, static_cast<int>(m), 1.0f, z.data(), l, z.data(), l,
                0.0f, c.data(), l);
    std::vector<double> lambda, u;
    symmetric_eigen(std::vector<double>(c.begin(), c.end()), l, lambda, u);
    // V_i = B^T u_i / sigma_i; stored scaled by sigma_i^-kSigmaPower.
    const int kk = std::min<int>(static_cast<int>(k), l);
    std::vector<float> uk(static_cast<size_t>(l) * kk);
    for (int i = 0; i < l; ++i)
      for (int j = 0; j < kk; ++j) {
        double sigma = std::sqrt(std::max(0.0, lambda[j]));
        bool keep = sigma > 1e-6 * std::sqrt(std::max(1e-30, lambda[0]));
        uk[i * kk + j] = keep ? static_cast<float>(u[i * l + j] / std::pow(sigma, 1.0 + kSigmaPower)) : 0.0f;
      }
    std::vector<float> w(m * kk);  // [m, kk]
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m), kk, l, 1.0f, z.data(), l, uk.data(),
                kk, 0.0f, w.data(), kk);
    for (size_t i = 0; i < m; ++i) std::copy_n(w.data() + i * kk, kk, proj.data() + i * k);
  }
  Header h{};
  std::memcpy(h.magic, kMagic, 4);
  h.k = k;
  h.m = static_cast<uint32_t>(m);
  h.d_hash = d_hash;
  h.n_docs = n;
  std::string blob;
  put(blob, &h, sizeof h);
  put(blob, df.data(), df.size() * sizeof(uint32_t));
  put(blob, buckets.data(), m * sizeof(uint32_t));
  put(blob, proj.data(), proj.size() * sizeof(float));
  return blob;
}

bool LsaEmbedder::is_model(const std::string& blob) {
  return blob.size() >= sizeof(Header) && std::memcmp(blob.data(), kMagic, 4) == 0;
}

Result<std::shared_ptr<LsaEmbedder>> LsaEmbedder::load(const std::string& blob) {
  if (!is_model(blob)) return Error(ErrorCode::INVALID_INPUT, "not an LSA model");
  Header h;
  std::memcpy(&h, blob.data(), sizeof h);
  const size_t nb = HashedEmbedder::kBuckets;
  size_t need = sizeof h + nb * 4 + size_t(h.m) * 4 + size_t(h.m) * h.k * 4;
  if (blob.size() != need || h.d_hash == 0) return Error(ErrorCode::INVALID_INPUT, "LSA model blob is damaged");
  std::shared_ptr<LsaEmbedder> e(new LsaEmbedder());
  const char* p = blob.data() + sizeof h;
  std::vector<uint32_t> df(nb), buckets(h.m);
  std::memcpy(df.data(), p, nb * 4);
  std::memcpy(buckets.data(), p + nb * 4, size_t(h.m) * 4);
  e->proj_.resize(size_t(h.m) * h.k);
  std::memcpy(e->proj_.data(), p + nb * 4 + size_t(h.m) * 4, e->proj_.size() * 4);
  e->n_latent_ = h.k;
  e->row_of_.assign(nb, -1);
  e->idf_.resize(h.m);
  for (uint32_t j = 0; j < h.m; ++j) {
    if (buckets[j] >= nb) return Error(ErrorCode::INVALID_INPUT, "LSA model blob is damaged");
    e->row_of_[buckets[j]] = static_cast<int32_t>(j);
    e->idf_[j] = idf_of(df[buckets[j]], h.n_docs);
  }
  e->hashed_ = std::make_unique<HashedEmbedder>(h.d_hash, std::move(df), static_cast<int64_t>(h.n_docs));
  char buf[96];
  std::snprintf(buf, sizeof buf, "lsa-v1/k%u+h%u/%016llx", h.k, h.d_hash,
                static_cast<unsigned long long>(fnv1a64(std::string_view(blob))));
  e->id_ = buf;
  return e;
}

void LsaEmbedder::embed_one(std::string_view text, float* out) const {
  const size_t k = n_latent_;
  std::fill(out, out + k, 0.0f);
  for (auto& [h, w] : HashedEmbedder::features(text)) {
    int32_t j = row_of_[h % HashedEmbedder::kBuckets];
    if (j >= 0) cblas_saxpy(static_cast<int>(k), w * idf_[j], proj_.data() + static_cast<size_t>(j) * k, 1, out, 1);
  }
  hashed_->embed_one(text, out + k);
  normalize(out, k, std::sqrt(kLatentShare));
  normalize(out + k, hashed_->dim(), std::sqrt(1.0f - kLatentShare));
  normalize(out, dim(), 1.0f);
}

Result<std::vector<float>> LsaEmbedder::embed(const std::vector<std::string>& texts) {
  std::vector<float> out(texts.size() * dim());
  for (size_t i = 0; i < texts.size(); ++i) embed_one(texts[i], out.data() + i * dim());
  return out;
}

}  // namespace moerag::retrieval
