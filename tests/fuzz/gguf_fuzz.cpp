// libFuzzer target for the GGUF reader: any byte string must parse or be rejected with
// an Error, never crash, hang or allocate without bound. Files that parse are pushed
// further: value rendering, typed getters, one row of every tensor dequantised, and
// the model config + tensor validation.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/gguf.h"
#include "engine/model_config.h"

using namespace moerag::engine;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = GgufFile::open_memory(std::vector<uint8_t>(data, data + size));
  if (!file.ok()) return 0;
  const GgufFile& f = **file;
  for (const auto& kv : f.metadata()) {
    (void)value_to_string(kv.value);
    (void)f.get_u32(kv.key);
    (void)f.get_f32(kv.key);
    (void)f.find_arr_str(kv.key);
    (void)f.find_arr_i32(kv.key);
    (void)f.find_arr_f32(kv.key);
  }
  std::vector<float> row;
  for (const auto& t : f.tensors()) {
    if (!type_traits(t.type).can_dequantize || t.row_length() > (1 << 16)) continue;
    row.resize(static_cast<size_t>(t.row_length()));
    (void)dequantize_row(t.type, t.data, row.data(), t.row_length());
  }
  auto config = ModelConfig::from_gguf(f);
  if (config.ok()) (void)validate_tensors(*config, f);
  return 0;
}
