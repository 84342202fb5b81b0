// Chat templates: detection from the models' published Jinja strings, selection by
// name, and the exact prompt text each family renders.
#include <gtest/gtest.h>

#include "engine/chat_template.h"
#include "engine/vocab.h"

namespace moerag::engine {
namespace {

const std::vector<ChatMessage> kConversation = {
    {"system", "You are terse."},
    {"user", "Hi"},
    {"assistant", "Hello."},
    {"user", "2+2?"},
};

std::string render(const char* name, bool gen = true, const std::vector<ChatMessage>& msgs = kConversation) {
  auto t = ChatTemplate::from_name(name);
  EXPECT_TRUE(t.ok());
  auto r = t->render(msgs, gen);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : std::string();
}

TEST(ChatTemplate, ChatML) {
  EXPECT_EQ(render("chatml"),
            "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(render("chatml", false, {{"user", "Hi"}}), "<|im_start|>user\nHi<|im_end|>\n");
}

TEST(ChatTemplate, Llama2) {
  EXPECT_EQ(render("llama2"),
            "<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi [/INST] Hello. </s><s>[INST] 2+2? [/INST]");
  EXPECT_EQ(render("llama2", true, {{"user", " Hi "}}), "<s>[INST] Hi [/INST]");
}

TEST(ChatTemplate, Mistral) {
  EXPECT_EQ(render("mistral"), "<s>[INST] You are terse.\n\nHi [/INST]Hello.</s>[INST] 2+2? [/INST]");
}

TEST(ChatTemplate, Llama3) {
  EXPECT_EQ(render("llama3"),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplate, DeepSeekV2) {
  EXPECT_EQ(render("deepseek2"),
            "<｜begin▁of▁sentence｜>You are terse.\n\nUser: Hi\n\nAssistant: Hello.<｜end▁of▁sentence｜>"
            "User: 2+2?\n\nAssistant:");
  EXPECT_EQ(render("deepseek2", false, {{"user", "Hi"}}), "<｜begin▁of▁sentence｜>User: Hi\n\n");
}

TEST(ChatTemplate, DeepSeekV3) {
  EXPECT_EQ(render("deepseek3"),
            "<｜begin▁of▁sentence｜>You are terse.<｜User｜>Hi<｜Assistant｜>Hello.<｜end▁of▁sentence｜>"
            "<｜User｜>2+2?<｜Assistant｜>");
}

TEST(ChatTemplate, DetectsFamiliesFromTheirJinja) {
  struct Case {
    const char* jinja;
    const char* family;
  };
  const Case cases[] = {
      {"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
       "'<|im_end|>' + '\\n'}}{% endfor %}",
       "chatml"},
      {"{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ "
       "message['content'] | trim + '<|eot_id|>' %}",
       "llama3"},
      {"{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ 'User: ' + "
       "message['content'] + '\\n\\n' }}{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' + "
       "message['content'] + eos_token }}{% endif %}{% endfor %}",
       "deepseek2"},
      {"{{bos_token}}{{ns.system_prompt}}{{'<｜User｜>' + message['content']}}{{'<｜Assistant｜>' + "
       "message['content'] + '<｜end▁of▁sentence｜>'}}",
       "deepseek3"},
      {"{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message "
       "+ '\\n<</SYS>>\\n\\n' + message['content'] %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}",
       "llama2"},
      {"{{ bos_token }}{% for message in messages %}{{ '[INST] ' + message['content'] + ' [/INST]' }}", "mistral"},
  };
  for (const auto& c : cases) {
    auto t = ChatTemplate::detect(c.jinja);
    ASSERT_TRUE(t.ok()) << c.family;
    EXPECT_STREQ(t->name(), c.family);
  }
}

TEST(ChatTemplate, UnknownTemplatesAndNamesListTheKnownOnes) {
  auto none = ChatTemplate::detect("");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("--chat-template"), std::string::npos);
  auto odd = ChatTemplate::detect("{{ '### Human: ' + message['content'] }}");
  ASSERT_FALSE(odd.ok());
  EXPECT_NE(odd.error().message.find("deepseek3"), std::string::npos);
  auto bad = ChatTemplate::from_name("vicuna");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::INVALID_INPUT);
  EXPECT_NE(bad.error().message.find("chatml, llama2"), std::string::npos);
  auto t = ChatTemplate::from_name("chatml");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->render({{"tool", "x"}}, true).ok());
}

TEST(ChatTemplate, ForVocabUsesOverrideAndSpecialTexts) {
  Vocab v;
  v.tokens = {{"<unk>", 0, TokenType::UNKNOWN}, {"<BOS>", 0, TokenType::CONTROL}, {"<EOS>", 0, TokenType::CONTROL}};
  v.bos_id = 1;
  v.eos_id = 2;
  v.chat_template = "{{ '<|im_start|>' }}";
  auto detected = ChatTemplate::for_vocab(v);
  ASSERT_TRUE(detected.ok());
  EXPECT_EQ(detected->family(), ChatFamily::CHATML);
  auto forced = ChatTemplate::for_vocab(v, "deepseek2");
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(*forced->render({{"assistant", "ok"}}, false), "<BOS>Assistant: ok<EOS>");
}

}  // namespace
}  // namespace moerag::engine
