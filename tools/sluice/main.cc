// The `sluice` command line: run job files, run SQL, explain plans, inspect files,
// generate data. Errors end the process with status 1 and one line on stderr.
#include <arrow/io/file.h>
#include <fmt/format.h>
#include <parquet/arrow/reader.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "sluice/base/duration.h"
#include "sluice/base/input_file.h"
#include "sluice/base/interrupt.h"
#include "sluice/base/memory.h"
#include "sluice/connector/generator/ecommerce.h"
#include "sluice/connector/input_table.h"
#include "sluice/connector/writer/file_writer.h"
#include "sluice/job/catalog.h"
#include "sluice/job/job_runner.h"
#include "sluice/job/late_rows_file.h"
#include "sluice/job/progress.h"
#include "sluice/job/query.h"
#include "sluice/job/sql_session.h"
#include "sluice/job/table_printer.h"
#include "sluice/version.h"

namespace fs = std::filesystem;
using sluice::Result;
using sluice::Status;

namespace {

struct Common {
  int threads = 0;
  std::string memory_limit;
  std::string spill_dir;
  std::string state_ttl;
  std::string late_rows;
  bool quiet = false;
};

void AddCommon(CLI::App* cmd, Common* c) {
  cmd->add_option("--threads", c->threads, "Worker threads (default: all cores)")
      ->check(CLI::Range(0, 4096));
  cmd->add_option(
      "--memory-limit", c->memory_limit,
      "Memory limit for the job, e.g. 4GiB, 512MB or 50% (default: 80% of RAM)");
  cmd->add_option("--spill-dir", c->spill_dir,
                  "Where operators spill when the memory limit is reached (default: "
                  "$SLUICE_SPILL_DIR, else the temporary directory)");
  cmd->add_option("--state-ttl", c->state_ttl,
                  "How long a regular join of two streams keeps a row, in event time, "
                  "e.g. 1h (default: for the whole run)");
  cmd->add_option("--late-rows", c->late_rows,
                  "Write the rows dropped as late (by windows and stream joins) to this "
                  "JSON-lines file (published when the run ends)");
  cmd->add_flag("--quiet,-q", c->quiet, "No progress bar and no summary line");
}

// The options of a SQL run: the common flags with memory limit `limit`.
Result<sluice::exec::ExecOptions> SqlExecOptions(const Common& c, int64_t limit) {
  sluice::exec::ExecOptions o{c.threads, limit, 65536, c.spill_dir};
  if (!c.state_ttl.empty()) {
    ARROW_ASSIGN_OR_RAISE(o.state_ttl_us,
                          sluice::ParseDurationMicros(c.state_ttl, "--state-ttl"));
  }
  return o;
}

// --memory-limit in bytes, or `if_not_given`: -1 for a job (its file's settings decide),
// 0 for SQL (the default, 80% of RAM; a negative limit is unlimited for ExecContext).
Result<int64_t> MemoryLimit(const Common& c, int64_t if_not_given) {
  if (c.memory_limit.empty()) return if_not_given;
  return sluice::ParseByteSize(c.memory_limit);
}

int Fail(const Status& st) {
  std::string msg = st.message();
  if (st.IsCancelled() && sluice::StopSignals() > 0) {
    msg = sluice::StopSignals() > 1
              ? "interrupted: aborted by a second stop signal"
              : "interrupted: stopped by a signal (nothing written)";
  }
  // One line: the first line of the message, plus any caret context below it.
  std::fprintf(stderr, "error: %s\n", msg.c_str());
  return 1;
}

// Standard output as an Arrow stream. (Opening /dev/stdout would truncate a redirected
// file, and Arrow's fd stream writes at its own offset, over what is already there.)
class StdoutStream : public arrow::io::OutputStream {
 public:
  Status Write(const void* data, int64_t nbytes) override {
    if (std::fwrite(data, 1, static_cast<size_t>(nbytes), stdout) !=
        static_cast<size_t>(nbytes)) {
      return Status::IOError("cannot write to standard output");
    }
    position_ += nbytes;
    return Status::OK();
  }
  Status Flush() override {
    return std::fflush(stdout) == 0 ? Status::OK()
                                    : Status::IOError("cannot flush standard output");
  }
  Status Close() override {
    closed_ = true;
    return Flush();
  }
  bool closed() const override { return closed_; }
  Result<int64_t> Tell() const override { return position_; }

