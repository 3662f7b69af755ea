#pragma once
// Runs a job: opens its sources, plans its steps, and runs each sink.
//
// Steps are views: a step used by one consumer is planned into it; a step used by two
// or more (steps or sinks) is computed once and kept in memory (accounted against the
// memory limit) unless it says materialize: false. One that does not fit the limit is
// computed again into an Arrow IPC file in the job's spill directory (removed with the
// job) and read from there.
#include <functional>
#include <string>
#include <vector>

#include "sluice/job/job_spec.h"

namespace sluice::job {

struct RunOptions {
  int threads = -1;             // -1: the job's setting
  int64_t memory_limit = -1;    // -1: the job's setting
  std::string spill_directory;  // empty: the job's setting
  int64_t state_ttl_us = -1;    // < 0: the job's setting
  std::string late_rows_path;   // empty: the job's setting (late_rows_file.h)
  bool progress = false;        // progress bar on stderr
  bool explain = false;         // print plans instead of running
  bool analyze = false;         // run and print plans with per-operator figures
  /// Where terminal sinks and plans are printed.
  std::function<void(const std::string&)> print;
};

struct RunSummary {
  int64_t rows_in = 0;        // rows read from sources (good + bad)
  int64_t rows_rejected = 0;  // bad rows skipped or rejected
  int64_t rows_out = 0;       // rows written by sinks
  double seconds = 0;
  int64_t peak_memory = 0;        // peak accounted memory (operators' state)
  int64_t peak_rss = 0;           // peak resident memory of the process
  int64_t spilled_bytes = 0;      // written to spill files
  int64_t rows_late = 0;          // dropped: every window they belonged to had fired
  int64_t rows_without_time = 0;  // dropped by event-time windows: no event time
  std::vector<std::string> rejects_files;
  std::vector<std::string> files_written;
  std::string late_rows_file;  // where late rows went, if the job named a file
};

class Catalog;

/// Adds the rows read and rejected by the catalog's inputs, and their rejects files.
void AddInputStats(const Catalog& catalog, RunSummary* summary);

/// The one-line summary: "rows in 1,000,200 (rejected 200) · out 45 · 1.23 s · peak 310
/// MiB".
std::string FormatSummary(const RunSummary& summary);

Result<RunSummary> RunJob(const JobSpec& spec, const RunOptions& options);

}  // namespace sluice::job
