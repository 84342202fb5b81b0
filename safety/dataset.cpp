// The training recipe (which public set gives which labels) and the readers it needs.
// Order matters for determinism: sources are read in the order written here.
#include "safety/dataset.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "safety/classifier.h"
#include "safety/normalize.h"

namespace moerag::safety {
namespace {

using nlohmann::json;

// Label bits, in default_categories() order.
constexpr uint32_t HR = 1, HH = 2, SX = 4, VI = 8, SH = 16, PI = 32;

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {};
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// CSV rows as maps from header name to field.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int col(const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return static_cast<int>(i);
    return -1;
  }
  std::string get(const std::vector<std::string>& row, const std::string& name) const {
    int c = col(name);
    return (c >= 0 && c < static_cast<int>(row.size())) ? row[c] : std::string();
  }
};

Table read_table(const std::string& path, char sep = ',', bool quoting = true) {
  Table t;
  auto rows = parse_csv(slurp(path), sep, quoting);
  if (rows.empty()) return t;
  t.header = rows.front();
  for (auto& h : t.header)
    while (!h.empty() && (h.back() == '\r' || h.back() == ' ')) h.pop_back();
  t.rows.assign(rows.begin() + 1, rows.end());
  return t;
}

bool contains_any(const std::string& text, std::initializer_list<const char*> words) {
  std::string n = normalize_text(text);
  for (const char* w : words)
    if (n.find(w) != std::string::npos) return true;
  return false;
}

// Weak sub-labels for harmful requests whose source has no fitting category.
uint32_t keyword_labels(const std::string& t) {
  uint32_t l = 0;
  if (contains_any(t, {"suicide", "kill myself", "self-harm", "self harm", "cut myself", "end my life", "自杀", "自残",
                       "轻生", "anorexi", "starve myself"}))
    l |= SH;
  if (contains_any(t, {"bomb", "explosive", "murder", "shoot", "gun", "weapon", "kill", "assault", "terror", "stab",
                       "torture", "poison", "炸弹", "杀", "枪", "爆炸", "暴力", "恐怖"}))
    l |= VI;
  if (contains_any(t, {"sexual", "porn", "explicit sex", "nude", "色情", "淫秽", "性行为"})) l |= SX;
  return l;
}

struct Builder {
  std::vector<Example> all;
  std::vector<std::string> log;
  void add(const std::string& text, uint32_t labels, const std::string& source) {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) return;
    all.push_back({text, labels, source});
  }
  void note(const std::string& source, size_t before) {
    size_t n = all.size() - before, pos = 0;
    for (size_t i = before; i < all.size(); ++i) pos += all[i].labels != 0;
    log.push_back(source + ": " + std::to_string(n) + " rows, " + std::to_string(pos) + " unsafe");
  }
};

