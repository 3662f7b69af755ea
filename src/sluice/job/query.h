#pragma once
// Running one logical plan: optimize, build pipelines, execute into a sink.
#include <arrow/table.h>

#include <memory>
#include <string>
#include <vector>

#include "sluice/connector/writer/file_writer.h"
#include "sluice/exec/dictionary_columns.h"
#include "sluice/exec/exec_context.h"
#include "sluice/plan/logical_plan.h"

namespace sluice::job {

/// Optimizes and runs `logical`, returning its rows. With `analyze`, fills in the
/// plan annotated with rows, time and peak memory per operator. `strings`: string
/// columns read dictionary-encoded may stay so, and repeated ones be encoded (a table to
/// keep in memory: exec/dictionary_columns.h); kPlain: exactly the plan's schema.
Result<std::shared_ptr<arrow::Table>> CollectQuery(
    const plan::Plan& logical, exec::ExecContext* ctx, std::string* analyze = nullptr,
    exec::TableStrings strings = exec::TableStrings::kPlain);

/// Optimizes and runs `logical` into files. Returns rows written; `files` receives the
/// files published. On error no file appears under a final name.
Result<int64_t> WriteQuery(const plan::Plan& logical, exec::ExecContext* ctx,
                           const connector::WriteOptions& options,
                           std::vector<std::string>* files = nullptr,
                           std::string* analyze = nullptr);

/// EXPLAIN text: the logical plan, the optimized plan and the pipelines.
Result<std::string> ExplainQuery(const plan::Plan& logical);

}  // namespace sluice::job