 private:
  int64_t position_ = 0;
  bool closed_ = false;
};

bool LooksLikeJobFile(const std::string& s) {
  auto ext = fs::path(s).extension().string();
  return (ext == ".yaml" || ext == ".yml") && fs::exists(s);
}

// --table name=path registers a file under a name for SQL.
Status RegisterTables(sluice::job::Catalog* catalog,
                      const std::vector<std::string>& tables) {
  for (const auto& t : tables) {
    auto eq = t.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::Invalid("--table expects NAME=PATH, got '", t, "'");
    }
    sluice::connector::SourceSpec spec;
    spec.name = t.substr(0, eq);
    spec.path = t.substr(eq + 1);
    ARROW_RETURN_NOT_OK(catalog->OpenInput(spec));
  }
  return Status::OK();
}

// The summary line of a run that read the catalog's inputs.
std::string Summary(const sluice::job::Catalog& catalog, int64_t rows_out, double seconds,
                    sluice::exec::ExecContext& ctx,
                    const std::string& late_rows_file = "") {
  sluice::job::RunSummary s;
  s.late_rows_file = late_rows_file;
  sluice::job::AddInputStats(catalog, &s);
  s.rows_out = rows_out;
  s.seconds = seconds;
  s.peak_memory = ctx.budget()->peak();
  s.spilled_bytes = ctx.spilled_bytes();
  s.rows_late = ctx.progress().rows_late.load();
  s.rows_without_time = ctx.progress().rows_without_time.load();
  s.peak_rss = sluice::PeakRss();
  return sluice::job::FormatSummary(s);
}

// The output format: --format, else from --output's extension, else table on a
// terminal and csv otherwise.
std::string ChooseFormat(const std::string& format, const std::string& output) {
  if (!format.empty()) return format;
  if (!output.empty()) {
    auto f = sluice::connector::FileFormatFromPath(output);
    if (!f.ok()) return "csv";
    switch (*f) {
      case sluice::connector::FileFormat::kParquet:
        return "parquet";
      case sluice::connector::FileFormat::kCsv:
        return "csv";
      case sluice::connector::FileFormat::kJsonLines:
        return "json";
      case sluice::connector::FileFormat::kArrowIpc:
        return "arrow";
      case sluice::connector::FileFormat::kKafka:
        return "csv";  // never implied by a file name
    }
  }
  return isatty(fileno(stdout)) ? "table" : "csv";
}

// Prints a query's rows on standard output as `format` (table, csv or json).
Status PrintRows(const arrow::Table& table, const std::string& format) {
  if (format == "table") {
    std::fputs(sluice::job::FormatTable(table).c_str(), stdout);
    return Status::OK();
  }
  ARROW_ASSIGN_OR_RAISE(auto f, sluice::connector::ParseFileFormat(format));
  if (f == sluice::connector::FileFormat::kParquet ||
      f == sluice::connector::FileFormat::kArrowIpc) {
    return Status::Invalid("--format ", format, " needs --output PATH");
  }
  sluice::connector::WriteOptions wo;
  wo.format = f;
  ARROW_ASSIGN_OR_RAISE(
      auto writer, sluice::connector::OpenBatchWriter(std::make_shared<StdoutStream>(),
                                                      table.schema(), wo));
  arrow::TableBatchReader reader(table);
  std::shared_ptr<arrow::RecordBatch> batch;
  while (reader.ReadNext(&batch).ok() && batch) {
    ARROW_RETURN_NOT_OK(writer->Write(*batch));
  }
  return writer->Close();
}

// Runs SQL statements one after another against one catalog and session: a query's
// rows are printed (or, for a single query, written to --output), other statements
// report on stderr, and both are flushed as each statement finishes.
class SqlRunner {
 public:
  SqlRunner(const Common& common, std::string format, std::string output,
            const sluice::exec::ExecOptions& options)
      : common_(common),
        format_(std::move(format)),
        output_(std::move(output)),
        ctx_(options),
        session_(&catalog_, &ctx_) {
    if (!common.late_rows.empty()) {
      late_rows_ = std::make_unique<sluice::job::LateRowsFile>(common.late_rows);
      ctx_.set_late_rows(late_rows_.get());
    }
  }

  Status Open(const std::vector<std::string>& tables) {
    if (late_rows_) ARROW_RETURN_NOT_OK(late_rows_->Open());
    return RegisterTables(&catalog_, tables);
  }