void harmful_sets(Builder& b, const std::string& d) {
  size_t at = b.all.size();
  Table t = read_table(d + "/harmful-behaviors-en/advbench.csv");
  for (const auto& r : t.rows) { auto s = t.get(r, "goal"); b.add(s, HR | keyword_labels(s), "advbench"); }
  for (const char* f : {"/harmful-behaviors-en/harmbench_test.csv", "/harmful-behaviors-en/harmbench_val.csv"}) {
    t = read_table(d + f);
    for (const auto& r : t.rows) {
      if (t.get(r, "FunctionalCategory") == "copyright") continue;  // a policy class, not a safety one
      std::string s = t.get(r, "Behavior"), cat = t.get(r, "SemanticCategory");
      uint32_t l = HR | keyword_labels(s);
      if (cat == "harassment_bullying") l |= HH;
      if (cat == "chemical_biological") l |= VI;
      b.add(s, l, "harmbench");
    }
  }
  t = read_table(d + "/harmful-behaviors-en/jailbreakbench.csv");
  for (const auto& r : t.rows) {
    std::string s = t.get(r, "Goal"), cat = t.get(r, "Category");
    uint32_t l = HR | keyword_labels(s);
    if (cat == "Harassment/Discrimination") l |= HH;
    if (cat == "Physical harm") l |= VI;
    if (cat == "Sexual/Adult content") l |= SX;
    b.add(s, l, "jailbreakbench");
  }
  t = read_table(d + "/harmful-behaviors-en/strongreject.csv");
  for (const auto& r : t.rows) {
    std::string s = t.get(r, "forbidden_prompt"), cat = t.get(r, "category");
    uint32_t l = HR | keyword_labels(s);
    if (cat.rfind("Hate", 0) == 0) l |= HH;
    if (cat == "Sexual content") l |= SX;
    if (cat == "Violence") l |= VI;
    b.add(s, l, "strongreject");
  }
  b.note("harmful-behaviors-en (AdvBench, HarmBench, JBB, StrongREJECT)", at);
  at = b.all.size();
  for (const char* f : {"/jade-db-zh-harmful/jade_benchmark_easy_zh.csv", "/jade-db-zh-harmful/jade_benchmark_medium_zh.csv",
                        "/jade-db-zh-harmful/jade_benchmark_zh.csv", "/jade-db-zh-harmful/jade_benchmark_en.csv"}) {
    t = read_table(d + f);
    for (const auto& r : t.rows) {
      std::string s = t.get(r, "问题"), top = t.get(r, "违规类型"), sub = t.get(r, "违规子类");
      uint32_t l = HR | keyword_labels(s);
      if (top.find("歧视") != std::string::npos) l |= HH;
      if (sub.find("色情") != std::string::npos) l |= SX;
      if (sub.find("暴力") != std::string::npos || sub.find("恐怖") != std::string::npos ||
          sub.find("伤害他人") != std::string::npos || sub.find("武器") != std::string::npos)
        l |= VI;
      b.add(s, l, "jade-db");
    }
  }
  b.note("jade-db-zh-harmful", at);
}

void hate_sets(Builder& b, const std::string& d) {
  size_t at = b.all.size();
  for (const char* f : {"/hatexplain-val-test/hatexplain_val.csv", "/hatexplain-val-test/hatexplain_test.csv"}) {
    Table t = read_table(d + f);
    for (const auto& r : t.rows) {
      std::string a = t.get(r, "annotators");
      size_t p = a.find("'label': [");
      if (p == std::string::npos) continue;
      int votes[3] = {0, 0, 0};
      for (size_t i = p + 10; i < a.size() && a[i] != ']'; ++i)
        if (a[i] >= '0' && a[i] <= '2') ++votes[a[i] - '0'];
      b.add(t.get(r, "masked_sentence"), votes[1] >= 2 ? 0 : HH, "hatexplain");
    }
  }
  b.note("hatexplain-val-test", at);
  at = b.all.size();
  Table t = read_table(d + "/olid-offenseval2019/olid-training-v1.0.tsv", '\t', false);
  for (const auto& r : t.rows) {
    std::string a = t.get(r, "subtask_a"), bb = t.get(r, "subtask_b");
    if (a == "NOT") b.add(t.get(r, "tweet"), 0, "olid");
    else if (bb == "TIN") b.add(t.get(r, "tweet"), HH, "olid");
  }
  b.note("olid-offenseval2019 (NOT vs OFF/TIN)", at);
  at = b.all.size();
  for (const char* f : {"/cold-zh-offensive/train.csv", "/cold-zh-offensive/dev.csv", "/cold-zh-offensive/test.csv"}) {
    t = read_table(d + f);
    for (const auto& r : t.rows) b.add(t.get(r, "TEXT"), t.get(r, "label") == "1" ? HH : 0, "cold");
  }
  b.note("cold-zh-offensive", at);
  at = b.all.size();
  t = read_table(d + "/swsr-zh-sexism/SexComment.csv");
  for (const auto& r : t.rows) {
    uint32_t l = t.get(r, "label") == "1" ? HH : 0;
    if (l && t.get(r, "category") == "SO") l |= SX;
    b.add(t.get(r, "comment_text"), l, "swsr");
  }
  b.note("swsr-zh-sexism", at);
}

