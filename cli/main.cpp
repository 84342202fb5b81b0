// The `moerag` executable: builds the CLI11 app from every registered command file
// and runs the chosen subcommand. Parse errors exit with code 2.
#include <iostream>

#include "cli/command.h"

namespace moerag::cli {
namespace {

struct Entry {
  int order;
  std::function<void(CLI::App&)> add;
};
std::vector<Entry>& registry() {
  static std::vector<Entry> r;
  return r;
}
int g_exit_code = 0;

}  // namespace

RegisterCommand::RegisterCommand(int order, std::function<void(CLI::App&)> add) {
  registry().push_back({order, std::move(add)});
}

CLI::App* group(CLI::App& parent, const std::string& name, const std::string& description) {
  for (auto* sub : parent.get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name() == name) return sub;
  auto* g = parent.add_subcommand(name, description);
  g->require_subcommand(1);
  return g;
}

void on_run(CLI::App* cmd, std::function<int()> fn) {
  cmd->callback([fn = std::move(fn)] { g_exit_code = fn(); });
}

int fail(const std::string& message, int code) {
  std::cerr << "moerag: error: " << message << "\n";
  return code;
}

}  // namespace moerag::cli

int main(int argc, char** argv) {
  using namespace moerag::cli;
  CLI::App app{"moerag: self-hosted RAG platform with its own Mixture-of-Experts inference engine.\n"
               "Run `moerag serve` and open http://127.0.0.1:8080/ ; `moerag COMMAND --help` explains each command.",
               "moerag"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  std::sort(registry().begin(), registry().end(), [](const Entry& a, const Entry& b) { return a.order < b.order; });
  for (auto& e : registry()) e.add(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  return g_exit_code;
}