  /// Runs the statements of `text`. In a script (`script`), errors say which
  /// statement and line failed.
  Status Run(const std::string& text, bool script) {
    ARROW_ASSIGN_OR_RAISE(auto statements, sluice::sql::SplitStatements(text));
    for (const auto& stmt : statements) {
      ++statement_;
      Status st = RunOne(stmt.text);
      if (!st.ok() && script) {
        int line = 1 + static_cast<int>(
                           std::count(text.begin(), text.begin() + stmt.offset, '\n'));
        return st.WithMessage(
            fmt::format("statement {} (line {}): {}", statement_, line, st.message()));
      }
      ARROW_RETURN_NOT_OK(st);
    }
    return Status::OK();
  }

  /// Closes the inputs and prints the summary line (unless quiet).
  Status Finish(std::chrono::steady_clock::time_point start) {
    if (late_rows_) ARROW_RETURN_NOT_OK(late_rows_->Close());
    ARROW_RETURN_NOT_OK(catalog_.CloseInputs());
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!common_.quiet) {
      std::fflush(stdout);
      std::fprintf(
          stderr, "%s\n",
          Summary(catalog_, rows_out_, secs, ctx_, late_rows_ ? late_rows_->path() : "")
              .c_str());
    }
    return Status::OK();
  }

 private:
  Status RunOne(const std::string& text) {
    ARROW_ASSIGN_OR_RAISE(auto planned, sluice::sql::PlanStatement(text, &catalog_));
    bool progress = !common_.quiet && sluice::job::StderrIsTerminal();
    sluice::job::ProgressBar bar(&ctx_, progress);
    if (planned.kind == sluice::sql::StatementKind::kQuery && !output_.empty()) {
      auto f = sluice::connector::ParseFileFormat(format_);
      if (!f.ok())
        return Status::Invalid(
            "--format must be csv, json, parquet or arrow with --output");
      sluice::connector::WriteOptions wo;
      wo.format = *f;
      wo.path = output_;
      auto rows = sluice::job::WriteQuery(planned.plan, &ctx_, wo);
      bar.Stop();
      ARROW_RETURN_NOT_OK(rows.status());
      rows_out_ += *rows;
      return Status::OK();
    }
    auto result = session_.Execute(planned);
    bar.Stop();
    ARROW_RETURN_NOT_OK(result.status());
    if (result->rows) {
      rows_out_ += result->rows->num_rows();
      ARROW_RETURN_NOT_OK(PrintRows(*result->rows, format_));
    } else if (!result->text.empty()) {
      std::fputs(result->text.c_str(), stdout);
    } else {
      rows_out_ += result->affected;
      if (!common_.quiet) std::fprintf(stderr, "%s\n", result->message.c_str());
    }
    std::fflush(stdout);
    std::fflush(stderr);
    return Status::OK();
  }

  const Common& common_;
  std::string format_, output_;
  sluice::exec::ExecContext ctx_;
  sluice::job::Catalog catalog_;
  sluice::job::SqlSession session_;
  std::unique_ptr<sluice::job::LateRowsFile> late_rows_;  // --late-rows
  int64_t rows_out_ = 0;
  int statement_ = 0;
};

// Runs the statements of `text` in order. A single query may write to --output; in a
// script, each query's rows are printed and other statements report on stderr.
int RunSql(const std::string& text, const std::string& format_in,
           const std::string& output, const std::vector<std::string>& tables,
           const Common& common) {
  auto start = std::chrono::steady_clock::now();
  auto limit = MemoryLimit(common, 0);
  if (!limit.ok()) return Fail(limit.status());
  auto statements = sluice::sql::SplitStatements(text);
  if (!statements.ok()) return Fail(statements.status());
  if (statements->empty()) return Fail(Status::Invalid("no SQL statement given"));
  const bool script = statements->size() > 1;
  if (script && !output.empty()) {
    return Fail(Status::Invalid("--output takes the result of one query, but ",
                                statements->size(), " statements were given"));
  }
  auto options = SqlExecOptions(common, *limit);
  if (!options.ok()) return Fail(options.status());
  SqlRunner runner(common, ChooseFormat(format_in, output), output, *options);
  if (auto st = runner.Open(tables); !st.ok()) return Fail(st);
  if (auto st = runner.Run(text, script); !st.ok()) return Fail(st);
  if (auto st = runner.Finish(start); !st.ok()) return Fail(st);
  return 0;
}