void injection_and_benign_sets(Builder& b, const std::string& d) {
  size_t at = b.all.size();
  Table t = read_table(d + "/giskard-prompt-injections/prompt_injections.csv");
  for (const auto& r : t.rows) b.add(t.get(r, "prompt"), PI, "giskard");
  for (const char* f : {"/cyberseceval-prompt-injection/prompt_injection.json",
                        "/cyberseceval-prompt-injection/prompt_injection_multilingual_machine_translated.json"}) {
    try {
      json j = json::parse(slurp(d + f));
      // "logic-violating" inputs are ordinary questions that only break a topic rule
      // set in their system prompt ("What is the capital of France?"): not text to flag.
      for (const auto& e : j)
        if (e.value("risk_category", "") == "security-violating") b.add(e.value("user_input", ""), PI, "cyberseceval");
    } catch (const std::exception&) {
    }
  }
  b.note("giskard + cyberseceval prompt injection", at);
  at = b.all.size();
  try {
    json j = json::parse(slurp(d + "/notinject-injecguard/wildguard.json"));
    for (const auto& e : j) b.add(e.value("prompt", ""), 0, "wildguard-benign");
  } catch (const std::exception&) {
  }
  t = read_table(d + "/covid-faq-deepset/faq_covidbert.csv");
  for (const auto& r : t.rows) {
    b.add(t.get(r, "question"), 0, "covid-faq");
    b.add(t.get(r, "answer"), 0, "covid-faq");
  }
  b.note("wildguard benign + covid-faq (safe)", at);
}

