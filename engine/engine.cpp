// open_generator / open_embedder, and BertEmbedder: the engine's Embedder on one CPU
// backend (one text at a time, guarded by a mutex). The Generator is the
// continuous-batching Engine (engine_loop.cpp).
#include "engine/engine.h"

#include <cmath>
#include <filesystem>
#include <mutex>

#include "engine/forward.h"
#include "engine/tokenizer.h"

namespace moerag::engine {
namespace {

class BertEmbedder final : public Embedder {
 public:
  Status init(const std::string& path, const EngineOptions& o) {
    backend_ = make_cpu_backend(o.n_threads);
    MOERAG_ASSIGN_OR_RETURN(model_, Model::load(path, *backend_));
    if (model_->config().arch != Arch::BERT) {
      return Error(ErrorCode::INVALID_INPUT, path + " is not a bert embedding model");
    }
    MOERAG_ASSIGN_OR_RETURN(tok_, Tokenizer::from_gguf(model_->file()));
    fwd_ = std::make_unique<Forward>(*model_, *backend_, nullptr);
    id_ = "gguf:" + (model_->config().name.empty() ? std::filesystem::path(path).stem().string() : model_->config().name) +
          ":" + std::to_string(model_->file().file_size());
    return ok_status();
  }
  size_t dim() const override { return static_cast<size_t>(model_->config().n_embd); }
  std::string id() const override { return id_; }

  Result<std::vector<float>> embed(const std::vector<std::string>& texts) override {
    std::lock_guard lock(mu_);
    const int64_t D = model_->config().n_embd;
    std::vector<float> out(texts.size() * static_cast<size_t>(D), 0.0f);
    for (size_t i = 0; i < texts.size(); ++i) {
      if (texts[i].empty()) continue;
      std::vector<int32_t> ids = tok_->encode(texts[i], true, false);
      if (static_cast<int64_t>(ids.size()) > model_->config().n_ctx_train) {
        ids.resize(static_cast<size_t>(model_->config().n_ctx_train));  // truncate long passages
      }
      std::vector<float> hidden;  // F32 [n_tok, n_embd]
      MOERAG_TRY(fwd_->encode(ids, &hidden));
      float* v = out.data() + i * static_cast<size_t>(D);
      const int64_t n = static_cast<int64_t>(ids.size());
      if (model_->config().pooling_type == 2) {  // CLS: the first token
        std::copy(hidden.begin(), hidden.begin() + D, v);
      } else {  // mean (pooling 1, and the default for files that do not say)
        for (int64_t t = 0; t < n; ++t)
          for (int64_t d = 0; d < D; ++d) v[d] += hidden[static_cast<size_t>(t * D + d)] / static_cast<float>(n);
      }
      double ss = 0;
      for (int64_t d = 0; d < D; ++d) ss += static_cast<double>(v[d]) * v[d];
      const float inv = ss > 0 ? static_cast<float>(1.0 / std::sqrt(ss)) : 0.0f;
      for (int64_t d = 0; d < D; ++d) v[d] *= inv;
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tok_;
  std::unique_ptr<Forward> fwd_;  // guarded by mu_
  std::string id_;
};

}  // namespace

Result<std::shared_ptr<Generator>> open_generator(const std::string& path, const EngineOptions& options) {
  MOERAG_ASSIGN_OR_RETURN(std::shared_ptr<Engine> e, Engine::create(path, options));
  return std::shared_ptr<Generator>(std::move(e));
}

Result<std::unique_ptr<Embedder>> open_embedder(const std::string& path, const EngineOptions& options) {
  auto e = std::make_unique<BertEmbedder>();
  MOERAG_TRY(e->init(path, options));
  return std::unique_ptr<Embedder>(std::move(e));
}

}  // namespace moerag::engine