// `sluice sql -f -`: reads statements from standard input and runs each as soon as its
// terminating ';' has arrived (a program driving sluice through a pipe sees each
// answer before it sends the next statement). What is left at the end of the input
// runs as a last statement.
int RunSqlFromStdin(const std::string& format_in, const std::vector<std::string>& tables,
                    const Common& common) {
  auto start = std::chrono::steady_clock::now();
  auto limit = MemoryLimit(common, 0);
  if (!limit.ok()) return Fail(limit.status());
  auto options = SqlExecOptions(common, *limit);
  if (!options.ok()) return Fail(options.status());
  SqlRunner runner(common, ChooseFormat(format_in, ""), "", *options);
  if (auto st = runner.Open(tables); !st.ok()) return Fail(st);
  std::string pending, line;
  int pending_line = 1;
  auto run_pending = [&](size_t n) {
    // Newlines in front of the statements keep the lines in errors those of the input.
    std::string text = std::string(pending_line - 1, '\n') + pending.substr(0, n);
    Status st = runner.Run(text, true);
    pending_line = 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));
    pending.erase(0, n);
    return st;
  };
  while (std::getline(std::cin, line)) {
    pending += line;
    pending += '\n';
    size_t n = sluice::sql::CompleteStatementsLength(pending);
    if (n == 0) continue;
    if (auto st = run_pending(n); !st.ok()) return Fail(st);
  }
  if (std::cin.bad()) return Fail(Status::IOError("cannot read standard input"));
  if (pending.find_first_not_of(" \t\r\n") != std::string::npos) {
    if (auto st = run_pending(pending.size()); !st.ok()) return Fail(st);
  }
  if (auto st = runner.Finish(start); !st.ok()) return Fail(st);
  return 0;
}

int RunJobCommand(const std::string& path, const std::vector<std::string>& sets,
                  const Common& common, bool explain, bool analyze) {
  std::vector<std::pair<std::string, std::string>> overrides;
  for (const auto& s : sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail(Status::Invalid("--set expects KEY=VALUE, got '", s, "'"));
    }
    overrides.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  auto spec = sluice::job::LoadJob(path, overrides);
  if (!spec.ok()) return Fail(spec.status());
  auto limit = MemoryLimit(common, -1);
  if (!limit.ok()) return Fail(limit.status());
  sluice::job::RunOptions ro;
  ro.threads = common.threads > 0 ? common.threads : -1;
  ro.memory_limit = *limit;
  ro.spill_directory = common.spill_dir;
  ro.late_rows_path = common.late_rows;
  if (!common.state_ttl.empty()) {
    auto ttl = sluice::ParseDurationMicros(common.state_ttl, "--state-ttl");
    if (!ttl.ok()) return Fail(ttl.status());
    ro.state_ttl_us = *ttl;
  }
  ro.progress = !common.quiet && sluice::job::StderrIsTerminal();
  ro.explain = explain;
  ro.analyze = analyze;
  auto summary = sluice::job::RunJob(*spec, ro);
  if (!summary.ok()) return Fail(summary.status());
  if (!common.quiet && !(explain && !analyze)) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s\n", sluice::job::FormatSummary(*summary).c_str());
  }
  return 0;
}

int ExplainSql(const std::string& query, const std::vector<std::string>& tables,
               bool analyze, const Common& common) {
  sluice::job::Catalog catalog;
  if (auto st = RegisterTables(&catalog, tables); !st.ok()) return Fail(st);
  // The script statement EXPLAIN [ANALYZE] query, run by a session of its own.
  sluice::sql::PlannedStatement statement;
  statement.kind = sluice::sql::StatementKind::kExplain;
  statement.analyze = analyze;
  auto plan = sluice::sql::PlanQuery(query, &catalog);
  if (!plan.ok()) return Fail(plan.status());
  statement.plan = *plan;
  auto limit = MemoryLimit(common, 0);
  if (!limit.ok()) return Fail(limit.status());
  auto options = SqlExecOptions(common, *limit);
  if (!options.ok()) return Fail(options.status());
  sluice::exec::ExecContext ctx(*options);
  sluice::job::SqlSession session(&catalog, &ctx);
  auto start = std::chrono::steady_clock::now();
  auto result = session.Execute(statement);
  if (!result.ok()) return Fail(result.status());
  std::fputs(result->text.c_str(), stdout);
  if (analyze) {
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (auto st = catalog.CloseInputs(); !st.ok()) return Fail(st);
    std::fprintf(stderr, "%s\n", Summary(catalog, result->affected, secs, ctx).c_str());
  }
  return 0;
}

