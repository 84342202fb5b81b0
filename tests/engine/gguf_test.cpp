// GGUF reader and writer: a writer round trip of every metadata type and tensor
// alignment, the typed getters, the real llama.cpp vocab files, and a table of
// hand-made bad files, each rejected with INVALID_INPUT naming the field.
#include <cstring>
#include <filesystem>
#include <functional>

#include <gtest/gtest.h>

#include "engine/gguf.h"
#include "engine/gguf_writer.h"
#include "engine/mapped_file.h"
#include "tests/support/test_support.h"

namespace moerag::engine {
namespace {

// Emits GGUF bytes field by field, so a test can build any (broken) file.
struct Bytes {
  std::vector<uint8_t> b;
  Bytes& raw(const void* p, size_t n) {
    const auto* c = static_cast<const uint8_t*>(p);
    b.insert(b.end(), c, c + n);
    return *this;
  }
  Bytes& u8(uint8_t v) { return raw(&v, 1); }
  Bytes& u32(uint32_t v) { return raw(&v, 4); }
  Bytes& u64(uint64_t v) { return raw(&v, 8); }
  Bytes& str(const std::string& s) { return u64(s.size()).raw(s.data(), s.size()); }
  Bytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return raw("GGUF", 4).u32(version).u64(n_tensors).u64(n_kv);
  }
  Bytes& kv_u32(const std::string& k, uint32_t v) { return str(k).u32(4).u32(v); }
  // One tensor info: ne innermost first.
  Bytes& tensor(const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(ne.size()));
    for (auto v : ne) u64(v);
    return u32(type).u64(offset);
  }
  Bytes& pad_to(size_t align) {
    while (b.size() % align) b.push_back(0);
    return *this;
  }
  Bytes& zeros(size_t n) {
    b.resize(b.size() + n, 0);
    return *this;
  }
};

GgufArray nums(GgufType t, std::vector<uint8_t> raw) {
  GgufArray a;
  a.type = t;
  a.raw = std::move(raw);
  return a;
}

