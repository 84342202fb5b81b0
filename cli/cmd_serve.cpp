// `moerag serve`: assembles the modules from the settings (the composition root)
// and runs the HTTP server until SIGINT/SIGTERM, then shuts down gracefully.
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

#include "cli/common.h"
#include "cli/serve_modules.h"
#include "core/log.h"
#include "web/server.h"

namespace moerag::cli {
namespace {

// Self-pipe: the handler (whichever thread the kernel picks, including threads that
// libraries started before main) only writes the signal number; a waiter thread
// reads it and does the actual shutdown outside signal context.
int g_signal_pipe[2] = {-1, -1};

void on_stop_signal(int sig) {
  unsigned char b = static_cast<unsigned char>(sig);
  ssize_t n = write(g_signal_pipe[1], &b, 1);
  (void)n;
}

void install_stop_handlers() {
  if (pipe(g_signal_pipe) != 0) return;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int run_serve(const SettingsFlags& flags) {
  install_stop_handlers();

  auto settings = flags.load();
  if (!settings) return 2;
  auto log = log::get("cli");
  if (settings->server.host != "127.0.0.1" && settings->server.host != "localhost" && settings->server.host != "::1" &&
      !settings->auth.enabled)
    log->warn("listening on {} with auth.enabled=false: anyone who can reach this address has admin rights",
              settings->server.host);

  auto db = open_main_db(*settings);
  if (!db.ok()) return fail(db.error().message);
  web::Services services{*db, {}};
  ServeContext modules{*settings, *db, services, {}};
  if (auto st = start_serve_modules(modules); !st.ok()) return fail(st.error().message);
  auto server = web::Server::create(*settings, services);
  if (!server.ok()) return fail(server.error().message);
  auto port = (*server)->bind();
  if (!port.ok()) return fail(port.error().message);
  std::cout << "moerag serving on http://" << settings->server.host << ":" << *port << "/  (Ctrl-C to stop)"
            << std::endl;

  std::atomic<bool> finished{false};
  web::Server* srv = server->get();
  int grace = settings->server.shutdown_grace_s;
  std::thread waiter([&] {
    unsigned char sig = 0;
    while (read(g_signal_pipe[0], &sig, 1) < 0 && errno == EINTR) {
    }
    if (finished || sig == 0) return;
    log->info("received {}, stopping: no new connections, finishing in-flight requests (up to {} s)",
              sig == SIGINT ? "SIGINT" : "SIGTERM", grace);
    srv->stop();
    for (int i = 0; i < grace * 10 && !finished; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!finished) {
      log->error("requests still running after {} s; exiting anyway", grace);
      _exit(1);
    }
  });
  auto st = (*server)->serve();
  finished = true;
  // Wake the waiter if serve() ended without a signal.
  unsigned char zero = 0;
  ssize_t woke = write(g_signal_pipe[1], &zero, 1);
  (void)woke;
  waiter.join();
  server->reset();  // closes the listener and database handles before exit
  if (!st.ok()) return fail(st.error().message);
  log->info("shut down cleanly");
  return 0;
}

RegisterCommand reg(10, [](CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Run the HTTP server: web UI on /, REST API under /v1 (see /openapi.json)");
  auto flags = std::make_shared<SettingsFlags>();
  flags->add_to(cmd, true);
  on_run(cmd, [flags] { return run_serve(*flags); });
});

}  // namespace
}  // namespace moerag::cli