int Schema(const std::string& path, const std::string& format) {
  sluice::connector::SourceSpec spec;
  spec.name = path;
  spec.path = path;
  spec.format = format;
  auto input = sluice::connector::OpenInputTable(spec);
  if (!input.ok()) return Fail(input.status());
  std::printf("%s\n", (*input)->Describe().c_str());
  auto schema = (*input)->schema();
  size_t w = 4;
  for (const auto& f : schema->fields()) w = std::max(w, f->name().size());
  for (const auto& f : schema->fields()) {
    std::printf("  %-*s  %s%s\n", static_cast<int>(w), f->name().c_str(),
                f->type()->ToString().c_str(), f->nullable() ? "" : " not null");
  }
  // Parquet: rows and row groups per file.
  std::error_code ec;
  std::vector<std::string> files;
  auto expanded = sluice::ExpandPaths(path);
  if (expanded.ok()) files = *expanded;
  int64_t total_rows = 0, total_groups = 0;
  bool parquet = false;
  for (const auto& f : files) {
    if (fs::path(f).extension() != ".parquet") continue;
    parquet = true;
    auto file = arrow::io::ReadableFile::Open(f);
    if (!file.ok()) continue;
    try {
      auto md = parquet::ParquetFileReader::Open(*file)->metadata();
      total_rows += md->num_rows();
      total_groups += md->num_row_groups();
    } catch (const std::exception&) {
    }
  }
  if (parquet) {
    std::printf("rows: %lld  row groups: %lld  files: %zu\n",
                static_cast<long long>(total_rows), static_cast<long long>(total_groups),
                files.size());
  } else if ((*input)->EstimatedRows()) {
    std::printf(
        "files: %zu  size: %s (types inferred from a sample; override with types: or "
        "columns:)\n",
        files.size(),
        sluice::FormatBytes((*input)->EstimatedBytes().value_or(0)).c_str());
  }
  return 0;
}

