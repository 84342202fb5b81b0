// Recommender lifecycle: opening the store, imports, training in the foreground or
// on a background thread, versioned model files under <data_dir>/recsys/ and the
// atomic swap of the serving model.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "apps/recsys/import.h"
#include "apps/recsys/recommender_impl.h"
#include "apps/recsys/store.h"
#include "core/log.h"

namespace moerag::recsys {
namespace fs = std::filesystem;

namespace {

// model-000012.bin -> 12; 0 for other names.
int64_t model_file_version(const fs::path& p) {
  std::string n = p.filename().string();
  if (n.rfind("model-", 0) != 0 || p.extension() != ".bin") return 0;
  return std::atoll(n.substr(6, n.size() - 10).c_str());
}

std::string model_path(const std::string& dir, int64_t version) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "model-%06lld.bin", static_cast<long long>(version));
  return (fs::path(dir) / buf).string();
}

bool model_matches(const Model& m, const Dataset& d) {
  if (m.n_items() > d.n_items() || m.user_ids.size() > d.user_ids.size()) return false;
  for (int32_t i = 0; i < m.n_items(); ++i)
    if (m.item_ids[i] != d.item_ids[i]) return false;
  for (size_t u = 0; u < m.user_ids.size(); ++u)
    if (m.user_ids[u] != d.user_ids[u]) return false;
  return true;
}

}  // namespace

std::vector<float> Recommender::Impl::faiss_vector(const Serving& s, int32_t item) const {
  std::vector<float> out;
  out.reserve(s.dim_total);
  for (int v : s.emb_views) {
    auto x = item_vector(s.model, s.model.views[v], data, item);
    out.insert(out.end(), x.begin(), x.end());
  }
  return out;
}

void Recommender::Impl::extend_index(Serving& s) {
  if (!s.index || s.dim_total == 0) return;
  for (int32_t i = static_cast<int32_t>(s.index->ntotal); i < data.n_items(); ++i) {
    auto x = faiss_vector(s, i);
    s.index->add(1, x.data());
  }
}

std::shared_ptr<Serving> Recommender::Impl::make_serving(Model m) {
  auto s = std::make_shared<Serving>();
  s->model = std::move(m);
  for (int v = 0; v < s->model.n_views(); ++v)
    if (s->model.views[v].kind == ViewKind::EMBEDDING) {
      s->emb_views.push_back(v);
      s->dim_total += s->model.views[v].dim;
    }
  if (s->dim_total > 0) {
    s->index = std::make_unique<faiss::IndexFlatIP>(s->dim_total);
    extend_index(*s);
  }
  return s;
}

Recommender::Recommender(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Recommender::~Recommender() {
  std::lock_guard<std::mutex> lock(impl_->status_mu);
  if (impl_->trainer.joinable()) impl_->trainer.join();
}

Result<std::shared_ptr<Recommender>> Recommender::create(std::shared_ptr<sql::Database> db, std::string model_dir,
                                                         RecsysOptions options) {
  auto impl = std::make_unique<Impl>();
  MOERAG_ASSIGN_OR_RETURN(impl->paths, parse_meta_paths(options.meta_paths));
  impl->db = std::move(db);
  impl->model_dir = std::move(model_dir);
  impl->options = options;
  {
    MOERAG_ASSIGN_OR_RETURN(auto conn, impl->db->lease());
    MOERAG_TRY(migrate_store(*conn));
    MOERAG_ASSIGN_OR_RETURN(impl->data, load_store(*conn));
  }
  std::error_code ec;
  fs::create_directories(impl->model_dir, ec);
  if (ec) return Error(ErrorCode::IO, "cannot create " + impl->model_dir + ": " + ec.message());
  // Newest model file that still matches the data; older ones stay for rollback.
  std::vector<int64_t> versions;
  for (const auto& e : fs::directory_iterator(impl->model_dir, ec))
    if (int64_t v = model_file_version(e.path()); v > 0) versions.push_back(v);
  std::sort(versions.rbegin(), versions.rend());
  auto log = log::get("recsys");
  for (int64_t v : versions) {
    auto m = load_model(model_path(impl->model_dir, v));
    if (!m.ok()) {
      log->warn("skipping model file: {}", m.error().message);
      continue;
    }
    if (!model_matches(*m, impl->data)) {
      log->warn("model {} does not match the stored data; retrain", v);
      continue;
    }
    impl->st.train_seconds = m->train_seconds;
    impl->serving = impl->make_serving(std::move(*m));
    log->info("loaded recsys model version {}", v);
    break;
  }
  return std::shared_ptr<Recommender>(new Recommender(std::move(impl)));
}

Result<ImportReport> Recommender::import(const std::vector<UserRecord>& users, const std::vector<ItemRecord>& items,
                                         const std::vector<InteractionRecord>& interactions) {
  MOERAG_ASSIGN_OR_RETURN(auto conn, impl_->db->lease());
  std::unique_lock<std::shared_mutex> lock(impl_->mu);
  MOERAG_ASSIGN_OR_RETURN(auto rep, write_records(*conn, impl_->data, users, items, interactions));
  // New items get attribute-based vectors in the FAISS index at once (cold start).
  if (impl_->serving) impl_->extend_index(*impl_->serving);
  return rep;
}

Result<ImportReport> Recommender::import_files(const std::string& users_path, const std::string& items_path,
                                               const std::string& interactions_path, const ColumnMap& columns) {
  ParsedRecords rec;
  if (!users_path.empty()) MOERAG_TRY(parse_users_file(users_path, columns, rec));
  if (!items_path.empty()) MOERAG_TRY(parse_items_file(items_path, columns, rec));
  if (!interactions_path.empty()) MOERAG_TRY(parse_interactions_file(interactions_path, columns, rec));
  MOERAG_ASSIGN_OR_RETURN(auto rep, import(rec.users, rec.items, rec.interactions));
  rep.errors.insert(rep.errors.begin(), rec.errors.begin(), rec.errors.end());
  return rep;
}

Status Recommender::train(const ProgressFn& progress) {
  std::lock_guard<std::mutex> one(impl_->train_mu);
  auto t0 = std::chrono::steady_clock::now();
  auto set = [&](const std::string& phase, double f) {
    {
      std::lock_guard<std::mutex> lock(impl_->status_mu);
      impl_->st.phase = phase;
      impl_->st.progress = f;
    }
    if (progress) progress(phase, f);
  };
  Dataset snapshot;
  {
    std::shared_lock<std::shared_mutex> lock(impl_->mu);
    snapshot = impl_->data;
  }
  auto m = train_model(snapshot, impl_->options, ModelPlan{}, set);
  if (!m.ok()) return m.error();
  int64_t version = 1;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(impl_->model_dir, ec))
    version = std::max(version, model_file_version(e.path()) + 1);
  m->version = version;
  m->train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MOERAG_TRY(save_model(*m, model_path(impl_->model_dir, version)));
  double secs = m->train_seconds;
  {
    std::unique_lock<std::shared_mutex> lock(impl_->mu);
    impl_->serving = impl_->make_serving(std::move(*m));
  }
  {
    std::lock_guard<std::mutex> lock(impl_->status_mu);
    impl_->st.train_seconds = secs;
  }
  log::get("recsys")->info("trained recsys model version {} in {:.1f} s", version, secs);
  return ok_status();
}