TEST(Gguf, WriterRoundTripsEveryValueType) {
  GgufWriter w(64);
  w.set("t.u8", GgufValue(uint8_t{200}));
  w.set("t.i8", GgufValue(int8_t{-100}));
  w.set("t.u16", GgufValue(uint16_t{60000}));
  w.set("t.i16", GgufValue(int16_t{-30000}));
  w.set_u32("t.u32", 4000000000u);
  w.set_i32("t.i32", -2000000000);
  w.set_f32("t.f32", 0.125f);
  w.set_bool("t.bool", true);
  w.set_str("t.str", std::string("h\xC3\xA9llo\0x", 8));
  w.set_u64("t.u64", 18000000000000000000ull);
  w.set("t.i64", GgufValue(int64_t{-9000000000000000000}));
  w.set("t.f64", GgufValue(2.718281828459045));
  w.set_arr_str("t.arr_str", {"a", "", "\xE4\xB8\xAD"});
  w.set_arr_f32("t.arr_f32", {1.5f, -2.0f});
  w.set_arr_i32("t.arr_i32", {-1, 7});
  w.set("t.arr_u8", GgufValue(nums(GgufType::UINT8, {1, 2, 3})));
  w.set("t.arr_bool", GgufValue(nums(GgufType::BOOL, {1, 0})));
  w.set("t.arr_u64", GgufValue(nums(GgufType::UINT64, std::vector<uint8_t>(16, 0xFF))));
  w.set("t.arr_f64", GgufValue(nums(GgufType::FLOAT64, std::vector<uint8_t>(8, 0))));
  GgufArray nested;
  nested.type = GgufType::ARRAY;
  nested.arrays.push_back(nums(GgufType::INT16, {1, 0, 2, 0}));
  GgufArray inner_str;
  inner_str.type = GgufType::STRING;
  inner_str.strings = {"x", "yz"};
  nested.arrays.push_back(inner_str);
  w.set("t.nested", GgufValue(nested));
  GgufArray empty;
  empty.type = GgufType::INT32;
  w.set("t.empty", GgufValue(empty));
  ASSERT_TRUE(w.add_tensor_f32("a", {3, 5}, std::vector<float>(15, 2.0f)).ok());
  std::vector<uint8_t> q8(2 * 34, 0);
  q8[0] = 0x00;
  q8[1] = 0x3C;  // d = 1
  q8[2] = 9;
  ASSERT_TRUE(w.add_tensor("b.q8", GgmlType::Q8_0, {2, 32}, q8).ok());
  ASSERT_TRUE(w.add_tensor_lazy("c.f16", GgmlType::F16, {7}, [](uint8_t* dst) {
                 for (int i = 0; i < 7; ++i) dst[2 * i + 1] = 0x3C;  // 1.0
                 return ok_status();
               }).ok());
  EXPECT_FALSE(w.add_tensor_f32("a", {1}, {0.0f}).ok());                  // duplicate
  EXPECT_FALSE(w.add_tensor("bad", GgmlType::Q4_0, {31}, {}).ok());       // row not a block multiple
  EXPECT_FALSE(w.add_tensor_f32("short", {4}, {1.0f}).ok());              // wrong byte count

  testing::TempDir dir;
  std::string path = dir.file("rt.gguf");
  ASSERT_TRUE(w.write(path).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.ok()) << f.error().message;
  const GgufFile& g = **f;
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.alignment(), 64u);
  for (const auto& kv : w.metadata()) {
    const GgufValue* v = g.find(kv.key);
    ASSERT_NE(v, nullptr) << kv.key;
    EXPECT_TRUE(*v == kv.value) << kv.key << ": " << value_to_string(*v);
  }
  EXPECT_EQ(g.metadata().size(), w.metadata().size());
  ASSERT_EQ(g.tensors().size(), 3u);
  const GgufTensor* a = g.find_tensor("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(a->row_length(), 5);
  EXPECT_EQ(a->n_rows(), 3);
  EXPECT_EQ(a->n_bytes, 60u);
  float v;
  std::memcpy(&v, a->data + 14 * 4, 4);
  EXPECT_EQ(v, 2.0f);
  const GgufTensor* b = g.find_tensor("b.q8");
  EXPECT_EQ(b->type, GgmlType::Q8_0);
  EXPECT_EQ(b->n_bytes, 68u);
  EXPECT_EQ(b->row_bytes(), 34u);
  EXPECT_EQ(b->data[2], 9);
  const GgufTensor* c = g.find_tensor("c.f16");
  EXPECT_EQ(c->data[13], 0x3C);
  for (const auto& t : g.tensors()) {
    EXPECT_EQ(t.offset % 64, 0u) << t.name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 64, 0u) << t.name;
  }
  auto bytes = w.to_bytes();
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->size(), g.file_size());
}

