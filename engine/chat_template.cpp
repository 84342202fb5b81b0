// Chat template detection and rendering. Each family's renderer reproduces the
// reference Jinja template published with the models (tokenizer_config.json of
// Qwen2 (ChatML without its default system line), Llama-2-chat, Mistral-Instruct,
// Llama-3-Instruct, DeepSeek-V2-Chat, DeepSeek-V3); detection keys on the same
// substrings llama.cpp's llm_chat_detect_template uses.
#include "engine/chat_template.h"

#include "core/text.h"
#include "engine/vocab.h"

namespace moerag::engine {
namespace {

struct FamilyInfo {
  ChatFamily family;
  const char* name;
  const char* bos;  // default bos_token text
  const char* eos;  // default eos_token text
};

constexpr FamilyInfo kFamilies[] = {
    {ChatFamily::CHATML, "chatml", "", "<|im_end|>"},
    {ChatFamily::LLAMA2, "llama2", "<s>", "</s>"},
    {ChatFamily::MISTRAL, "mistral", "<s>", "</s>"},
    {ChatFamily::LLAMA3, "llama3", "<|begin_of_text|>", "<|eot_id|>"},
    {ChatFamily::DEEPSEEK2, "deepseek2", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"},
    {ChatFamily::DEEPSEEK3, "deepseek3", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"},
};

const FamilyInfo& info(ChatFamily f) {
  for (const auto& i : kFamilies) {
    if (i.family == f) return i;
  }
  return kFamilies[0];
}

bool has(std::string_view s, std::string_view needle) { return s.find(needle) != std::string_view::npos; }

Status check_roles(const std::vector<ChatMessage>& messages) {
  for (const auto& m : messages) {
    if (m.role != "system" && m.role != "user" && m.role != "assistant") {
      return make_error(ErrorCode::INVALID_INPUT,
                        "chat template: unknown role '" + m.role + "' (use system, user or assistant)");
    }
  }
  return ok_status();
}

// The system messages joined by "\n\n" (templates that take one system prompt).
std::string joined_system(const std::vector<ChatMessage>& messages) {
  std::string s;
  bool first = true;
  for (const auto& m : messages) {
    if (m.role != "system") continue;
    if (!first) s += "\n\n";
    s += m.content;
    first = false;
  }
  return s;
}

std::string render_chatml(const std::vector<ChatMessage>& msgs, bool gen) {
  std::string out;
  for (const auto& m : msgs) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  if (gen) out += "<|im_start|>assistant\n";
  return out;
}

// Llama-2-chat: the system prompt goes inside the first user turn; every user
// turn opens with BOS; contents are stripped.
std::string render_llama2(const std::vector<ChatMessage>& msgs, const std::string& bos, const std::string& eos) {
  const std::string system = joined_system(msgs);
  std::string out;
  bool first_user = true;
  for (const auto& m : msgs) {
    if (m.role == "user") {
      std::string body = m.content;
      if (first_user && !system.empty()) body = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + m.content;
      out += bos + "[INST] " + std::string(text::trim(body)) + " [/INST]";
      first_user = false;
    } else if (m.role == "assistant") {
      out += " " + std::string(text::trim(m.content)) + " " + eos;
    }
  }
  return out;
}

// Mistral-Instruct: one BOS, [INST] user [/INST]assistant</s>; a system prompt is
// put before the first user message.
std::string render_mistral(const std::vector<ChatMessage>& msgs, const std::string& bos, const std::string& eos) {
  const std::string system = joined_system(msgs);
  std::string out = bos;
  bool first_user = true;
  for (const auto& m : msgs) {
    if (m.role == "user") {
      out += "[INST] ";
      if (first_user && !system.empty()) out += system + "\n\n";
      out += m.content + " [/INST]";
      first_user = false;
    } else if (m.role == "assistant") {
      out += m.content + eos;
    }
  }
  return out;
}

std::string render_llama3(const std::vector<ChatMessage>& msgs, bool gen, const std::string& bos) {
  std::string out = bos;
  for (const auto& m : msgs) {
    out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + std::string(text::trim(m.content)) + "<|eot_id|>";
  }
  if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

std::string render_deepseek2(const std::vector<ChatMessage>& msgs, bool gen, const std::string& bos,
                             const std::string& eos) {
  std::string out = bos;
  for (const auto& m : msgs) {
    if (m.role == "user") {
      out += "User: " + m.content + "\n\n";
    } else if (m.role == "assistant") {
      out += "Assistant: " + m.content + eos;
    } else {
      out += m.content + "\n\n";
    }
  }
  if (gen) out += "Assistant:";
  return out;
}

// The reference template writes <｜end▁of▁sentence｜> literally, not eos_token.
std::string render_deepseek3(const std::vector<ChatMessage>& msgs, bool gen, const std::string& bos) {
  const std::string eos = "<｜end▁of▁sentence｜>";
  std::string out = bos + joined_system(msgs);
  for (const auto& m : msgs) {
    if (m.role == "user") {
      out += "<｜User｜>" + m.content;
    } else if (m.role == "assistant") {
      out += "<｜Assistant｜>" + m.content + eos;
    }
  }
  if (gen) out += "<｜Assistant｜>";
  return out;
}

}  // namespace

ChatTemplate::ChatTemplate(ChatFamily f) : family_(f), bos_(info(f).bos), eos_(info(f).eos) {}

const char* ChatTemplate::name() const { return info(family_).name; }

void ChatTemplate::set_special_texts(std::string bos, std::string eos) {
  bos_ = std::move(bos);
  eos_ = std::move(eos);
}

std::string known_chat_templates() {
  std::string s;
  for (const auto& i : kFamilies) s += (s.empty() ? "" : ", ") + std::string(i.name);
  return s;
}

Result<ChatTemplate> ChatTemplate::from_name(std::string_view name) {
  for (const auto& i : kFamilies) {
    if (name == i.name) return ChatTemplate(i.family);
  }
  return make_error(ErrorCode::INVALID_INPUT, "unknown chat template '" + std::string(name) +
                                                  "' (known: " + known_chat_templates() + ")");
}

Result<ChatTemplate> ChatTemplate::detect(std::string_view t) {
  if (t.empty()) {
    return make_error(ErrorCode::INVALID_INPUT, "the model has no chat template; choose one with --chat-template NAME (" +
                                                    known_chat_templates() + ")");
  }
  if (has(t, "<|im_start|>")) return ChatTemplate(ChatFamily::CHATML);
  if (has(t, "<|start_header_id|>") && has(t, "<|end_header_id|>")) return ChatTemplate(ChatFamily::LLAMA3);
  if (has(t, "'Assistant: ' + message['content'] + eos_token")) return ChatTemplate(ChatFamily::DEEPSEEK2);
  if (has(t, "<｜Assistant｜>") && has(t, "<｜User｜>")) return ChatTemplate(ChatFamily::DEEPSEEK3);
  if (has(t, "[INST]")) return ChatTemplate(has(t, "<<SYS>>") ? ChatFamily::LLAMA2 : ChatFamily::MISTRAL);
  return make_error(ErrorCode::INVALID_INPUT,
                    "the model's chat template is not one we recognise; choose one with --chat-template NAME (" +
                        known_chat_templates() + ")");
}

Result<ChatTemplate> ChatTemplate::for_vocab(const Vocab& vocab, std::string_view override_name) {
  MOERAG_ASSIGN_OR_RETURN(ChatTemplate t,
                          override_name.empty() ? detect(vocab.chat_template) : from_name(override_name));
  auto text_of = [&](int32_t id, const std::string& fallback) {
    return id >= 0 && static_cast<size_t>(id) < vocab.tokens.size() ? vocab.tokens[id].text : fallback;
  };
  // ChatML never writes bos_token; keep its empty default even when the vocabulary has a BOS.
  t.set_special_texts(t.family_ == ChatFamily::CHATML ? std::string() : text_of(vocab.bos_id, t.bos_),
                      text_of(vocab.eos_id, t.eos_));
  return t;
}

Result<std::string> ChatTemplate::render(const std::vector<ChatMessage>& messages, bool gen) const {
  MOERAG_TRY(check_roles(messages));
  switch (family_) {
    case ChatFamily::CHATML: return render_chatml(messages, gen);
    case ChatFamily::LLAMA2: return render_llama2(messages, bos_, eos_);
    case ChatFamily::MISTRAL: return render_mistral(messages, bos_, eos_);
    case ChatFamily::LLAMA3: return render_llama3(messages, gen, bos_);
    case ChatFamily::DEEPSEEK2: return render_deepseek2(messages, gen, bos_, eos_);
    case ChatFamily::DEEPSEEK3: return render_deepseek3(messages, gen, bos_);
  }
  return make_error(ErrorCode::INTERNAL, "chat template: unhandled family");
}

}  // namespace moerag::engine