Status Recommender::start_training() {
  std::lock_guard<std::mutex> lock(impl_->status_mu);
  if (impl_->training) return Error(ErrorCode::CONFLICT, "a training run is already in progress");
  if (impl_->trainer.joinable()) impl_->trainer.join();
  impl_->training = true;
  impl_->st.last_error.clear();
  impl_->st.phase = "starting";
  impl_->st.progress = 0;
  impl_->trainer = std::thread([this] {
    auto st = train();
    std::lock_guard<std::mutex> l(impl_->status_mu);
    if (!st.ok()) {
      impl_->st.last_error = st.error().message;
      log::get("recsys")->error("recsys training failed: {}", st.error().message);
    }
    impl_->training = false;
  });
  return ok_status();
}

void Recommender::wait_training() {
  std::thread t;
  {
    std::lock_guard<std::mutex> lock(impl_->status_mu);
    t = std::move(impl_->trainer);
  }
  if (t.joinable()) t.join();
}

const RecsysOptions& Recommender::options() const { return impl_->options; }

RecsysStatus Recommender::status() const {
  RecsysStatus s;
  {
    std::lock_guard<std::mutex> lock(impl_->status_mu);
    s = impl_->st;
  }
  std::shared_lock<std::shared_mutex> lock(impl_->mu);
  const auto& d = impl_->data;
  s.n_users = d.n_users();
  s.n_items = d.n_items();
  s.n_attrs = d.n_attrs();
  s.n_interactions = static_cast<int64_t>(d.events.size());
  for (const auto& p : impl_->paths) s.meta_paths.push_back(p.text);
  if (impl_->training) s.state = "training";
  else if (!s.last_error.empty()) s.state = "failed";
  else s.state = impl_->serving ? "ready" : "untrained";
  if (impl_->serving) {
    const Model& m = impl_->serving->model;
    s.model_version = m.version;
    s.trained_at = m.trained_at;
    // Mean share of each view (attention x gain, normalised) over users with history (capped).
    std::vector<double> acc(m.n_views(), 0);
    int n = 0;
    for (int32_t u = 0; u < d.n_users() && n < 200; ++u) {
      if (d.histories()[u].empty()) continue;
      auto p = make_profile(m, d, u);
      double sum = 0;
      for (int v = 0; v < m.n_views(); ++v) sum += p.attention[v] * m.gain[v];
      for (int v = 0; v < m.n_views(); ++v) acc[v] += sum > 0 ? p.attention[v] * m.gain[v] / sum : 0.0;
      ++n;
    }
    for (int v = 0; v < m.n_views(); ++v) s.view_weights.emplace_back(m.views[v].name, n ? acc[v] / n : 0.0);
  }
  return s;
}

}  // namespace moerag::recsys