TEST(Gguf, TypedGetters) {
  GgufWriter w;
  w.set_u64("big", 5);
  w.set_u64("huge", 1ull << 40);
  w.set_i32("neg", -3);
  w.set_f32("f", 0.5f);
  w.set_str("s", "text");
  w.set_arr_i32("ids", {3, 1, 2});
  w.set_arr_str("strs", {"a", "b"});
  auto bytes = w.to_bytes();
  auto f = GgufFile::open_memory(std::move(bytes.value()));
  ASSERT_TRUE(f.ok());
  const GgufFile& g = **f;
  EXPECT_EQ(*g.get_u32("big"), 5u);  // u64 that fits
  EXPECT_EQ(g.get_u32("huge").error().code, ErrorCode::INVALID_INPUT);
  EXPECT_NE(g.get_u32("huge").error().message.find("'huge'"), std::string::npos);
  EXPECT_EQ(*g.get_i64("neg"), -3);
  EXPECT_FALSE(g.get_u32("neg").ok());
  EXPECT_EQ(g.get_u32("absent").error().code, ErrorCode::NOT_FOUND);
  EXPECT_EQ(*g.get_f32("f"), 0.5f);
  EXPECT_EQ(*g.get_f32("big"), 5.0f);  // integers convert to float
  EXPECT_FALSE(g.get_str("f").ok());
  EXPECT_EQ(*g.get_str("s"), "text");
  EXPECT_EQ(*g.get_arr_i32("ids"), (std::vector<int32_t>{3, 1, 2}));
  EXPECT_EQ(*g.get_arr_f32("ids"), (std::vector<float>{3, 1, 2}));
  EXPECT_FALSE(g.get_arr_str("ids").ok());
  EXPECT_EQ(*g.get_arr_str("strs"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(g.find_u32("big"), 5u);
  EXPECT_FALSE(g.find_u32("huge").has_value());
  EXPECT_FALSE(g.find_str("absent").has_value());
  EXPECT_EQ(g.find_arr_i32("ids")->size(), 3u);
  EXPECT_EQ(g.get_arr("ids")->int_at(0), 3);
  EXPECT_EQ(g.architecture(), "");
}

TEST(Gguf, ReadsLlamaCppVocabFiles) {
  std::string dir = testing::shared_data("llama-cpp-vocab");
  if (dir.empty()) GTEST_SKIP() << "shared data absent";
  auto spm = GgufFile::open(dir + "/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(spm.ok()) << spm.error().message;
  EXPECT_EQ((*spm)->architecture(), "llama");
  EXPECT_EQ(*(*spm)->get_str("tokenizer.ggml.model"), "llama");
  auto tokens = (*spm)->get_arr_str("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->size(), 32000u);
  EXPECT_EQ((*tokens)[1], "<s>");
  EXPECT_EQ((*spm)->get_arr_f32("tokenizer.ggml.scores")->size(), 32000u);
  EXPECT_EQ((*(*spm)->get_arr_i32("tokenizer.ggml.token_type"))[3], 6);  // <0x00> is a byte token
  EXPECT_EQ(*(*spm)->get_u32("tokenizer.ggml.bos_token_id"), 1u);
  EXPECT_EQ(*(*spm)->get_bool("tokenizer.ggml.add_bos_token"), true);
  auto gpt2 = GgufFile::open(dir + "/ggml-vocab-gpt-2.gguf");
  ASSERT_TRUE(gpt2.ok());
  EXPECT_EQ((*gpt2)->get_arr_str("tokenizer.ggml.merges")->size(), 50000u);
  EXPECT_TRUE((*gpt2)->tensors().empty());
}

TEST(Gguf, OpenReportsIoErrors) {
  auto missing = GgufFile::open("/nonexistent/x.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::IO);
  testing::TempDir dir;
  auto d = GgufFile::open(dir.path().string());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ErrorCode::IO);
}

// Large files are mapped on a 2 MiB boundary (what a PMD mapping needs) with the same
// bytes as a plain mapping; small ones keep the plain path. Whether the kernel then
// uses 2 MiB entries depends on the machine, so the share is only range-checked.
TEST(MappedFile, LargeFilesAreMappedOnTwoMiBBoundariesWithTheirBytes) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "big.bin").string();
  std::vector<uint8_t> bytes((5u << 20) + 123);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
  {
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
    std::fclose(f);
  }
  MappedFile::Options big;
  big.huge_pages_from = 1u << 20;
  for (int round = 0; round < 2; ++round) {  // the second finds the file cached as the first left it
    auto m = MappedFile::open(path, big);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(reinterpret_cast<uintptr_t>((*m)->data()) % (2u << 20), 0u);
    ASSERT_EQ((*m)->size(), bytes.size());
    EXPECT_EQ(std::memcmp((*m)->data(), bytes.data(), bytes.size()), 0);
    EXPECT_GE((*m)->huge_page_share(), -1.0);
    EXPECT_LE((*m)->huge_page_share(), 1.0);
  }
  MappedFile::Options small;
  small.huge_pages_from = 0;
  auto plain = MappedFile::open(path, small);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->huge_page_share(), -1.0);
  EXPECT_EQ(std::memcmp((*plain)->data(), bytes.data(), bytes.size()), 0);
}

struct BadCase {
  const char* name;
  std::function<Bytes()> build;
  std::vector<const char*> expect;  // substrings of the error message
};

// A valid two-tensor file body after the header, for mutations of the tensor part.
Bytes two_tensors(uint64_t off_a, uint64_t off_b, std::vector<uint64_t> ne_b = {8}, uint32_t type_b = 0) {
  Bytes x;
  x.header(2, 1).kv_u32("general.alignment", 32);
  x.tensor("blk.0.attn_q.weight", {8, 2}, 0, off_a).tensor("b", ne_b, type_b, off_b);
  x.pad_to(32).zeros(128);
  return x;
}

const std::vector<BadCase>& bad_cases() {
  static const std::vector<BadCase> cases = {
      {"empty file", [] { return Bytes{}; }, {"too small"}},
      {"wrong magic", [] { return Bytes{}.raw("GGML", 4).u32(3).u64(0).u64(0); }, {"bad magic", "'GGML'"}},
      {"version 1", [] { return Bytes{}.header(0, 0, 1); }, {"version 1", "obsolete"}},
      {"version 4", [] { return Bytes{}.header(0, 0, 4); }, {"unsupported GGUF version 4"}},
      {"big-endian", [] { return Bytes{}.header(0, 0, 0x03000000); }, {"big-endian"}},
      {"truncated header", [] { return Bytes{}.raw("GGUF", 4).u32(3).u32(0); }, {"header tensor_count", "truncated"}},
      {"truncated kv count", [] { return Bytes{}.raw("GGUF", 4).u32(3).u64(0).u32(1); }, {"metadata_kv_count"}},
      {"absurd kv count", [] { return Bytes{}.header(0, 1ull << 60); }, {"metadata_kv_count", "cannot fit"}},
      {"absurd tensor count", [] { return Bytes{}.header(1ull << 62, 0).zeros(64); }, {"tensor_count", "cannot fit"}},
      {"key length past end", [] { return Bytes{}.header(0, 1).u64(1000).raw("abc", 3).zeros(10); },
       {"metadata #0 key", "string length 1000"}},
      {"unknown value type", [] { return Bytes{}.header(0, 1).str("k").u32(13).u32(0); }, {"('k')", "unknown value type 13"}},
      {"string value past end", [] { return Bytes{}.header(0, 1).str("general.name").u32(8).u64(99).raw("x", 1); },
       {"('general.name')", "string length 99"}},
      {"truncated u32 value", [] { return Bytes{}.header(0, 1).str("n").u32(4).raw("\1\2", 2); }, {"('n')", "truncated"}},
      {"absurd array count", [] { return Bytes{}.header(0, 1).str("arr").u32(9).u32(6).u64(1ull << 61).zeros(8); },
       {"('arr')", "cannot fit"}},
      {"unknown array element type", [] { return Bytes{}.header(0, 1).str("arr").u32(9).u32(77).u64(1); },
       {"('arr')", "unknown array element type 77"}},
      {"string array element past end",
       [] { return Bytes{}.header(0, 1).str("toks").u32(9).u32(8).u64(3).str("a").str("b").u64(50).raw("c", 1); },
       {"('toks')[2]", "string length 50"}},
      {"arrays nested too deep",
       [] {
         Bytes x;
         x.header(0, 1).str("deep").u32(9);
         for (int i = 0; i < 10; ++i) x.u32(9).u64(1);
         return x.u32(4).u64(0);
       },
       {"('deep')", "nested deeper"}},
      {"bool value 2", [] { return Bytes{}.header(0, 1).str("flag").u32(7).u8(2); }, {"('flag')", "bool value 2"}},
      {"duplicate key", [] { return Bytes{}.header(0, 2).kv_u32("k", 1).kv_u32("k", 2); }, {"('k')", "duplicate metadata key"}},
      {"alignment zero", [] { return Bytes{}.header(0, 1).kv_u32("general.alignment", 0); }, {"general.alignment", "power of two"}},
      {"alignment 48", [] { return Bytes{}.header(0, 1).kv_u32("general.alignment", 48); }, {"general.alignment", "= 48"}},
      {"alignment as string", [] { return Bytes{}.header(0, 1).str("general.alignment").u32(8).str("32"); },
       {"general.alignment", "must be u32"}},
      {"tensor name past end", [] { return Bytes{}.header(1, 0).u64(500).zeros(30); }, {"tensor #0 name", "string length 500"}},
      {"n_dims 5", [] { return Bytes{}.header(1, 0).tensor("t", {1, 1, 1, 1, 1}, 0, 0).pad_to(32).zeros(32); },
       {"tensor 't'", "n_dims 5"}},
      {"n_dims 0", [] { return Bytes{}.header(1, 0).tensor("t", {}, 0, 0).pad_to(32).zeros(32); }, {"tensor 't'", "n_dims 0"}},
      {"zero dimension", [] { return Bytes{}.header(1, 0).tensor("t", {4, 0}, 0, 0).pad_to(32).zeros(32); },
       {"tensor 't'", "ne[1] = 0"}},
      {"retired type id 4", [] { return Bytes{}.header(1, 0).tensor("t", {32}, 4, 0).pad_to(32).zeros(32); },
       {"tensor 't'", "unknown tensor type id 4"}},
      {"unknown type id 99", [] { return Bytes{}.header(1, 0).tensor("t", {32}, 99, 0).pad_to(32).zeros(32); },
       {"unknown tensor type id 99"}},
      {"row not a block multiple", [] { return Bytes{}.header(1, 0).tensor("q", {33}, 2, 0).pad_to(32).zeros(64); },
       {"tensor 'q'", "row length 33", "q4_0 block size 32"}},
      {"element count overflow",
       [] { return Bytes{}.header(1, 0).tensor("big", {1ull << 40, 1ull << 40}, 0, 0).pad_to(32).zeros(32); },
       {"tensor 'big'", "overflows"}},
      {"byte size overflow", [] { return Bytes{}.header(1, 0).tensor("wide", {1ull << 62}, 0, 0).pad_to(32).zeros(32); },
       {"tensor 'wide'", "overflows"}},
      {"misaligned offset", [] { return two_tensors(0, 70); }, {"tensor 'b'", "offset 70", "alignment 32"}},
      {"data past end", [] { return two_tensors(0, 96, {16}); }, {"tensor 'b'", "data range", "exceeds file size"}},
      {"offset far past end", [] { return two_tensors(0, 1ull << 62); }, {"tensor 'b'", "exceeds file size"}},
      {"overlapping tensors", [] { return two_tensors(0, 32); }, {"overlaps", "blk.0.attn_q.weight"}},
      {"duplicate tensor name",
       [] { return Bytes{}.header(2, 0).tensor("t", {8}, 0, 0).tensor("t", {8}, 0, 32).pad_to(32).zeros(64); },
       {"tensor 't'", "duplicate tensor name"}},
      {"truncated tensor info", [] { return Bytes{}.header(1, 0).str("t").u32(1).u64(8).u32(0).raw("\0\0", 2); },
       {"tensor 't' offset", "truncated"}},
      {"data section missing", [] { return Bytes{}.header(1, 0).tensor("t", {8}, 0, 0); }, {"data section", "past the end"}},
  };
  return cases;
}

TEST(Gguf, RejectsBadFilesNamingTheField) {
  ASSERT_GE(bad_cases().size(), 20u);
  for (const auto& c : bad_cases()) {
    auto r = GgufFile::open_memory(c.build().b);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().code, ErrorCode::INVALID_INPUT) << c.name;
    for (const char* want : c.expect) {
      EXPECT_NE(r.error().message.find(want), std::string::npos)
          << c.name << ": '" << r.error().message << "' lacks '" << want << "'";
    }
  }
}

TEST(Gguf, AcceptsTheValidVariantsOfTheBadCases) {
  // The same builders with the fault removed must load, or the table proves nothing.
  auto ok = GgufFile::open_memory(two_tensors(0, 64).b);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ((*ok)->find_tensor("blk.0.attn_q.weight")->shape, (std::vector<int64_t>{2, 8}));
  auto v2 = GgufFile::open_memory(Bytes{}.header(0, 1, 2).kv_u32("k", 1).b);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ((*v2)->version(), 2u);
  auto vocab_only = GgufFile::open_memory(Bytes{}.header(0, 1).kv_u32("general.alignment", 4096).b);
  EXPECT_TRUE(vocab_only.ok());
}

}  // namespace
}  // namespace moerag::engine
