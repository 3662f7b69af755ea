#include "sluice/job/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "sluice/base/duration.h"
#include "sluice/base/memory.h"

namespace sluice::job {

bool StderrIsTerminal() { return isatty(fileno(stderr)) != 0; }

ProgressBar::ProgressBar(exec::ExecContext* ctx, bool enabled)
    : ctx_(ctx), enabled_(enabled), start_(std::chrono::steady_clock::now()) {
  // Rates count from here: earlier statements of a script used the same counters.
  last_in_ = ctx_->progress().rows_read.load();
  last_out_ = ctx_->progress().rows_emitted.load();
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

namespace {

// "2.1s", "3m05s", "4h12m", "11.4y": a lag at a glance.
std::string Lag(int64_t us) {
  const double s = static_cast<double>(us) / 1e6;
  if (s < 0) return fmt::format("-{}", Lag(-us));
  if (s < 60) return fmt::format("{:.1f}s", s);
  if (s < 3600)
    return fmt::format("{}m{:02d}s", static_cast<int>(s / 60), static_cast<int>(s) % 60);
  if (s < 86400 * 2) {
    return fmt::format("{}h{:02d}m", static_cast<int>(s / 3600),
                       static_cast<int>(s / 60) % 60);
  }
  if (s < 86400 * 365) return fmt::format("{:.1f}d", s / 86400);
  return fmt::format("{:.1f}y", s / (86400 * 365.25));
}

}  // namespace

std::string FormatStreamStatus(const StreamStatus& s) {
  std::string line =
      fmt::format("stream {:.1f}s · in {} ({}/s) · out {} ({}/s)", s.elapsed,
                  Count(static_cast<double>(s.rows_in)), Count(s.in_rate),
                  Count(static_cast<double>(s.rows_out)), Count(s.out_rate));
  if (s.watermark == INT64_MIN) {
    line += " · watermark -";
  } else {
    line += fmt::format(" · watermark {} (lag {})",
                        FormatUtcMicros(s.watermark, /*fraction=*/false),
                        Lag(s.now - s.watermark));
  }
  if (s.late > 0) line += fmt::format(" · late {}", Count(static_cast<double>(s.late)));
  for (const auto& [name, lag] : s.lags) {
    line += fmt::format(" · {} lag {}", name, Count(static_cast<double>(lag)));
  }
  return line;
}

std::string ProgressBar::StreamLine(double elapsed) {
  auto& p = ctx_->progress();
  StreamStatus s;
  s.elapsed = elapsed;
  s.rows_in = p.rows_read.load();
  s.rows_out = p.rows_emitted.load();
  const double dt = elapsed - last_elapsed_;
  if (dt > 0) {
    s.in_rate = static_cast<double>(s.rows_in - last_in_) / dt;
    s.out_rate = static_cast<double>(s.rows_out - last_out_) / dt;
  }
  last_elapsed_ = elapsed;
  last_in_ = s.rows_in;
  last_out_ = s.rows_out;
  s.watermark = p.output_watermark.load();
  s.now = std::chrono::duration_cast<std::chrono::microseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
  s.late = p.rows_late.load();
  s.lags = p.SourceLags();
  return FormatStreamStatus(s);
}

void ProgressBar::Draw(double elapsed) {
  if (ctx_->streaming()) {
    std::fprintf(stderr, "\r\033[K%s", StreamLine(elapsed).c_str());
    std::fflush(stderr);
    drawn_ = true;
    return;
  }
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
