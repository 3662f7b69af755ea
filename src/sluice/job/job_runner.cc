#include "sluice/job/job_runner.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <list>
#include <map>
#include <set>

#include "sluice/base/memory.h"
#include "sluice/connector/input_table.h"
#include "sluice/exec/scannable.h"
#include "sluice/job/catalog.h"
#include "sluice/job/late_rows_file.h"
#include "sluice/job/progress.h"
#include "sluice/job/query.h"
#include "sluice/job/table_printer.h"
#include "sluice/plan/plan_builder.h"

namespace sluice::job {

namespace {

std::string Thousands(int64_t v) {
  std::string s = std::to_string(v < 0 ? -v : v);
  std::string out;
  int n = 0;
  for (auto it = s.rbegin(); it != s.rend(); ++it) {
    if (n > 0 && n % 3 == 0) out.push_back(',');
    out.push_back(*it);
    ++n;
  }
  if (v < 0) out.push_back('-');
  return std::string(out.rbegin(), out.rend());
}

// Counts how often each name is looked up while planning.
class CountingCatalog : public sql::Catalog {
 public:
  explicit CountingCatalog(Catalog* inner) : inner_(inner) {}
  Result<plan::Plan> FindTable(const std::string& name) override {
    std::string key = name;
    for (auto& c : key)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    counts[key]++;
    return inner_->FindTable(name);
  }
  Result<plan::Plan> CallTableFunction(
      const std::string& name, const std::vector<std::shared_ptr<arrow::Scalar>>& args,
      const std::vector<std::pair<std::string, std::shared_ptr<arrow::Scalar>>>& named)
      override {
    return inner_->CallTableFunction(name, args, named);
  }
  Result<plan::Plan> SingleRow() override { return inner_->SingleRow(); }
  std::map<std::string, int> counts;

