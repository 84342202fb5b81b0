// Helpers shared by command files: the settings flags every server-facing command
// accepts, loading settings with exit code 2 on error, and opening the data folder.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "config/settings.h"
#include "core/sqlite.h"

namespace moerag::cli {

/// Flags that feed config::load: --config, --set KEY=VALUE and the common shortcuts.
struct SettingsFlags {
  std::string config_path;
  std::vector<std::string> sets;
  std::string host, port, data_dir, model, embed_model, device, chat_template, log_level;
  bool log_json = false;

  /// Adds the flags to `cmd`; `server_flags` adds --host/--port/--model/... too.
  void add_to(CLI::App* cmd, bool server_flags);
  /// Loads settings; on error prints one line and returns nullptr (exit code 2).
  std::unique_ptr<config::Settings> load() const;
};

/// Creates settings.data_dir and opens <data_dir>/moerag.db.
Result<std::shared_ptr<sql::Database>> open_main_db(const config::Settings& settings);
/// <data_dir>/chat.db: chat sessions and turns. A separate file because chat writes on
/// every request: in the main file each write makes every reading connection drop and
/// re-create its memory map of the knowledge bases (SQLite unmaps on any change).
Result<std::shared_ptr<sql::Database>> open_chat_db(const config::Settings& settings);

}  // namespace moerag::cli
