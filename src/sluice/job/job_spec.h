#pragma once
// Job files (YAML): named sources, SQL steps, sinks, settings. See docs/jobs.md.
//
//   name: daily_report
//   vars: {data: data/ecommerce, out: out/report}     # ${data} anywhere below
//   settings: {threads: 0, memory_limit: 80%}
//   sources:
//     users: {format: csv, path: "${data}/users.csv", on_error: reject,
//             rejects: "${out}/users.rejects.jsonl", options: {header: true}}
//   steps:
//     active: SELECT ... FROM users ...                 # or {sql: ..., materialize:
//     true}
//   sinks:
//     - {from: active, format: parquet, path: "${out}/active.parquet"}
//     - {from: active, format: terminal, title: "Active users", max_rows: 20}
//
// Every key is checked: an unknown key, a missing required key or a value of the
// wrong type is an error that names the file and line.
#include <map>
#include <string>
#include <vector>

#include "sluice/base/status.h"
#include "sluice/connector/input_table.h"
#include "sluice/connector/writer/file_writer.h"

namespace sluice::job {

struct StepSpec {
  std::string name;
  std::string sql;
  int line = 0;
  /// "auto" (materialize when used more than once), "true" or "false".
  std::string materialize = "auto";
};

struct SinkSpec {
  std::string from;
  std::string format;  // parquet | csv | jsonl | arrow | terminal
  connector::WriteOptions write;
  std::string title;
  int64_t max_rows = 40;
  int line = 0;
};

struct JobSettings {
  int threads = 0;
  int64_t memory_limit = 0;     // 0 = default
  std::string spill_directory;  // empty = default (exec_context.h)
  int64_t state_ttl_us = -1;    // regular stream joins' state TTL; < 0: the whole run
  std::string late_rows;        // the late-data sink's path (late_rows_file.h), if any
};

struct JobSpec {
  std::string path;
  std::string name;
  JobSettings settings;
  std::vector<connector::SourceSpec> sources;
  std::vector<StepSpec> steps;
  std::vector<SinkSpec> sinks;
};

/// Parses a job file. `overrides` are the --set key=value pairs: a plain key sets a
/// variable (${key}); a dotted key (settings.threads) replaces that value in the file.
Result<JobSpec> LoadJob(
    const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& overrides = {});

/// Same, from text (`path` is used in messages only).
Result<JobSpec> ParseJob(
    const std::string& text, const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& overrides = {});

}  // namespace sluice::job