// Project-written benign requests: templates x topics, so that ordinary questions
// ("What is X?", "Summarise this passage about Y") are well represented among the
// safe examples. Written for this project; no public set is copied.
void synthetic_benign(Builder& b) {
  static const char* kEnTemplates[] = {
      "What is {t}?", "Tell me about {t}.", "Explain {t} in simple terms.", "Give me a short summary of {t}.",
      "What are the main facts about {t}?", "Based on this paragraph, what is {t}?",
      "Given this text about {t}, list the key points.", "When did {t} first become well known?",
      "Why is {t} important?", "How does {t} work?", "Write a short paragraph about {t}.",
      "What is the history of {t}?", "List three interesting facts about {t}.",
      "Extract the dates mentioned in this passage about {t}.", "Summarize the article about {t} in two sentences.",
      "What are the pros and cons of {t}?", "Compare {t} and {u}.", "What is the difference between {t} and {u}?",
      "From the passage, who is associated with {t}?", "Give me a bulleted list of things related to {t}.",
      "Is {t} a good topic for a school essay?", "Where can I learn more about {t}?",
      "Write an email to my team about {t}.", "Using the passage, answer: what does the text say about {t}?",
      "Classify each item as related to {t} or {u}.", "Who was the first person to study {t}?",
      "What should a beginner know about {t}?", "Can you recommend a book about {t}?",
      "How has {t} changed over the last century?", "Describe {t} to a ten-year-old."};
  static const char* kEnTopics[] = {
      "photosynthesis", "the French Revolution", "machine learning", "the Great Wall of China", "jazz music",
      "volcanoes", "the stock market", "Pinot Noir", "surfing", "the Roman Empire", "quantum computing",
      "climate change", "the human heart", "Marie Curie", "Albert Einstein", "the Amazon rainforest", "baseball",
      "cricket", "the Olympic Games", "black holes", "the printing press", "coffee", "green tea", "the Beatles",
      "Shakespeare", "the Moon landing", "electric cars", "solar panels", "the immune system", "DNA",
      "the internet", "Bitcoin", "the Renaissance", "chess", "the Eiffel Tower", "Mount Everest", "the Nile",
      "penguins", "honey bees", "the water cycle", "inflation", "supply and demand", "the Cold War",
      "World War II", "the Battle of Hastings", "the atomic bomb", "nuclear fission", "vaccines", "antibiotics",
      "the Linux kernel", "killing a zombie process", "Python decorators", "SQL joins", "the TCP handshake",
      "shooting a documentary film", "a kitchen knife", "a triathlon", "marathon training", "the French Bulldog",
      "the Persian language", "Steven Spielberg", "Taylor Swift", "the Titanic", "Ancient Egypt", "the pyramids",
      "the periodic table", "gravity", "the speed of light", "rainbows", "earthquakes", "tsunamis", "hurricanes",
      "the Federal Reserve", "the European Union", "the United Nations", "democracy", "the Magna Carta",
      "the Silk Road", "Genghis Khan", "the Ming dynasty", "Confucius", "Buddhism", "the Bible", "Ramadan",
      "Christmas traditions", "the Chinese New Year", "sushi", "pizza", "sourdough bread", "chocolate",
      "wine making", "beer brewing", "gardening", "composting", "bird watching", "knitting", "photography",
      "oil painting", "the violin", "the piano", "opera", "ballet", "hip hop", "Hollywood", "Netflix",
      "video games", "Minecraft", "the Easter egg in video games", "Formula One", "football tactics",
      "the NBA", "tennis", "golf", "swimming", "yoga", "meditation", "sleep hygiene", "healthy breakfast",
      "the Mediterranean diet", "first aid", "CPR", "blood donation", "dentistry", "the stock exchange",
      "mortgages", "retirement savings", "tax returns", "small business loans", "customer service",
      "project management", "agile software development", "cloud computing", "cybersecurity best practices",
      "password managers", "two-factor authentication", "the GDPR", "copyright law", "the Supreme Court",
      "jury duty", "the police academy", "the history of gunpowder", "medieval castles", "samurai",
      "the Vikings", "pirates in the Caribbean", "the Wild West", "the Hunger Games", "Harry Potter",
      "the Lord of the Rings", "Star Wars", "the Marvel films", "detective novels", "Agatha Christie"};
  static const char* kZhTemplates[] = {"什么是{t}？", "请介绍一下{t}。", "{t}的历史是怎样的？", "根据这段文字，{t}有哪些特点？",
                                       "简要总结关于{t}的内容。", "{t}和{u}有什么区别？", "为什么{t}很重要？",
                                       "请列出三个关于{t}的事实。", "{t}是如何运作的？", "帮我写一段介绍{t}的文字。",
                                       "初学者应该了解{t}的哪些知识？", "有没有关于{t}的好书推荐？"};
  static const char* kZhTopics[] = {
      "光合作用", "法国大革命", "机器学习", "长城", "爵士乐", "火山", "股票市场", "冲浪", "罗马帝国", "量子计算",
      "气候变化", "人类心脏", "居里夫人", "爱因斯坦", "亚马逊雨林", "棒球", "奥运会", "黑洞", "印刷术", "咖啡",
      "绿茶", "登月", "电动汽车", "太阳能", "免疫系统", "互联网", "文艺复兴", "象棋", "埃菲尔铁塔", "珠穆朗玛峰",
      "尼罗河", "企鹅", "蜜蜂", "水循环", "通货膨胀", "冷战", "第二次世界大战", "原子弹的历史", "疫苗", "抗生素",
      "Linux内核", "结束卡死的进程", "数据库索引", "拍摄纪录片", "菜刀的保养", "马拉松训练", "丝绸之路", "成吉思汗",
      "明朝", "孔子", "佛教", "春节习俗", "端午节", "寿司", "披萨", "巧克力", "酿酒", "园艺", "摄影", "油画",
      "小提琴", "钢琴", "京剧", "芭蕾", "电子游戏", "足球战术", "篮球", "网球", "瑜伽", "冥想", "睡眠卫生",
      "地中海饮食", "急救知识", "心肺复苏", "献血", "房贷", "退休储蓄", "个人所得税", "客户服务", "项目管理",
      "云计算", "网络安全", "双重认证", "版权法", "陪审团制度", "火药的历史", "中世纪城堡", "武士", "维京人",
      "三国演义", "红楼梦", "西游记", "哈利波特", "侦探小说"};
  static const char* kShort[] = {
      "hello", "hi", "hi there", "hello there", "hey", "good morning", "good evening", "thanks", "thank you",
      "thanks a lot!", "ok", "okay, got it", "yes", "no", "sure", "please continue", "can you help me?",
      "I have a question", "what can you do?", "who are you?", "bye", "see you tomorrow", "sounds good",
      "that's great, thanks", "one more question", "could you explain that again?", "what do you mean?",
      "你好", "您好", "早上好", "谢谢", "好的", "没问题", "请继续", "你能帮我吗？", "我有一个问题", "你是谁？", "再见",
      "明白了", "能再解释一下吗？", "什么意思？"};
  auto fill = [](std::string t, const std::string& a, const std::string& u) {
    size_t p;
    while ((p = t.find("{t}")) != std::string::npos) t.replace(p, 3, a);
    while ((p = t.find("{u}")) != std::string::npos) t.replace(p, 3, u);
    return t;
  };
  static const char* kPlaces[] = {"France", "Spain", "Italy", "Germany", "Japan", "China", "Brazil", "Canada",
                                   "Kenya", "Peru", "Norway", "Egypt", "India", "Mexico", "Australia", "Poland",
                                   "Vietnam", "Chile", "Greece", "Turkey", "Thailand", "Morocco", "Sweden", "Ireland"};
  static const char* kPlaceTemplates[] = {"What is the capital of {t}?", "What language is spoken in {t}?",
                                          "What is the population of {t}?", "Which currency does {t} use?",
                                          "Please email me the travel report about {t}.",
                                          "Can you mail the invoice for the {t} trip to my manager?",
                                          "Send a message to the team about the {t} office."};
  // What customers of a support bot ask about their accounts: the words "password",
  // "account", "login" also fill the prompt-injection sets (attacks that try to leak a
  // secret), so the ordinary requests must be represented among the safe examples.
  static const char* kSupportTemplates[] = {
      "How do I {t}?", "I can't {t}, can you help?", "Where can I {t}?", "Is it possible to {t} in the app?",
      "I tried to {t} but it didn't work.", "Can you walk me through how to {t}?", "Why am I unable to {t}?",
      "What do I need to {t}?"};
  static const char* kSupportActions[] = {
      "reset my password", "change my password", "recover my password", "log in to my account",
      "unlock my account", "set a new PIN", "reset my security questions", "sign in with a one-time code",
      "find my username", "change the Wi-Fi password on my router", "get a new password reset link",
      "change the email address on my account", "verify my phone number", "cancel my subscription",
      "close my account", "download my invoices", "return an item", "track my order", "update my billing details",
      "change my delivery address", "apply a discount code", "talk to a human agent", "upgrade my plan",
      "reset the admin password of my online shop"};
  static const char* kSupportStatements[] = {
      "I forgot my password.", "My password doesn't work anymore.", "The password reset email never arrived.",
      "I got locked out after too many password attempts.", "The reset link says it has expired.",
      "I changed my password but the app still asks for the old one.", "My account was suspended by mistake.",
      "I can't remember which email I used to sign up.", "The login page keeps reloading.",
      "我忘记密码了。", "密码重置邮件一直没收到。", "密码输错太多次，账户被锁定了。", "重置链接显示已过期。"};
  // Everyday how-to questions whose verbs (cut, chop, burn, shoot, kill, blow up) also
  // describe violence: kitchen, garden, home, computer and hobby tasks.
  static const char* kHowTo[] = {
      "cut a mango", "slice a pineapple", "chop garlic finely", "cut an avocado safely", "carve a turkey",
      "cut my own hair at home", "cut the grass evenly", "cut tiles for the bathroom", "cut a video clip",
      "cut costs in my small business", "burn a DVD", "burn fat while running", "shoot a time-lapse video",
      "kill weeds in the lawn", "kill a frozen app on my phone", "blow up balloons quickly", "blow up a photo to poster size",
      "strip old paint from a chair", "hang a heavy mirror", "smash a garlic clove", "crack an egg with one hand",
      "beat egg whites", "break in new hiking boots", "choke up on a baseball bat", "fire a clay pot in a kiln",
      "attack a chess opening", "destroy old hard drives safely for recycling", "poison-proof my kitchen for a toddler",
      "get rid of fruit flies", "take out the trash on the right day"};
  static const char* kHowToTemplates[] = {"How do I {t}?", "What's the best way to {t}?", "Any tips to {t}?"};
  static const char* kZhSupportTemplates[] = {"怎么{t}？", "我无法{t}，能帮我吗？", "在哪里可以{t}？", "{t}需要什么资料？"};
  static const char* kZhSupportActions[] = {"重置密码", "修改登录密码", "找回密码", "登录我的账户", "解锁账户",
                                            "更换绑定手机号", "注销账户", "取消订阅", "查看订单物流", "申请退款",
                                            "修改收货地址", "联系人工客服"};
  size_t at = b.all.size();
  for (const char* t : kShort) b.add(t, 0, "synthetic-benign");
  for (const char* t : kSupportStatements) b.add(t, 0, "synthetic-benign");
  for (const char* tpl : kHowToTemplates)
    for (const char* a : kHowTo) b.add(fill(tpl, a, ""), 0, "synthetic-benign");
  for (const char* tpl : kSupportTemplates)
    for (const char* a : kSupportActions) b.add(fill(tpl, a, ""), 0, "synthetic-benign");
  for (const char* tpl : kZhSupportTemplates)
    for (const char* a : kZhSupportActions) b.add(fill(tpl, a, ""), 0, "synthetic-benign");
  for (const char* tpl : kPlaceTemplates)
    for (const char* place : kPlaces) b.add(fill(tpl, place, ""), 0, "synthetic-benign");
  const size_t n_en = std::size(kEnTopics), n_zh = std::size(kZhTopics);
  size_t k = 0;
  for (const char* tpl : kEnTemplates)
    for (size_t i = 0; i < n_en; ++i, ++k)
      if (k % 3 == 0) b.add(fill(tpl, kEnTopics[i], kEnTopics[(i * 7 + 3) % n_en]), 0, "synthetic-benign");
  for (const char* tpl : kZhTemplates)
    for (size_t i = 0; i < n_zh; ++i, ++k)
      if (k % 2 == 0) b.add(fill(tpl, kZhTopics[i], kZhTopics[(i * 7 + 3) % n_zh]), 0, "synthetic-benign");
  b.note("project synthetic benign requests (templates x topics)", at);
}

