// berthd: wires the config to the Daemon and turns signals into reload and shutdown.
#include <csignal>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "config/config.h"
#include "core/log.h"
#include "daemon/daemon.h"

int main(int argc, char** argv) {
  using namespace berth;
  auto config = config::ConfigFromArgs(argc, argv);
  if (!config.ok()) {
    std::fprintf(stderr, "berthd: %s\n", config.status().message().c_str());
    return 2;
  }
  if (config->print_and_exit) {
    std::fputs(config->print_and_exit->c_str(), stdout);
    return 0;
  }
  log::Init(config->log.format, config->log.level);

  // Signals are taken synchronously by this thread; every thread started later inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  daemon::Daemon d(*config);
  if (Status s = d.Start(); !s.ok()) {
    spdlog::critical("cannot start: {}", s.message());
    d.Stop();
    return 1;
  }
  spdlog::info("berthd ready");
  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      auto fresh = config::ConfigFromArgs(argc, argv);
      if (!fresh.ok()) {
        spdlog::error("reload: config rejected, keeping the running one: {}", fresh.status().message());
        d.ReloadRejected();
        continue;
      }
      Status s = d.Reload(*fresh);
      spdlog::info("reload done{}", s.ok() ? "" : " with errors (see above)");
      continue;
    }
    spdlog::info("signal {}: draining and shutting down", sig == SIGTERM ? "TERM" : "INT");
    d.Stop();
    spdlog::info("berthd stopped");
    return 0;
  }
}
