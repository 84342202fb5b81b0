// Settings flags and data-folder helpers for commands.
#include "cli/common.h"

#include <filesystem>
#include <iostream>

namespace moerag::cli {

void SettingsFlags::add_to(CLI::App* cmd, bool server_flags) {
  cmd->add_option("-c,--config", config_path, "Config file (JSON with comments); see config/moerag.json")
      ->envname("MOERAG_CONFIG");
  cmd->add_option("--set", sets, "Override any setting: --set server.threads=16 (repeatable)");
  cmd->add_option("--data-dir", data_dir, "Folder for the database and indexes (data_dir)");
  cmd->add_option("--log-level", log_level, "trace|debug|info|warn|error|off (log.level)");
  cmd->add_flag("--log-json", log_json, "Write logs as JSON lines (log.json)");
  if (!server_flags) return;
  cmd->add_option("--host", host, "Address to listen on (server.host)");
  cmd->add_option("-p,--port", port, "TCP port, 0 = any free one (server.port)");
  cmd->add_option("-m,--model", model, "GGUF model for generation (model.path)");
  cmd->add_option("--embed-model", embed_model, "GGUF embedding model (model.embed_path)");
  cmd->add_option("--device", device, "auto|cpu|cuda (model.device)");
  cmd->add_option("--chat-template", chat_template,
                  "Chat template overriding the one detected from the model: chatml|llama2|mistral|llama3|deepseek2|"
                  "deepseek3 (engine.chat_template)");
}

std::unique_ptr<config::Settings> SettingsFlags::load() const {
  config::LoadOptions o;
  o.config_path = config_path;
  auto add = [&](const std::string& key, const std::string& value, const std::string& flag) {
    if (!value.empty()) o.overrides.push_back({key, value, flag});
  };
  for (const auto& kv : sets) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      fail("--set '" + kv + "' must look like KEY=VALUE, e.g. --set server.port=9000", 2);
      return nullptr;
    }
    o.overrides.push_back({kv.substr(0, eq), kv.substr(eq + 1), "--set " + kv.substr(0, eq)});
  }
  add("server.host", host, "--host");
  add("server.port", port, "--port");
  add("data_dir", data_dir, "--data-dir");
  add("model.path", model, "--model");
  add("model.embed_path", embed_model, "--embed-model");
  add("model.device", device, "--device");
  add("engine.chat_template", chat_template, "--chat-template");
  add("log.level", log_level, "--log-level");
  if (log_json) o.overrides.push_back({"log.json", "true", "--log-json"});
  auto s = config::load(o);
  if (!s.ok()) {
    fail(s.error().message, 2);
    return nullptr;
  }
  log::init(s->log);
  return std::make_unique<config::Settings>(std::move(s).value());
}

namespace {
Result<std::shared_ptr<sql::Database>> open_data_db(const config::Settings& settings, const char* file) {
  std::error_code ec;
  std::filesystem::create_directories(settings.data_dir, ec);
  if (ec) return Error(ErrorCode::IO, "cannot create data_dir '" + settings.data_dir + "': " + ec.message());
  return sql::Database::open((std::filesystem::path(settings.data_dir) / file).string());
}
}  // namespace

Result<std::shared_ptr<sql::Database>> open_main_db(const config::Settings& settings) {
  return open_data_db(settings, "moerag.db");
}

Result<std::shared_ptr<sql::Database>> open_chat_db(const config::Settings& settings) {
  return open_data_db(settings, "chat.db");
}

}  // namespace moerag::cli