 private:
  Catalog* inner_;
};

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Status StepError(const JobSpec& spec, const StepSpec& step, const Status& st) {
  return st.WithMessage(
      fmt::format("{}:{}: step '{}': {}", spec.path, step.line, step.name, st.message()));
}

}  // namespace

void AddInputStats(const Catalog& catalog, RunSummary* summary) {
  for (const auto& [name, input] : catalog.inputs()) {
    summary->rows_in += input->rows_read();
    summary->rows_rejected += input->rows_rejected();
    if (input->rows_rejected() > 0 && !input->rejects_path().empty()) {
      summary->rejects_files.push_back(input->rejects_path());
    }
  }
}

std::string FormatSummary(const RunSummary& s) {
  std::string line = fmt::format("rows in {}", Thousands(s.rows_in));
  if (s.rows_rejected > 0) {
    line +=
        fmt::format(" (accepted {}, rejected {})", Thousands(s.rows_in - s.rows_rejected),
                    Thousands(s.rows_rejected));
  }
  line += fmt::format(" · out {} · {:.2f} s · peak memory {} (operators {})",
                      Thousands(s.rows_out), s.seconds, FormatBytes(s.peak_rss),
                      FormatBytes(s.peak_memory));
  if (s.spilled_bytes > 0) line += " · spilled " + FormatBytes(s.spilled_bytes);
  if (s.rows_late > 0)
    line += fmt::format(" · late rows dropped {}", Thousands(s.rows_late));
  if (s.rows_without_time > 0) {
    line += fmt::format(" · rows without event time {}", Thousands(s.rows_without_time));
  }
  for (const auto& f : s.rejects_files) line += " · rejects: " + f;
  if (!s.late_rows_file.empty()) line += " · late rows: " + s.late_rows_file;
  return line;
}

namespace {

// Runs a step's plan into an Arrow IPC file in the job's spill directory (removed with
// the job) and returns a scan of that file.
Result<plan::Plan> MaterializeOnDisk(const plan::Plan& step, exec::ExecContext* ctx,
                                     const std::string& name) {
  ARROW_ASSIGN_OR_RAISE(auto dir, ctx->SpillDirectory());
  connector::WriteOptions wo;
  wo.format = connector::FileFormat::kArrowIpc;
  wo.path = dir + "/step-" + name + ".arrow";
  std::vector<std::string> files;
  ARROW_RETURN_NOT_OK(WriteQuery(step, ctx, wo, &files));
  int64_t bytes = 0;
  for (const auto& f : files) {
    std::error_code ec;
    auto size = std::filesystem::file_size(f, ec);
    if (!ec) bytes += static_cast<int64_t>(size);
  }
  ctx->AddSpilledBytes(bytes);
  connector::SourceSpec spec;
  spec.name = name;
  spec.format = "arrow";
  spec.path = wo.path;
  ARROW_ASSIGN_OR_RAISE(auto table, connector::OpenInputTable(spec));
  return plan::MakeScan(std::move(table));
}

}  // namespace

Result<RunSummary> RunJob(const JobSpec& spec, const RunOptions& options) {
  auto start = std::chrono::steady_clock::now();
  auto print = options.print ? options.print : [](const std::string& s) {
    std::fputs(s.c_str(), stdout);
  };
  exec::ExecOptions eo;
  eo.threads = options.threads >= 0 ? options.threads : spec.settings.threads;
  eo.memory_limit =
      options.memory_limit >= 0 ? options.memory_limit : spec.settings.memory_limit;
  eo.spill_directory = !options.spill_directory.empty() ? options.spill_directory
                                                        : spec.settings.spill_directory;
  eo.state_ttl_us =
      options.state_ttl_us >= 0 ? options.state_ttl_us : spec.settings.state_ttl_us;
  exec::ExecContext ctx(eo);
  const std::string late_path =
      !options.late_rows_path.empty() ? options.late_rows_path : spec.settings.late_rows;
  std::unique_ptr<LateRowsFile> late_rows;
  if (!late_path.empty() && (!options.explain || options.analyze)) {
    late_rows = std::make_unique<LateRowsFile>(late_path);
    ARROW_RETURN_NOT_OK(late_rows->Open());  // a bad path fails now, not hours in
    ctx.set_late_rows(late_rows.get());
  }
  Catalog catalog;
  for (const auto& src : spec.sources) {
    Status st = catalog.OpenInput(src);
    if (!st.ok()) return st.WithMessage("source '", src.name, "': ", st.message());
  }
  // Pass 1: plan everything once to count how often each step is used.
  std::set<std::string> step_names;
  for (const auto& step : spec.steps) step_names.insert(Lower(step.name));
  std::map<std::string, int> uses;
  {
    CountingCatalog counting(&catalog);
    for (const auto& step : spec.steps) {
      counting.counts.clear();
      auto p = sql::PlanQuery(step.sql, &counting);
      if (!p.ok()) return StepError(spec, step, p.status());
      for (const auto& [name, n] : counting.counts) uses[name] += n;
      catalog.Register(step.name, *p);
    }
    for (const auto& sink : spec.sinks) uses[Lower(sink.from)]++;
  }
  // Pass 2: plan in order, materializing shared steps.
  Catalog final_catalog = catalog;
  std::list<MemoryReservation> materialized;
  for (const auto& step : spec.steps) {
    auto p = sql::PlanQuery(step.sql, &final_catalog);
    if (!p.ok()) return StepError(spec, step, p.status());
    bool materialize = step.materialize == "true" ||
                       (step.materialize == "auto" && uses[Lower(step.name)] > 1);
    if (materialize && (!options.explain || options.analyze)) {
      ProgressBar bar(&ctx, options.progress);
      auto table = CollectQuery(*p, &ctx);
      bar.Stop();
      Status kept = table.status();
      if (kept.ok()) {
        // The kept result stays accounted until the job ends.
        int64_t bytes = 0;
        for (const auto& column : (*table)->columns()) {
          for (const auto& chunk : column->chunks()) bytes += ArrayMemory(*chunk->data());
        }
        materialized.emplace_back(ctx.budget(), "materialized step " + step.name);
        kept = materialized.back().Grow(bytes);
        if (kept.ok()) {
          final_catalog.Register(step.name,
                                 plan::MakeScan(std::make_shared<exec::InMemoryTable>(
                                     *table, "step " + step.name)));
          continue;
        }
        materialized.pop_back();
      }
      if (!kept.IsOutOfMemory()) return StepError(spec, step, kept);
      // The step's result does not fit in memory (or something in it did not: then
      // the second run fails again, with its error). It runs again, straight into an
      // Arrow IPC file in the job's spill directory, read from there by the steps and
      // sinks that use it.
      if (table.ok()) table->reset();  // the kept rows go before they run again
      ctx.ResetCancelled();
      ProgressBar again(&ctx, options.progress);
      auto on_disk = MaterializeOnDisk(*p, &ctx, step.name);
      again.Stop();
      if (!on_disk.ok()) return StepError(spec, step, on_disk.status());
      final_catalog.Register(step.name, *on_disk);
    } else {
      final_catalog.Register(step.name, *p);
    }
  }
  RunSummary summary;
  for (const auto& sink : spec.sinks) {
    ARROW_ASSIGN_OR_RAISE(auto p, final_catalog.FindTable(sink.from));
    if (!p) {
      return Status::Invalid(
          fmt::format("{}:{}: sink reads from '{}', which is neither a step "
                      "nor a source",
                      spec.path, sink.line, sink.from));
    }
    auto where = [&](const Status& st) {
      return st.WithMessage(fmt::format("{}:{}: sink from '{}': {}", spec.path, sink.line,
                                        sink.from, st.message()));
    };
    if (options.explain && !options.analyze) {
      auto text = ExplainQuery(p);
      if (!text.ok()) return where(text.status());
      print(fmt::format("== sink from {} ({}) ==\n{}\n", sink.from,
                        sink.format == "terminal" ? "terminal" : sink.write.path, *text));
      continue;
    }
    std::string analyze;
    ProgressBar bar(&ctx, options.progress);
    if (sink.format == "terminal") {
      auto table = CollectQuery(p, &ctx, options.analyze ? &analyze : nullptr);
      bar.Stop();
      if (!table.ok()) return where(table.status());
      summary.rows_out += (*table)->num_rows();
      PrintOptions po;
      po.title = sink.title.empty() ? sink.from : sink.title;
      po.max_rows = sink.max_rows;
      print("\n" + FormatTable(**table, po));
    } else {
      std::vector<std::string> files;
      auto rows =
          WriteQuery(p, &ctx, sink.write, &files, options.analyze ? &analyze : nullptr);
      bar.Stop();
      if (!rows.ok()) return where(rows.status());
      summary.rows_out += *rows;
      for (auto& f : files) summary.files_written.push_back(f);
    }
    if (options.analyze)
      print(fmt::format("== sink from {} ==\n{}\n", sink.from, analyze));
  }
  // The late rows are written before the inputs commit what was read (Kafka offsets).
  if (late_rows) {
    ARROW_RETURN_NOT_OK(late_rows->Close());
    summary.late_rows_file = late_rows->path();
  }
  ARROW_RETURN_NOT_OK(final_catalog.CloseInputs());
  AddInputStats(final_catalog, &summary);
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  summary.peak_memory = ctx.budget()->peak();
  summary.spilled_bytes = ctx.spilled_bytes();
  summary.rows_late = ctx.progress().rows_late.load();
  summary.rows_without_time = ctx.progress().rows_without_time.load();
  summary.peak_rss = PeakRss();
  return summary;
}

}  // namespace sluice::job
