// Chat templates: turn a conversation into the prompt text a chat model was trained
// on. The families we support are recognised from distinctive substrings of the
// GGUF's `tokenizer.chat_template` (no Jinja engine) or chosen by name
// (`--chat-template NAME`); each renders exactly what its reference template does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace moerag::engine {

struct Vocab;

/// Template families.
enum class ChatFamily {
  CHATML,     ///< "chatml": <|im_start|>role\n...<|im_end|>\n (Qwen)
  LLAMA2,     ///< "llama2": <s>[INST] <<SYS>>\n...\n<</SYS>>\n\n... [/INST] ... </s>
  MISTRAL,    ///< "mistral": <s>[INST] ... [/INST]...</s> (system folded into the first user turn)
  LLAMA3,     ///< "llama3": <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>
  DEEPSEEK2,  ///< "deepseek2": User: ...\n\nAssistant: ...<｜end▁of▁sentence｜> (DeepSeek V2 / LLM chat)
  DEEPSEEK3,  ///< "deepseek3": <｜User｜>...<｜Assistant｜>...<｜end▁of▁sentence｜> (DeepSeek V3 / R1)
};

/// One turn of a conversation. `role` is "system", "user" or "assistant".
struct ChatMessage {
  std::string role;
  std::string content;
};

/// A recognised template plus the BOS/EOS texts it inserts.
class ChatTemplate {
 public:
  /// The family whose distinctive markers `jinja` contains. INVALID_INPUT when
  /// empty or unrecognised (the message lists the names for --chat-template).
  static Result<ChatTemplate> detect(std::string_view jinja);
  /// The family called `name` (see known_chat_templates()); INVALID_INPUT otherwise.
  static Result<ChatTemplate> from_name(std::string_view name);
  /// For a model: `override_name` when not empty, else detected from the vocabulary's
  /// chat template; BOS/EOS texts are taken from the vocabulary.
  static Result<ChatTemplate> for_vocab(const Vocab& vocab, std::string_view override_name = {});

  /// The prompt text. With `add_generation_prompt` it ends with the opening of an
  /// assistant turn. The text contains special-token markup (and the BOS text where
  /// the reference template writes it): encode it with add_special=false,
  /// parse_special=true. INVALID_INPUT for an unknown role.
  Result<std::string> render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;

  ChatFamily family() const { return family_; }
  /// Canonical name ("chatml", "llama3", ...).
  const char* name() const;
  /// Texts written for bos_token / eos_token (defaults are each family's usual ones).
  void set_special_texts(std::string bos, std::string eos);
  const std::string& bos_text() const { return bos_; }
  const std::string& eos_text() const { return eos_; }

 private:
  explicit ChatTemplate(ChatFamily f);
  ChatFamily family_;
  std::string bos_;
  std::string eos_;
};

/// "chatml, llama2, mistral, llama3, deepseek2, deepseek3".
std::string known_chat_templates();

}  // namespace moerag::engine