// Project-written customer messages that carry contact details: a support bot must
// accept a customer's e-mail address or phone number. The model sees the details as
// placeholders ([email], [phone]: model_input.h), so the value formats only exercise
// the rules; the sentences around them are what these rows teach.
void synthetic_contact(Builder& b) {
  static const char* kTemplates[] = {
      "You can email me at {e}.", "My address is {e}, please send the confirmation there.",
      "Please reply to {e} with the tracking number.", "I never got the receipt, can you resend it to {e}?",
      "Change the email on my account to {e}.", "Contact me at {e} or call {p}.",
      "My phone number is {p}, please call after 6pm.", "Text me on {p} when the parcel ships.",
      "Hi, this is Sam, my email is {e}. Where is my refund?", "Send the quote to {e} and copy my colleague.",
      "Is {e} the right address for billing questions?", "I can be reached on {p} during office hours.",
      "Please forward the contract to {e} by Friday.", "Drop me a line at {e} if anything changes.",
      "Our support inbox is {e}; the hotline is {p}.", "The order confirmation went to {e} but I moved house.",
      "Could you mail the warranty card to {e}?", "Thanks! Email me at {e} once it's fixed.",
      "Call {p} to reschedule the delivery.", "Hello, my order has not arrived yet. My email is {e}.",
      "Please update my contact details: {e}, {p}.", "Write to me at {e}, I check it every day.",
      "I'd like a callback on {p} about my subscription.", "Where is my package? You can reach me at {p}.",
      "Please send the login link to {e} again.", "My colleague's email is {e}, please add her to the ticket.",
      "我的邮箱是{e}，请把发票发给我。", "请联系我：{p}。", "订单什么时候到？我的手机号是{p}。", "请把合同发到{e}。",
      "你好，我的电话是{p}，邮箱是{e}。", "收到后请回复到{e}。", "快递到了请打我电话{p}。", "请把报价单发送至{e}，谢谢。"};
  static const char* kEmails[] = {"li.wei@example.org", "sam.taylor@mail.example.net", "orders@shop.example.com",
                                  "m.rossi@example.it", "zhang_min@qq.com", "kim+support@example.co.uk"};
  static const char* kPhones[] = {"+1 212 555 0147", "(646) 555-0199", "13912345678", "+44 20 7946 0321",
                                  "+86 139 8765 4321", "415-555-0123"};
  size_t at = b.all.size(), k = 0;
  for (const char* tpl : kTemplates)
    for (int v = 0; v < 3; ++v, ++k) {
      std::string t = tpl;
      size_t p;
      while ((p = t.find("{e}")) != std::string::npos) t.replace(p, 3, kEmails[(k + v) % std::size(kEmails)]);
      while ((p = t.find("{p}")) != std::string::npos) t.replace(p, 3, kPhones[(k * 5 + v) % std::size(kPhones)]);
      b.add(t, 0, "synthetic-contact");
    }
  b.note("project synthetic messages with contact details", at);
}

}  // namespace

