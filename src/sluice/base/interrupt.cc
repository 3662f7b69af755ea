#include "sluice/base/interrupt.h"

#include <atomic>
#include <csignal>

namespace sluice {

namespace {

std::atomic<int> g_signals{0};

extern "C" void OnStopSignal(int) { g_signals.fetch_add(1, std::memory_order_relaxed); }

}  // namespace

void InstallStopHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int StopSignals() { return g_signals.load(std::memory_order_relaxed); }

void RequestStop() { g_signals.fetch_add(1, std::memory_order_relaxed); }

void AcknowledgeStop() {
  int one = 1;
  g_signals.compare_exchange_strong(one, 0);
}

}  // namespace sluice
