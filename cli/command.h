// How a command file plugs into the `moerag` executable: each cli/cmd_*.cpp holds a
// static RegisterCommand whose function adds its subcommands to the CLI11 app.
// Commands report failure by returning a non-zero exit code from their callback.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

namespace moerag::cli {

/// Registers `add` to be called with the root app at start-up; lower `order` first
/// (it decides the order of `moerag --help`).
struct RegisterCommand {
  RegisterCommand(int order, std::function<void(CLI::App&)> add);
};

/// The subcommand `name` of `parent`, created with `description` if missing, so
/// several files can add to one group (e.g. `moerag model ...`).
CLI::App* group(CLI::App& parent, const std::string& name, const std::string& description);

/// Sets the callback of `cmd` to run `fn`, whose return value is the process exit
/// code (0 ok, 1 failure, 2 bad usage or configuration).
void on_run(CLI::App* cmd, std::function<int()> fn);

/// Prints "moerag: error: MESSAGE" to stderr and returns `code`.
int fail(const std::string& message, int code = 1);

}  // namespace moerag::cli