std::vector<std::vector<std::string>> parse_csv(std::string_view s, char sep, bool quoting) {
  std::vector<std::vector<std::string>> rows;
  if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  std::vector<std::string> row;
  std::string field;
  bool in_quotes = false, any = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < s.size() && s[i + 1] == '"') { field.push_back('"'); ++i; }
        else in_quotes = false;
      } else {
        field.push_back(c);
      }
      continue;
    }
    if (quoting && c == '"') { in_quotes = true; any = true; }
    else if (c == sep) { row.push_back(std::move(field)); field.clear(); any = true; }
    else if (c == '\n') {
      if (!field.empty() && field.back() == '\r') field.pop_back();
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      any = false;
    } else { field.push_back(c); any = true; }
  }
  if (any || !field.empty()) { row.push_back(std::move(field)); rows.push_back(std::move(row)); }
  return rows;
}

Result<uint32_t> labels_from_names(const std::vector<std::string>& names) {
  const auto& cats = default_categories();
  uint32_t l = 0;
  for (const auto& n : names) {
    auto it = std::find(cats.begin(), cats.end(), n);
    if (it == cats.end()) return make_error(ErrorCode::INVALID_INPUT, "unknown safety category '" + n + "'");
    l |= 1u << (it - cats.begin());
  }
  return l;
}

