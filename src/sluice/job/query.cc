#include "sluice/job/query.h"

#include <fmt/format.h>

#include "sluice/connector/kafka/kafka_sink.h"
#include "sluice/exec/operators/limit.h"
#include "sluice/exec/physical_planner.h"
#include "sluice/plan/optimizer.h"

namespace sluice::job {

Result<std::shared_ptr<arrow::Table>> CollectQuery(const plan::Plan& logical,
                                                   exec::ExecContext* ctx,
                                                   std::string* analyze,
                                                   exec::TableStrings strings) {
  ARROW_ASSIGN_OR_RAISE(auto optimized, plan::Optimize(logical));
  exec::PhysicalPlan physical;
  auto result = exec::ExecuteToTable(optimized, ctx, &physical, strings);
  if (analyze != nullptr) *analyze = exec::ExplainAnalyze(optimized, physical);
  return result;
}

Result<int64_t> WriteQuery(const plan::Plan& logical, exec::ExecContext* ctx,
                           const connector::WriteOptions& options,
                           std::vector<std::string>* files, std::string* analyze) {
  ARROW_ASSIGN_OR_RAISE(auto optimized, plan::Optimize(logical));
  connector::WriteOptions write_options = options;
  write_options.threads = ctx->threads();
  if (options.format == connector::FileFormat::kKafka) {
    connector::KafkaSinkOptions ko;
    ko.brokers = options.kafka_brokers;
    ko.topic = options.path;
    ko.key_column = options.kafka_key;
    ko.csv_values = options.kafka_csv_values;
    ARROW_ASSIGN_OR_RAISE(auto sink, connector::KafkaSink::Make(optimized->schema, ko));
    ARROW_ASSIGN_OR_RAISE(auto physical, exec::BuildPhysicalPlan(optimized, sink));
    exec::Executor executor(ctx);
    Status st = executor.Run(physical.pipelines);
    if (analyze != nullptr) *analyze = exec::ExplainAnalyze(optimized, physical);
    ARROW_RETURN_NOT_OK(st);
    return sink->rows_written();
  }
  ARROW_ASSIGN_OR_RAISE(auto sink,
                        connector::FileWriteSink::Make(optimized->schema, write_options));
  ARROW_ASSIGN_OR_RAISE(auto physical, exec::BuildPhysicalPlan(optimized, sink));
  exec::Executor executor(ctx);
  Status st = executor.Run(physical.pipelines);
  if (analyze != nullptr) *analyze = exec::ExplainAnalyze(optimized, physical);
  if (!st.ok()) {
    sink->Abort();
    return st;
  }
  if (files != nullptr) *files = sink->files();
  return sink->rows_written();
}

static std::string Pipelines(const exec::PhysicalPlan& physical) {
  std::string out;
  for (size_t i = 0; i < physical.pipelines.size(); ++i) {
    const auto& p = physical.pipelines[i];
    out += fmt::format("  pipeline {}: {}", i + 1, p.source->name());
    for (const auto& op : p.operators) out += " -> " + op->name();
    out += " -> " + p.sink->name() + "\n";
  }
  return out;
}

Result<std::string> ExplainQuery(const plan::Plan& logical) {
  plan::AssignIds(logical);
  std::string out = "Logical plan:\n" + plan::ExplainPlan(logical);
  ARROW_ASSIGN_OR_RAISE(auto optimized, plan::Optimize(logical));
  out += "\nOptimized plan:\n" + plan::ExplainPlan(optimized);
  // The physical plan for display only: a collect sink.
  auto sink = std::make_shared<exec::CollectSink>(optimized->schema);
  ARROW_ASSIGN_OR_RAISE(auto physical, exec::BuildPhysicalPlan(optimized, sink, false,
                                                               /*for_display=*/true));
  out += "\nPhysical plan:\n" + Pipelines(physical);
  return out;
}

}  // namespace sluice::job
