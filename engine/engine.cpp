// LocalGenerator and BertEmbedder: the engine's Generator and Embedder on one CPU
// backend. Generation runs one request at a time (guarded by a mutex) as sequence 0 of
// a paged KV cache whose full blocks stay registered after the request, so the next
// prompt that starts with the same tokens reuses them. Issue 5's scheduler replaces
// the one-at-a-time loop with continuous batching over the same Forward.
#include "engine/engine.h"

#include <cmath>
#include <filesystem>
#include <mutex>

#include "engine/forward.h"
#include "engine/tokenizer.h"

namespace moerag::engine {
namespace {

// Text not yet streamed because it may be the start of a stop string.
size_t held_back(const std::string& text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const auto& s : stops) {
    for (size_t k = std::min(s.size() - 1, text.size()); k > hold; --k) {
      if (text.compare(text.size() - k, k, s, 0, k) == 0) {
        hold = k;
        break;
      }
    }
  }
  return hold;
}

class LocalGenerator final : public Generator {
 public:
  Status init(const std::string& path, const EngineOptions& o) {
    backend_ = make_cpu_backend(o.n_threads);
    MOERAG_ASSIGN_OR_RETURN(model_, Model::load(path, *backend_));
    if (model_->config().arch == Arch::BERT) {
      return Error(ErrorCode::INVALID_INPUT, path + " is a bert encoder; use it as an embedding model");
    }
    MOERAG_ASSIGN_OR_RETURN(tok_, Tokenizer::from_gguf(model_->file()));
    auto tmpl = ChatTemplate::for_vocab(tok_->vocab(), o.chat_template);
    if (tmpl.ok()) tmpl_ = std::make_unique<ChatTemplate>(*tmpl);
    KvCacheOptions ko;
    ko.type = o.kv_type;
    ko.block_size = o.kv_block_size;
    ko.n_ctx = std::min(o.n_ctx, model_->config().n_ctx_train);
    ko.n_seq = std::max<int64_t>(1, o.n_cached_seqs);
    n_ctx_ = ko.n_ctx;
    MOERAG_ASSIGN_OR_RETURN(kv_, KvCache::create(model_->config(), *backend_, ko));
    fwd_ = std::make_unique<Forward>(*model_, *backend_, kv_.get());
    name_ = model_->config().name.empty() ? std::filesystem::path(path).stem().string() : model_->config().name;
    return ok_status();
  }

  std::string model_id() const override { return name_; }
  int64_t n_ctx() const override { return n_ctx_; }
  std::vector<std::vector<uint64_t>> expert_load() const override {
    std::lock_guard lock(mu_);
    return fwd_->expert_load();
  }

  Result<GenerateResult> generate(const GenerateRequest& req, const TokenCallback& on_token,
                                  const CancelHandle& cancel) override {
    std::lock_guard lock(mu_);
    MOERAG_ASSIGN_OR_RETURN(std::vector<int32_t> prompt, prompt_ids(req));
    if (prompt.empty()) return Error(ErrorCode::INVALID_INPUT, "the prompt is empty");
    GenerateResult res;
    res.n_prompt = static_cast<int64_t>(prompt.size());
    constexpr int32_t kSeq = 0;
    kv_->remove_sequence(kSeq);
    MOERAG_TRY(kv_->add_sequence(kSeq));
    res.n_prompt_cached = kv_->attach_prefix(kSeq, prompt);
    Sampler sampler(req.sampling);
    for (int32_t t : prompt) sampler.accept(t);
    std::vector<BatchToken> batch;
    for (int64_t i = res.n_prompt_cached; i < res.n_prompt; ++i) {
      batch.push_back({prompt[static_cast<size_t>(i)], kSeq, static_cast<int32_t>(i), i + 1 == res.n_prompt});
    }
    StreamDecoder dec(*tok_);
    std::string pending;  // decoded text not yet handed to the callback
    res.finish_reason = "length";
    const int64_t n_vocab = model_->config().n_vocab;
    for (int32_t step = 0; step < req.max_tokens; ++step) {
      if (cancel.cancelled()) {
        res.finish_reason = "cancelled";
        break;
      }
      std::vector<float> logits;
      Status st = fwd_->decode(batch, &logits);
      if (!st.ok()) {
        kv_->remove_sequence(kSeq);
        return st.error();
      }
      const int32_t id = sampler.sample(logits.data() + logits.size() - n_vocab, n_vocab);
      sampler.accept(id);
      if (tok_->is_eog(id)) {
        res.finish_reason = "stop";
        break;
      }
      res.ids.push_back(id);
      pending += dec.push(id);
      std::string full = res.text + pending;
      bool stopped = false;
      for (const auto& s : req.stop) {
        const size_t at = s.empty() ? std::string::npos : full.find(s);
        if (at != std::string::npos) {
          pending = full.substr(res.text.size(), at > res.text.size() ? at - res.text.size() : 0);
          stopped = true;
        }
      }
      const size_t hold = stopped ? 0 : held_back(pending, req.stop);
      const std::string out = pending.substr(0, pending.size() - hold);
      pending.erase(0, out.size());
      res.text += out;
      if (on_token && !on_token(id, out)) {
        res.finish_reason = "cancelled";
        break;
      }
      if (stopped) {
        res.finish_reason = "stop";
        break;
      }
      batch = {{id, kSeq, static_cast<int32_t>(kv_->n_pos(kSeq)), true}};
    }
    if (res.finish_reason != "stop") res.text += pending + dec.flush();
    kv_->remove_sequence(kSeq);  // full blocks stay registered for prefix reuse
    return res;
  }

 private:
  Result<std::vector<int32_t>> prompt_ids(const GenerateRequest& req) const {
    if (!req.prompt_ids.empty()) {
      for (int32_t id : req.prompt_ids) {
        if (id < 0 || id >= model_->config().n_vocab) {
          return Error(ErrorCode::INVALID_INPUT, "token id " + std::to_string(id) + " is outside the vocabulary");
        }
      }
      return req.prompt_ids;
    }
    if (!req.messages.empty()) {
      if (!tmpl_) return Error(ErrorCode::INVALID_INPUT, "the model has no chat template we recognise");
      MOERAG_ASSIGN_OR_RETURN(std::string text, tmpl_->render(req.messages, true));
      return tok_->encode(text, false, true);
    }
    return tok_->encode(req.prompt, req.add_bos, true);
  }

  mutable std::mutex mu_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tok_;
  std::unique_ptr<ChatTemplate> tmpl_;
  std::unique_ptr<KvCache> kv_;
  std::unique_ptr<Forward> fwd_;  // guarded by mu_
  std::string name_;
  int64_t n_ctx_ = 0;
};

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

Result<std::unique_ptr<Generator>> open_generator(const std::string& path, const EngineOptions& options) {
  auto g = std::make_unique<LocalGenerator>();
  MOERAG_TRY(g->init(path, options));
  return std::unique_ptr<Generator>(std::move(g));
}

Result<std::unique_ptr<Embedder>> open_embedder(const std::string& path, const EngineOptions& options) {
  auto e = std::make_unique<BertEmbedder>();
  MOERAG_TRY(e->init(path, options));
  return std::unique_ptr<Embedder>(std::move(e));
}

}  // namespace moerag::engine
