// Model loading: config and tensor checks, then every tensor made resident on the
// backend by name. MLA's absorbed form needs W_uk^T per head ([rank, nope]) to map
// q_nope into the latent space; newer converts store it as attn_k_b, older ones only
// have attn_kv_b [n_head * (nope + dv), rank], from which we derive it once: F32 from F32
// files, else F16 (exact for F16 files, well within a quantised format's own error, and
// half the bytes that every decoded token reads).
#include "engine/model.h"

#include <cstring>

namespace moerag::engine {

Result<std::unique_ptr<Model>> Model::load(const std::string& path, Backend& backend) {
  MOERAG_ASSIGN_OR_RETURN(auto file, GgufFile::open(path));
  return from_file(std::move(file), backend);
}

Result<std::unique_ptr<Model>> Model::from_file(std::unique_ptr<GgufFile> file, Backend& backend) {
  std::unique_ptr<Model> m(new Model());
  MOERAG_ASSIGN_OR_RETURN(m->config_, ModelConfig::from_gguf(*file));
  MOERAG_TRY(validate_tensors(m->config_, *file));
  m->file_ = std::move(file);
  MOERAG_TRY(m->upload_all(backend));
  return m;
}

Status Model::upload_all(Backend& backend) {
  auto get = [&](const std::string& name, DeviceWeight& w) -> Status {
    const GgufTensor* t = file_->find_tensor(name);
    if (t == nullptr) return ok_status();  // optional; validate_tensors checked the required ones
    MOERAG_ASSIGN_OR_RETURN(w, backend.upload_weight(*t));
    return ok_status();
  };
  const ModelConfig& c = config_;
  MOERAG_TRY(get("token_embd.weight", tok_embd));
  MOERAG_TRY(get("token_types.weight", token_types));
  MOERAG_TRY(get("position_embd.weight", position_embd));
  MOERAG_TRY(get("token_embd_norm.weight", token_embd_norm));
  MOERAG_TRY(get("token_embd_norm.bias", token_embd_norm_b));
  MOERAG_TRY(get("output_norm.weight", output_norm));
  MOERAG_TRY(get("output.weight", output));
  if (!output.present) output = tok_embd;
  layers.resize(static_cast<size_t>(c.n_layer));
  for (int64_t il = 0; il < c.n_layer; ++il) {
    LayerWeights& L = layers[static_cast<size_t>(il)];
    const std::string p = "blk." + std::to_string(il) + ".";
    struct Named {
      const char* name;
      DeviceWeight* w;
    };
    const Named all[] = {
        {"attn_norm.weight", &L.attn_norm},       {"attn_q.weight", &L.attn_q},
        {"attn_k.weight", &L.attn_k},             {"attn_v.weight", &L.attn_v},
        {"attn_q.bias", &L.attn_q_bias},          {"attn_k.bias", &L.attn_k_bias},
        {"attn_v.bias", &L.attn_v_bias},          {"attn_q_norm.weight", &L.attn_q_norm},
        {"attn_k_norm.weight", &L.attn_k_norm},   {"attn_output.weight", &L.attn_output},
        {"attn_output.bias", &L.attn_output_bias}, {"attn_output_norm.weight", &L.attn_output_norm},
        {"attn_output_norm.bias", &L.attn_output_norm_b}, {"attn_q_a.weight", &L.attn_q_a},
        {"attn_q_a_norm.weight", &L.attn_q_a_norm}, {"attn_q_b.weight", &L.attn_q_b},
        {"attn_kv_a_mqa.weight", &L.attn_kv_a_mqa}, {"attn_kv_a_norm.weight", &L.attn_kv_a_norm},
        {"attn_k_b.weight", &L.attn_k_b},         {"attn_v_b.weight", &L.attn_v_b},
        {"ffn_norm.weight", &L.ffn_norm},         {"ffn_gate.weight", &L.ffn_gate},
        {"ffn_up.weight", &L.ffn_up},             {"ffn_down.weight", &L.ffn_down},
        {"ffn_up.bias", &L.ffn_up_bias},          {"ffn_down.bias", &L.ffn_down_bias},
        {"layer_output_norm.weight", &L.layer_output_norm}, {"layer_output_norm.bias", &L.layer_output_norm_b},
        {"ffn_gate_inp.weight", &L.ffn_gate_inp}, {"exp_probs_b.bias", &L.exp_probs_b},
        {"ffn_gate_exps.weight", &L.ffn_gate_exps}, {"ffn_up_exps.weight", &L.ffn_up_exps},
        {"ffn_down_exps.weight", &L.ffn_down_exps}, {"ffn_gate_inp_shexp.weight", &L.ffn_gate_inp_shexp},
        {"ffn_gate_shexp.weight", &L.ffn_gate_shexp}, {"ffn_up_shexp.weight", &L.ffn_up_shexp},
        {"ffn_down_shexp.weight", &L.ffn_down_shexp},
    };
    for (const auto& n : all) MOERAG_TRY(get(p + n.name, *n.w));
    for (const auto& n : all) {
      // Norms, biases and routers are applied as F32 vectors by the forward pass.
      const std::string name = n.name;
      const bool vec = name.find("norm") != std::string::npos || name.find(".bias") != std::string::npos ||
                       name == "ffn_gate_inp_shexp.weight";
      if (vec && n.w->present && n.w->mat.type != GgmlType::F32) {
        return Error(ErrorCode::INVALID_INPUT, "tensor '" + p + name + "' must be F32, is " + type_name(n.w->mat.type));
      }
    }
    if (c.arch == Arch::DEEPSEEK2 && !c.mla_split_kv_b) {
      MOERAG_TRY(derive_mla(backend, L, *file_->find_tensor(p + "attn_kv_b.weight")));
    }
  }
  return ok_status();
}

Status Model::derive_mla(Backend& backend, LayerWeights& L, const GgufTensor& kv_b) {
  const ModelConfig& c = config_;
  const int64_t nope = c.head_dim_qk_nope(), dv = c.head_dim_v, rank = c.kv_lora_rank;
  // kv_b rows per head: [nope rows of W_uk (k), dv rows of W_uv (v)], each of length rank.
  std::vector<float> kb(static_cast<size_t>(c.n_head * rank * nope));  // F32 [n_head, rank, nope]
  std::vector<float> row(static_cast<size_t>(rank));
  for (int64_t h = 0; h < c.n_head; ++h) {
    for (int64_t i = 0; i < nope; ++i) {
      const int64_t r = h * (nope + dv) + i;
      MOERAG_TRY(dequantize_row(kv_b.type, kv_b.data + static_cast<size_t>(r) * kv_b.row_bytes(), row.data(), rank));
      for (int64_t j = 0; j < rank; ++j) kb[static_cast<size_t>((h * rank + j) * nope + i)] = row[j];
    }
  }
  const GgmlType type = kv_b.type == GgmlType::F32 ? GgmlType::F32 : GgmlType::F16;
  std::vector<uint8_t> bytes(kb.size() * (type == GgmlType::F32 ? 4 : 2));
  if (type == GgmlType::F32) {
    std::memcpy(bytes.data(), kb.data(), bytes.size());
  } else {
    for (size_t i = 0; i < kb.size(); ++i) {
      const uint16_t h = fp32_to_fp16(kb[i]);
      std::memcpy(bytes.data() + 2 * i, &h, 2);
    }
  }
  auto meta = std::make_unique<GgufTensor>();
  meta->name = "derived.attn_k_b";
  meta->type = type;
  meta->shape = {c.n_head, rank, nope};
  meta->n_elements = kb.size();
  meta->n_bytes = bytes.size();
  meta->data = bytes.data();
  MOERAG_ASSIGN_OR_RETURN(L.attn_k_b, backend.upload_weight(*meta));
  MOERAG_ASSIGN_OR_RETURN(L.attn_v_b, backend.upload_weight(kv_b));
  L.v_b_from_kv_b = true;
  derived_meta_.push_back(std::move(meta));
  derived_data_.push_back(std::move(bytes));  // the vector's buffer does not move
  return ok_status();
}

uint64_t Model::active_weights(uint64_t* n_elems) const {
  const ModelConfig& c = config_;
  uint64_t elems = 0;
  // Bytes of one matrix (one expert of a stack); counts its elements on the side.
  auto bytes = [&elems](const DeviceWeight& w) -> uint64_t {
    if (!w.present || w.mat.row_bytes == 0) return 0;
    elems += static_cast<uint64_t>(w.mat.n_rows * w.mat.n_cols) * w.mat_bytes / (w.mat.row_bytes * static_cast<uint64_t>(w.mat.n_rows));
    return static_cast<uint64_t>(w.mat_bytes);
  };
  uint64_t total = bytes(output) + static_cast<uint64_t>(tok_embd.mat.row_bytes);
  for (const LayerWeights& L : layers) {
    for (const DeviceWeight* w : {&L.attn_q, &L.attn_k, &L.attn_v, &L.attn_output, &L.attn_q_a, &L.attn_q_b,
                                  &L.attn_kv_a_mqa, &L.attn_k_b, &L.ffn_gate, &L.ffn_up, &L.ffn_down,
                                  &L.ffn_gate_inp, &L.ffn_gate_shexp, &L.ffn_up_shexp, &L.ffn_down_shexp}) {
      total += bytes(*w) * static_cast<uint64_t>(w == &L.attn_k_b ? w->n_mat : 1);
    }
    if (L.attn_v_b.present) {  // from attn_kv_b only its value rows are read
      const uint64_t nope = static_cast<uint64_t>(c.head_dim_qk_nope()), dv = static_cast<uint64_t>(c.head_dim_v);
      total += L.v_b_from_kv_b ? bytes(L.attn_v_b) * dv / (nope + dv)
                               : bytes(L.attn_v_b) * static_cast<uint64_t>(L.attn_v_b.n_mat);
    }
    for (const DeviceWeight* w : {&L.ffn_gate_exps, &L.ffn_up_exps, &L.ffn_down_exps}) {
      total += bytes(*w) * static_cast<uint64_t>(c.n_expert_used);
      if (w->present) elems += static_cast<uint64_t>(w->mat.n_rows * w->mat.n_cols) * (c.n_expert_used - 1);
    }
  }
  if (n_elems) *n_elems = elems;
  return total;
}

}  // namespace moerag::engine
