#include "sluice/job/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "sluice/base/memory.h"

namespace sluice::job {

bool StderrIsTerminal() { return isatty(fileno(stderr)) != 0; }

ProgressBar::ProgressBar(exec::ExecContext* ctx, bool enabled)
    : ctx_(ctx), enabled_(enabled), start_(std::chrono::steady_clock::now()) {
  if (enabled_) thread_ = std::thread([this] { Loop(); });
}

void ProgressBar::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  thread_.join();
  if (drawn_) std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

void ProgressBar::Loop() {
  while (!stop_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (elapsed >= 1.0 && !stop_) Draw(elapsed);
  }
}

static std::string Count(double v) {
  if (v >= 1e9) return fmt::format("{:.1f}G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.1f}M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.1f}K", v / 1e3);
  return fmt::format("{:.0f}", v);
}

void ProgressBar::Draw(double elapsed) {
  auto& p = ctx_->progress();
  double rows = static_cast<double>(p.rows_read.load());
  int64_t bytes = p.bytes_read.load();
  int64_t total = p.bytes_total.load();
  std::string line;
  if (total > 0) {
    double frac = std::min(1.0, static_cast<double>(bytes) / static_cast<double>(total));
    int filled = static_cast<int>(frac * 24);
    std::string bar;
    for (int i = 0; i < 24; ++i) bar += i < filled ? "█" : "░";
    std::string eta = "";
    if (frac > 0.01 && frac < 1.0)
      eta = fmt::format(" ETA {:.0f}s", elapsed * (1 - frac) / frac);
    line = fmt::format("{} {:3.0f}%  {} rows  {} / {}  {}/s  {:.1f}s{}", bar, frac * 100,
                       Count(rows), FormatBytes(bytes), FormatBytes(total),
                       FormatBytes(static_cast<int64_t>(bytes / elapsed)), elapsed, eta);
  } else {
    line = fmt::format("{} rows  {}  {} rows/s  {:.1f}s", Count(rows), FormatBytes(bytes),
                       Count(rows / elapsed), elapsed);
  }
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace sluice::job
