// Rotary-embedding angles shared by every rope version: the base frequencies and
// YaRN's blend of interpolated and extrapolated frequencies. Formulas follow ggml's
// rope_yarn / ggml_rope_yarn_corr_dims and the YaRN paper (facts only):
//   theta_i = pos * base^(-2i/n_rot);  interp = freq_scale * theta_i;
//   ramp_i = 1 - clamp((i - low) / max(0.001, high - low), 0, 1);
//   theta = interp * (1 - ramp * ext) + theta_i * ramp * ext;
//   mscale multiplies cos/sin.
#include <algorithm>
#include <cmath>

#include "engine/kernels/kernels.h"

namespace moerag::engine::kernels {
namespace {

// The dimension index whose wavelength makes n_rot_turns full turns over n_ctx_orig.
float corr_dim(float n_rot_turns, const RopeParams& p) {
  return static_cast<float>(p.n_rot) *
         std::log(static_cast<float>(p.n_ctx_orig) / (n_rot_turns * 2.0f * static_cast<float>(M_PI))) /
         (2.0f * std::log(p.freq_base));
}

}  // namespace

void rope_yarn_corr_dims(const RopeParams& p, float dims[2]) {
  const float start = std::floor(corr_dim(p.beta_fast, p));
  const float end = std::ceil(corr_dim(p.beta_slow, p));
  dims[0] = std::max(0.0f, start);
  dims[1] = std::min(static_cast<float>(p.n_rot - 1), end);
}

void rope_cos_sin(const RopeParams& p, int32_t pos, float* cs) {
  float corr[2] = {0, 0};
  if (p.ext_factor != 0) rope_yarn_corr_dims(p, corr);
  const double theta_scale = std::pow(static_cast<double>(p.freq_base), -2.0 / static_cast<double>(p.n_rot));
  double theta_extrap = pos;
  for (int64_t i = 0; i < p.n_rot / 2; ++i, theta_extrap *= theta_scale) {
    const double theta_interp = p.freq_scale * theta_extrap;
    double theta = theta_interp;
    if (p.ext_factor != 0) {
      const double y = (static_cast<double>(i) - corr[0]) / std::max(0.001, static_cast<double>(corr[1] - corr[0]));
      const double ramp = (1.0 - std::min(1.0, std::max(0.0, y))) * p.ext_factor;
      theta = theta_interp * (1 - ramp) + theta_extrap * ramp;
    }
    cs[2 * i] = static_cast<float>(std::cos(theta) * p.mscale);
    cs[2 * i + 1] = static_cast<float>(std::sin(theta) * p.mscale);
  }
}

}  // namespace moerag::engine::kernels
