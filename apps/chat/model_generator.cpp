// The chat's AnswerGenerator over engine::Generator (see chat.h): chat messages in,
// decoded text pieces streamed out, a sink that says stop ends the generation.
#include <algorithm>

#include "apps/chat/chat.h"
#include "engine/generator.h"

namespace moerag::chat {
namespace {

class ModelAnswerGenerator : public AnswerGenerator {
 public:
  ModelAnswerGenerator(std::shared_ptr<engine::Generator> gen, GenerationOptions o) : gen_(std::move(gen)), o_(o) {}

  Result<std::string> generate(const std::string& system, const std::string& prompt, int max_tokens,
                               const TokenSink& sink) override {
    engine::GenerateRequest req;
    if (!system.empty()) req.messages.push_back({"system", system});
    req.messages.push_back({"user", prompt});
    // Leave at least three quarters of the context to the prompt.
    int64_t cap = std::max<int64_t>(16, gen_->n_ctx() / 4);
    req.max_tokens = static_cast<int32_t>(std::clamp<int64_t>(max_tokens, 1, cap));
    req.sampling.temperature = o_.temperature;
    req.sampling.top_p = o_.top_p;
    req.sampling.repetition_penalty = o_.repetition_penalty;
    req.sampling.seed = o_.seed;
    req.timeout_ms = o_.timeout_ms;
    engine::TokenCallback on_token = nullptr;
    if (sink)
      on_token = [&sink](int32_t, const std::string& piece) { return piece.empty() || sink(piece); };
    MOERAG_ASSIGN_OR_RETURN(engine::GenerateResult r, gen_->generate(req, on_token));
    return std::move(r.text);
  }

 private:
  std::shared_ptr<engine::Generator> gen_;
  GenerationOptions o_;
};

}  // namespace

std::shared_ptr<AnswerGenerator> model_answer_generator(std::shared_ptr<engine::Generator> generator,
                                                        GenerationOptions options) {
  if (!generator) return nullptr;
  return std::make_shared<ModelAnswerGenerator>(std::move(generator), options);
}

}  // namespace moerag::chat