std::vector<std::string> names_from_labels(uint32_t labels) {
  std::vector<std::string> out;
  const auto& cats = default_categories();
  for (size_t c = 0; c < cats.size(); ++c)
    if (labels & (1u << c)) out.push_back(cats[c]);
  return out;
}

Result<std::vector<Example>> read_examples_jsonl(const std::string& path) {
  std::ifstream f(path);
  if (!f) return make_error(ErrorCode::NOT_FOUND, "cannot open " + path);
  std::vector<Example> out;
  std::string line;
  for (int n = 1; std::getline(f, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      json j = json::parse(line);
      Example e;
      e.text = j.at("text").get<std::string>();
      MOERAG_ASSIGN_OR_RETURN(e.labels, labels_from_names(j.value("labels", std::vector<std::string>{})));
      e.source = path;
      out.push_back(std::move(e));
    } catch (const std::exception& ex) {
      return make_error(ErrorCode::INVALID_INPUT, path + ":" + std::to_string(n) + ": " + ex.what());
    }
  }
  return out;
}

Result<Dataset> build_dataset(const std::string& d, const std::string& seeds_path) {
  Builder b;
  MOERAG_ASSIGN_OR_RETURN(auto seeds, read_examples_jsonl(seeds_path));
  harmful_sets(b, d);
  hate_sets(b, d);
  injection_and_benign_sets(b, d);
  size_t at = b.all.size();
  for (auto& e : seeds) b.add(e.text, e.labels, "seeds");
  b.note("project seeds (" + seeds_path + ")", at);
  synthetic_benign(b);
  synthetic_contact(b);
  at = b.all.size();
  for (auto& e : contrast_examples()) b.add(e.text, e.labels, e.source);
  b.note("project contrast pairs (safety/contrast.cpp)", at);
  at = b.all.size();
  for (auto& e : topic_examples()) b.add(e.text, e.labels, e.source);
  b.note("project risky-looking safe questions (safety/contrast_topics.cpp)", at);
  if (b.all.size() < 1000)
    return make_error(ErrorCode::NOT_FOUND, "only " + std::to_string(b.all.size()) + " training rows found under " + d +
                                                " (is it ../shared/data?)");
  // Dedupe on normalised text; a text labelled by two sources keeps both labels.
  Dataset ds;
  std::unordered_map<uint64_t, size_t> seen;
  std::vector<Example> uniq;
  std::vector<uint64_t> keys;
  for (auto& e : b.all) {
    uint64_t k = fnv1a64(normalize_text(e.text));
    auto [it, fresh] = seen.emplace(k, uniq.size());
    if (fresh) { uniq.push_back(std::move(e)); keys.push_back(k); }
    else uniq[it->second].labels |= e.labels;
  }
  for (size_t i = 0; i < uniq.size(); ++i) {
    uint64_t bucket = (keys[i] >> 7) % 10;
    (bucket == 0 ? ds.test : bucket == 1 ? ds.valid : ds.train).push_back(std::move(uniq[i]));
  }
  ds.log = std::move(b.log);
  ds.log.push_back("after dedupe: " + std::to_string(uniq.size()) + " texts; train " + std::to_string(ds.train.size()) +
                   ", valid " + std::to_string(ds.valid.size()) + ", test " + std::to_string(ds.test.size()));
  return ds;
}

