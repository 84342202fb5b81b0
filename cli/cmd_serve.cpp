// `moerag serve`: assembles the modules from the settings (the composition root)
// and runs the HTTP server until SIGINT/SIGTERM, then shuts down gracefully.
#include <pthread.h>
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

int run_serve(const SettingsFlags& flags) {
  // Block the stop signals in every thread; one thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

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
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (finished) return;
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
  pthread_kill(waiter.native_handle(), SIGTERM);
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
