// Ten multi-turn dialogues (English and Chinese) against the real retriever: at
// every turn, follow-ups included ("and how long does it last?"), the top citation
// must be the passage that answers it. The corpus has look-alike documents per
// topic, so a follow-up only finds the right one by carrying the previous topic.
#include <gtest/gtest.h>

#include "apps/chat/chat.h"
#include "tests/support/test_support.h"

namespace moerag::chat {
namespace {

struct Doc {
  const char* id;
  const char* text;
};

const Doc kDocs[] = {
    {"measles-doses", "The measles vaccine (MMR) is given as two doses: the first at 12 months and the second at 4 to 6 years of age."},
    {"measles-duration", "Protection from the measles vaccine lasts for life in almost everyone, so no booster is required."},
    {"measles-side-effects", "Side effects of the measles vaccine are usually mild: a sore arm, fever or a mild rash a week after the shot."},
    {"flu-doses", "The flu vaccine is a single shot given every autumn, because the flu viruses change from year to year."},
    {"flu-duration", "Protection from the flu vaccine lasts about six months, so it wanes by the end of the flu season."},
    {"flu-side-effects", "Side effects of the flu vaccine include soreness where the shot was given, headache and tiredness for a day or two."},
    {"passport-cost", "Renewing an adult passport costs 130 dollars; a passport card costs 30 dollars more."},
    {"passport-time", "Routine passport renewal takes six to eight weeks; expedited service takes two to three weeks for an extra fee."},
    {"refund-window", "You can return an item for a refund within 30 days of delivery, in its original packaging."},
    {"refund-time", "Refunds are paid back to the original payment card within 5 business days after the returned item arrives."},
    {"refund-exceptions", "Gift cards, downloadable software and opened hygiene products cannot be returned for a refund."},
    {"moerag-install", "To install moerag on Debian, clone the repository and run make run; it installs the missing packages and builds."},
    {"moerag-port", "moerag listens on port 8080 by default; start it with --port 9000 to use another port."},
    {"moerag-auth", "To require API keys in moerag, set auth.enabled to true and create a key with moerag keys create."},
    {"hepb-doses", "乙肝疫苗一共需要接种三针，分别在第0个月、第1个月和第6个月接种。"},
    {"hepb-duration", "乙肝疫苗全程接种后，保护期一般可以持续二十年以上，大多数人不需要加强针。"},
    {"hpv-doses", "HPV疫苗在九到十四岁接种只需要两针，十五岁以后接种需要三针。"},
    {"hpv-duration", "HPV疫苗的保护期目前观察到至少十年以上，抗体水平保持稳定。"},
    {"card-fee", "这张信用卡首年免年费，之后每年刷卡满六次即可免除次年年费。"},
    {"card-lost", "信用卡丢失后请立即拨打客服电话办理挂失，挂失后被盗刷的损失由银行承担。"},
    {"train-refund", "火车票在开车前八天以上退票不收手续费，开车前二十四小时内退票收取百分之二十的手续费。"},
    {"train-change", "火车票可以在开车前免费改签一次，改签后的车票不能再次改签。"},
};

struct Step {
  const char* message;
  const char* expected;  // document id of the top citation
};

const std::vector<std::vector<Step>> kDialogues = {
    {{"How many doses of the measles vaccine are needed?", "measles-doses"},
     {"and how long does it last?", "measles-duration"},
     {"Are there any side effects?", "measles-side-effects"}},
    {{"When is the flu vaccine given?", "flu-doses"},
     {"How long does it last?", "flu-duration"},
     {"what about side effects?", "flu-side-effects"}},
    {{"How much does it cost to renew my passport?", "passport-cost"},
     {"And how long does it take?", "passport-time"}},
    {{"Can I return an item for a refund?", "refund-window"},
     {"How long until I get the money back?", "refund-time"},
     {"Are there things I can't return?", "refund-exceptions"}},
    {{"How do I install moerag?", "moerag-install"},
     {"Which port does it listen on?", "moerag-port"},
     {"How do I turn on API keys for it?", "moerag-auth"}},
    {{"What are the side effects of the flu vaccine?", "flu-side-effects"},
     {"And of the measles vaccine?", "measles-side-effects"}},
    {{"乙肝疫苗需要打几针？", "hepb-doses"}, {"它的保护期有多久？", "hepb-duration"}},
    {{"HPV疫苗要接种几针？", "hpv-doses"}, {"保护期呢？", "hpv-duration"}},
    {{"信用卡的年费怎么收？", "card-fee"}, {"如果丢了怎么办？", "card-lost"}},
    {{"火车票退票收手续费吗？", "train-refund"}, {"那改签呢？", "train-change"}},
};

// A chat service (no model, no filter) over a fresh knowledge base "kb" holding `docs`.
template <size_t N>
void chat_over(const testing::TempDir& dir, const Doc (&docs)[N], std::unique_ptr<ChatService>* out) {
  auto db = sql::Database::open(dir.file("moerag.db"));
  ASSERT_TRUE(db.ok());
  retrieval::RetrievalOptions ro;
  ro.index_dir = dir.file("indexes");
  auto rt = retrieval::Retriever::create(*db, ro);
  ASSERT_TRUE(rt.ok()) << rt.error().message;
  std::shared_ptr<retrieval::Retriever> retriever = std::move(*rt);
  retrieval::KnowledgeBase spec;
  spec.name = "kb";
  ASSERT_TRUE(retriever->create_kb(spec).ok());
  std::vector<retrieval::DocumentInput> in;
  for (const auto& d : docs) {
    retrieval::DocumentInput x;
    x.id = d.id;
    x.source = std::string(d.id) + ".txt";
    x.content = d.text;
    in.push_back(x);
  }
  auto rep = retriever->ingest("kb", in);
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  ASSERT_EQ(rep->n_added, static_cast<int>(N));
  auto svc = ChatService::create(*db, ChatOptions{}, [retriever](const retrieval::SearchRequest& r) { return retriever->search(r); },
                                 nullptr);
  ASSERT_TRUE(svc.ok());
  *out = std::move(*svc);
}

TEST(Conversation, EveryTurnRetrievesTheRightPassage) {
  testing::TempDir dir;
  std::unique_ptr<ChatService> svc;
  ASSERT_NO_FATAL_FAILURE(chat_over(dir, kDocs, &svc));

  int n_turns = 0, n_right = 0;
  for (size_t d = 0; d < kDialogues.size(); ++d) {
    std::string session;
    for (const auto& step : kDialogues[d]) {
      auto r = svc->ask({"kb", session, step.message, "tester", {}});
      ASSERT_TRUE(r.ok()) << r.error().message;
      session = r->session_id;
      ++n_turns;
      std::string got = r->citations.empty() ? "(none)" : r->citations[0].document_id;
      EXPECT_EQ(got, step.expected) << "dialogue " << d + 1 << ", \"" << step.message << "\" searched as \"" << r->query
                                    << "\"";
      n_right += got == step.expected;
    }
  }
  std::printf("conversation: %d of %d turns cited the right passage first\n", n_right, n_turns);
}

// Questions worded with another member of a word family than their passage
// (infected / infections, vaccinated / vaccination, recommend / recommendation):
// the stemmer has to bring them together, since a look-alike passage shares the
// question's other words and is shorter.
TEST(Conversation, QuestionsFindPassagesWordedWithAnotherFormOfTheirWords) {
  const Doc docs[] = {
      {"wound-infection", "Wound infections are treated with antibiotics."},
      {"wound-dressing", "Change a wound dressing daily."},
      {"child-vaccination", "Vaccination of children protects classmates."},
      {"child-meals", "Children eat lunch at noon."},
      {"mask-recommendation", "Our recommendation: masks on buses."},
      {"mask-washing", "Wash cloth masks after use."},
  };
  const Step steps[] = {{"What if my wound gets infected?", "wound-infection"},
                        {"Should my children be vaccinated?", "child-vaccination"},
                        {"Do you recommend masks?", "mask-recommendation"}};
  testing::TempDir dir;
  std::unique_ptr<ChatService> svc;
  ASSERT_NO_FATAL_FAILURE(chat_over(dir, docs, &svc));
  for (const auto& step : steps) {
    auto r = svc->ask({"kb", "", step.message, "tester", {}});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->citations.empty() ? "(none)" : r->citations[0].document_id, step.expected) << step.message;
  }
}

}  // namespace
}  // namespace moerag::chat
