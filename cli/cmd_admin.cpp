// Administrative commands: `version`, `config check`, `keys create|list|revoke`.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/common.h"
#include "web/api_keys.h"
#ifdef MOERAG_HAVE_CUDA
#include "engine/kernels/cuda/device.cuh"
#endif

namespace moerag::cli {
namespace {

using json = nlohmann::json;

Result<std::unique_ptr<web::KeyStore>> open_keys(const config::Settings& s) {
  MOERAG_ASSIGN_OR_RETURN(auto db, open_main_db(s));
  return web::KeyStore::create(db);
}

RegisterCommand reg_version(90, [](CLI::App& app) {
  auto* cmd = app.add_subcommand("version", "Print the version and build features");
  on_run(cmd, [] {
    std::cout << "moerag " << MOERAG_VERSION << "\n";
#ifdef MOERAG_HAVE_CUDA
    int n = cuda::device_count();
    std::cout << "CUDA backend: built; " << n << " device(s)\n";
    for (int i = 0; i < n; ++i) std::cout << "  cuda:" << i << " " << cuda::device_description(i) << "\n";
#else
    std::cout << "CUDA backend: not built (configure with nvcc present, or -DMOERAG_CUDA=ON)\n";
#endif
    return 0;
  });
});

RegisterCommand reg_config(80, [](CLI::App& app) {
  auto* grp = group(app, "config", "Check or print configuration");
  auto* check = grp->add_subcommand("check", "Load defaults, config file, MOERAG_* variables and flags; validate; exit 2 on error");
  auto flags = std::make_shared<SettingsFlags>();
  auto print = std::make_shared<bool>(false);
  flags->add_to(check, true);
  check->add_flag("--print", *print, "Print the merged configuration as JSON");
  on_run(check, [flags, print] {
    auto s = flags->load();
    if (!s) return 2;
    if (*print) std::cout << s->raw.dump(2) << "\n";
    else std::cout << "config ok\n";
    return 0;
  });
  auto* defaults = grp->add_subcommand("defaults", "Print the built-in default configuration with its comments");
  on_run(defaults, [] {
    std::cout << config::default_config_text();
    return 0;
  });
});

RegisterCommand reg_keys(70, [](CLI::App& app) {
  auto* grp = group(app, "keys", "Manage API keys (needed when auth.enabled is true)");
  auto flags = std::make_shared<SettingsFlags>();

  auto* create = grp->add_subcommand("create", "Create a key; it is printed once and stored only as a hash");
  auto name = std::make_shared<std::string>();
  auto role = std::make_shared<std::string>("user");
  create->add_option("--name", *name, "A name to recognise the key by")->required();
  create->add_option("--role", *role, "user (ask, chat, search) or admin (also manage keys and knowledge bases)")
      ->check(CLI::IsMember({"user", "admin"}));
  flags->add_to(create, false);
  on_run(create, [flags, name, role] {
    auto s = flags->load();
    if (!s) return 2;
    auto keys = open_keys(*s);
    if (!keys.ok()) return fail(keys.error().message);
    auto r = web::parse_role(*role);
    if (!r.ok()) return fail(r.error().message, 2);
    web::ApiKeyInfo info;
    auto key = (*keys)->create_key(*name, *r, &info);
    if (!key.ok()) return fail(key.error().message);
    std::cout << *key << "\n";
    std::cerr << "created key " << info.id << " '" << info.name << "' (" << web::role_name(info.role)
              << "); store it now, it is not shown again\n";
    return 0;
  });

  auto* list = grp->add_subcommand("list", "List keys (names, prefixes, roles; never the keys)");
  auto as_json = std::make_shared<bool>(false);
  list->add_flag("--json", *as_json, "Print JSON");
  flags->add_to(list, false);
  on_run(list, [flags, as_json] {
    auto s = flags->load();
    if (!s) return 2;
    auto keys = open_keys(*s);
    if (!keys.ok()) return fail(keys.error().message);
    auto all = (*keys)->list();
    if (!all.ok()) return fail(all.error().message);
    json arr = json::array();
    for (const auto& k : *all) {
      if (*as_json) {
        arr.push_back({{"id", k.id}, {"name", k.name}, {"prefix", k.prefix}, {"role", web::role_name(k.role)},
                       {"created_at", k.created_at}, {"revoked_at", k.revoked_at}});
      } else {
        std::cout << k.id << "\t" << k.name << "\t" << k.prefix << "…\t" << web::role_name(k.role) << "\t"
                  << k.created_at << (k.revoked_at.empty() ? "" : "\trevoked " + k.revoked_at) << "\n";
      }
    }
    if (*as_json) std::cout << arr.dump(2) << "\n";
    return 0;
  });

  auto* revoke = grp->add_subcommand("revoke", "Revoke a key by id or name");
  auto which = std::make_shared<std::string>();
  revoke->add_option("key", *which, "Key id or name")->required();
  flags->add_to(revoke, false);
  on_run(revoke, [flags, which] {
    auto s = flags->load();
    if (!s) return 2;
    auto keys = open_keys(*s);
    if (!keys.ok()) return fail(keys.error().message);
    auto st = (*keys)->revoke(*which);
    if (!st.ok()) return fail(st.error().message);
    std::cerr << "revoked " << *which << "\n";
    return 0;
  });
});

}  // namespace
}  // namespace moerag::cli