int Generate(double scale, const std::string& out, uint64_t seed, int threads,
             bool quiet) {
  sluice::generator::EcommerceOptions o;
  o.scale = scale;
  o.out_dir = out;
  o.seed = seed;
  o.threads = threads;
  bool progress = !quiet && sluice::job::StderrIsTerminal();
  auto start = std::chrono::steady_clock::now();
  if (progress) {
    o.progress = [start](int64_t done, int64_t total) {
      double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (secs < 1) return;
      std::fprintf(stderr, "\r\033[Kgenerating %lld / %lld rows (%.0f%%) %.1fs",
                   static_cast<long long>(done), static_cast<long long>(total),
                   100.0 * done / std::max<int64_t>(1, total), secs);
    };
  }
  auto r = sluice::generator::GenerateEcommerce(o);
  if (progress) std::fprintf(stderr, "\r\033[K");
  if (!r.ok()) return Fail(r.status());
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!quiet) {
    std::fprintf(
        stderr,
        "generated %lld orders, %lld users (%lld malformed), %lld products in %s · %s · "
        "%.2f s\n",
        static_cast<long long>(r->orders), static_cast<long long>(r->users),
        static_cast<long long>(r->bad_user_rows), static_cast<long long>(r->products),
        out.c_str(), sluice::FormatBytes(r->bytes_written).c_str(), secs);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Sluice: batch and stream data processing (SQL, YAML jobs, Parquet/CSV/JSON)"};
  app.set_version_flag("--version", std::string("sluice ") + SLUICE_VERSION);
  app.require_subcommand(1);
  // Ctrl-C / SIGTERM: the first stops streams gracefully, the second aborts.
  sluice::InstallStopHandlers();

  Common common;
  // run
  auto* run = app.add_subcommand("run", "Run a job file (sources, SQL steps, sinks)");
  std::string job_path;
  std::vector<std::string> sets;
  bool run_explain = false;
  run->add_option("job", job_path, "Job file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  run->add_option("--set", sets,
                  "Set a variable (name=value) or a job value (settings.threads=2)");
  run->add_flag("--explain", run_explain, "Print the plans instead of running");
  AddCommon(run, &common);

  // sql
  auto* sql = app.add_subcommand(
      "sql", "Run a SQL query, or a script of statements separated by ';'");
  std::string query, format, output, script_path;
  std::vector<std::string> tables;
  auto* query_opt = sql->add_option("query", query, "The query or statements");
  auto* file_opt =
      sql->add_option("--file,-f", script_path,
                      "Read the SQL from this file; '-' runs statements from standard "
                      "input as each one's ';' arrives")
          ->check(CLI::ExistingFile | CLI::IsMember({"-"}));
  query_opt->excludes(file_opt);
  sql->add_option(
         "--format", format,
         "table (default on a terminal), csv (default otherwise), json, parquet, arrow")
      ->check(CLI::IsMember({"table", "csv", "json", "jsonl", "parquet", "arrow"}));
  sql->add_option("--output,-o", output, "Write the result to this file (atomically)");
  // One value per --table, so a query after it stays the positional argument.
  sql->add_option("--table", tables,
                  "Register a file as a table: NAME=PATH (format from the extension)")
      ->allow_extra_args(false);
  AddCommon(sql, &common);

  // explain
  auto* explain = app.add_subcommand("explain", "Show the plans of a query or job file");
  std::string target;
  bool analyze = false;
  explain->add_option("target", target, "A SQL query or a job file (.yaml)")->required();
  explain->add_flag("--analyze", analyze,
                    "Run it and show rows, time and peak memory per operator");
  explain->add_option("--table", tables, "Register a file as a table: NAME=PATH")
      ->allow_extra_args(false);
  explain->add_option("--set", sets, "Job variables, as for run");
  AddCommon(explain, &common);

  // schema
  auto* schema = app.add_subcommand(
      "schema",
      "Show a file's schema (inferred types for CSV/JSON), rows and row groups");
  std::string schema_path, schema_format;
  schema->add_option("file", schema_path, "File or glob")->required();
  schema->add_option("--format", schema_format,
                     "parquet, csv, json or arrow (default: from the extension)");

  // generate
  auto* gen = app.add_subcommand("generate", "Generate synthetic data sets");
  gen->require_subcommand(1);
  auto* ecommerce = gen->add_subcommand(
      "ecommerce",
      "Orders (Parquet), users (CSV, with some malformed rows), products (Parquet)");
  double scale = 0.01;
  std::string out_dir = "data/ecommerce";
  uint64_t seed = 42;
  int gen_threads = 0;
  bool gen_quiet = false;
  ecommerce->add_option("--scale", scale, "1 = 10 million orders (default 0.01)");
  ecommerce->add_option("--out", out_dir, "Output directory (default data/ecommerce)");
  ecommerce->add_option("--seed", seed, "Random seed (default 42)");
  ecommerce->add_option("--threads", gen_threads,
                        "Threads (default: all cores; output does not depend on it)");
  ecommerce->add_flag("--quiet,-q", gen_quiet, "No progress and no summary");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Usage errors in the same one-line form as every other error.
    std::fprintf(stderr, "error: %s (see sluice --help)\n", e.what());
    return 1;
  }

  if (run->parsed()) return RunJobCommand(job_path, sets, common, run_explain, false);
  if (sql->parsed()) {
    if (script_path == "-") {
      if (!output.empty()) {
        return Fail(Status::Invalid("--output takes the result of one query, not -f -"));
      }
      return RunSqlFromStdin(format, tables, common);
    }
    if (!script_path.empty()) {
      std::ifstream in(script_path, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      if (!in.good() && !in.eof()) {
        return Fail(Status::IOError("cannot read ", script_path));
      }
      query = text.str();
    } else if (query_opt->count() == 0) {
      return Fail(Status::Invalid("sluice sql needs a query or --file SCRIPT"));
    }
    return RunSql(query, format, output, tables, common);
  }
  if (explain->parsed()) {
    if (LooksLikeJobFile(target))
      return RunJobCommand(target, sets, common, true, analyze);
    return ExplainSql(target, tables, analyze, common);
  }
  if (schema->parsed()) return Schema(schema_path, schema_format);
  if (ecommerce->parsed()) return Generate(scale, out_dir, seed, gen_threads, gen_quiet);
  return 0;
}