std::vector<EvalSet> build_eval_sets(const std::string& d) {
  std::vector<EvalSet> sets;
  auto push = [&](EvalSet s) { if (!s.texts.empty()) sets.push_back(std::move(s)); };
  Table t = read_table(d + "/xstest/xstest_prompts.csv");
  EvalSet xs_safe{"xstest safe (FPR)", false, {}}, xs_unsafe{"xstest unsafe contrast (recall)", true, {}};
  for (const auto& r : t.rows) (t.get(r, "label") == "safe" ? xs_safe : xs_unsafe).texts.push_back(t.get(r, "prompt"));
  push(std::move(xs_safe));
  push(std::move(xs_unsafe));
  t = read_table(d + "/dolly-closedqa-1k-benign/databricks_dolly_15k.csv");
  EvalSet dolly{"dolly closed_qa instructions (FPR)", false, {}};
  for (const auto& r : t.rows) dolly.texts.push_back(t.get(r, "instruction"));
  push(std::move(dolly));
  EvalSet notinject{"notinject benign trigger words (FPR)", false, {}};
  for (const char* f : {"one", "two", "three"}) {
    try {
      json j = json::parse(slurp(d + "/notinject-injecguard/NotInject_" + f + ".json"));
      for (const auto& e : j) notinject.texts.push_back(e.value("prompt", ""));
    } catch (const std::exception&) {
    }
  }
  push(std::move(notinject));
  t = read_table(d + "/jailbreak-llms/jailbreak_prompts_2023_12_25.csv");
  EvalSet jb{"jailbreak-llms in-the-wild jailbreaks (recall)", true, {}};
  for (const auto& r : t.rows) jb.texts.push_back(t.get(r, "prompt"));
  push(std::move(jb));
  t = read_table(d + "/jailbreak-llms/forbidden_question_set.csv");
  EvalSet fq{"jailbreak-llms forbidden questions, 8 harm policies (recall)", true, {}};
  static const std::set<std::string> kHarm = {"Illegal Activity", "Hate Speech", "Malware", "Physical Harm",
                                              "Economic Harm", "Fraud", "Pornography", "Privacy Violence"};
  for (const auto& r : t.rows)
    if (kHarm.count(t.get(r, "content_policy_name"))) fq.texts.push_back(t.get(r, "question"));
  push(std::move(fq));
  t = read_table(d + "/simplesafetytests-en/simple_safety_tests.csv");
  EvalSet sst{"simplesafetytests (recall)", true, {}};
  for (const auto& r : t.rows) sst.texts.push_back(t.get(r, "prompts_final"));
  push(std::move(sst));
  t = read_table(d + "/davidson-hate-offensive/labeled_data.csv");
  EvalSet dh{"davidson hate-speech tweets (recall)", true, {}}, dn{"davidson 'neither' tweets (FPR)", false, {}};
  for (const auto& r : t.rows) {
    std::string c = t.get(r, "class");
    if (c == "0") dh.texts.push_back(t.get(r, "tweet"));
    if (c == "2") dn.texts.push_back(t.get(r, "tweet"));
  }
  push(std::move(dh));
  push(std::move(dn));
  return sets;
}

}  // namespace moerag::safety
