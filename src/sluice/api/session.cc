#include "sluice/api/session.h"

#include <set>

#include "sluice/exec/exec_context.h"
#include "sluice/exec/scannable.h"
#include "sluice/plan/plan_builder.h"
#include "sluice/sql/sql_planner.h"

namespace sluice {

namespace {

std::string CharText(char c) { return c == '\0' ? "none" : std::string(1, c); }

Result<std::string> ColumnText(const ColumnTypes& columns, const char* option) {
  std::string out;
  for (const auto& [name, type] : columns) {
    if (name.empty() || type.empty()) {
      return Status::Invalid(option, ": every column needs a name and a type");
    }
    if (name.find_first_of(" \t,:") != std::string::npos) {
      return Status::Invalid(
          option, ": column name '", name,
          "' contains a space, comma or colon; rename the column after reading");
    }
    out += (out.empty() ? "" : ", ") + name + " " + type;
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<Session>> Session::Make(SessionOptions options) {
  if (options.threads < 0)
    return Status::Invalid("SessionOptions.threads must be >= 0, got ", options.threads);
  if (options.batch_rows <= 0) {
    return Status::Invalid("SessionOptions.batch_rows must be > 0, got ",
                           options.batch_rows);
  }
  return std::shared_ptr<Session>(new Session(options));
}

Frame Session::Open(const std::string& format, const std::string& path,
                    std::map<std::string, std::string> options, OnError on_error,
                    const std::string& rejects) {
  if (path.empty())
    return Frame::Error(Status::Invalid("read_", format, "(): the path is empty"));
  connector::SourceSpec spec;
  spec.name = path;
  spec.format = format;
  spec.path = path;
  spec.options = std::move(options);
  spec.on_error = OnErrorName(on_error);
  spec.rejects_path = rejects;
  auto input = connector::OpenInputTable(spec);
  if (!input.ok()) return Frame::Error(input.status());
  {
    std::lock_guard<std::mutex> lock(catalog_mu_);
    inputs_.emplace_back(path, *input);
  }
  return Frame(shared_from_this(), plan::MakeScan(*input));
}

Frame Session::read_parquet(const std::string& path, const ParquetReadOptions& options) {
  std::map<std::string, std::string> o;
  o["hive_partitioning"] = options.hive_partitioning ? "true" : "false";
  return Open("parquet", path, std::move(o), OnError::kFail, "");
}

Frame Session::read_csv(const std::string& path, const CsvReadOptions& options) {
  std::map<std::string, std::string> o;
  o["header"] = options.header ? "true" : "false";
  o["delimiter"] = CharText(options.delimiter);
  o["quote"] = CharText(options.quote);
  if (options.escape != '\0') o["escape"] = CharText(options.escape);
  std::string nulls;
  for (size_t i = 0; i < options.null_values.size(); ++i) {
    if (options.null_values[i].find(',') != std::string::npos) {
      return Frame::Error(Status::Invalid("read_csv(): null value '",
                                          options.null_values[i], "' contains a comma"));
    }
    nulls += (i > 0 ? "," : "") + options.null_values[i];
  }
  o["null_values"] = nulls;
  if (!options.columns.empty()) {
    auto text = ColumnText(options.columns, "read_csv() columns");
    if (!text.ok()) return Frame::Error(text.status());
    o["columns"] = *text;
  }
  if (!options.types.empty()) {
    auto text = ColumnText(options.types, "read_csv() types");
    if (!text.ok()) return Frame::Error(text.status());
    o["types"] = *text;
  }
  if (!options.timestamp_format.empty()) o["timestamp_format"] = options.timestamp_format;
  o["compression"] = options.compression;
  o["infer_rows"] = std::to_string(options.infer_rows);
  return Open("csv", path, std::move(o), options.on_error, options.rejects);
}

Frame Session::read_json(const std::string& path, const JsonReadOptions& options) {
  std::map<std::string, std::string> o;
  if (!options.columns.empty()) {
    auto text = ColumnText(options.columns, "read_json() columns");
    if (!text.ok()) return Frame::Error(text.status());
    o["columns"] = *text;
  }
  if (!options.types.empty()) {
    auto text = ColumnText(options.types, "read_json() types");
    if (!text.ok()) return Frame::Error(text.status());
    o["types"] = *text;
  }
  o["compression"] = options.compression;
  o["infer_rows"] = std::to_string(options.infer_rows);
  return Open("json", path, std::move(o), options.on_error, options.rejects);
}

Frame Session::read_arrow(const std::string& path) {
  return Open("arrow", path, {}, OnError::kFail, "");
}

Frame Session::from_arrow(std::shared_ptr<arrow::Table> table, const std::string& name) {
  if (table == nullptr)
    return Frame::Error(Status::Invalid("from_arrow(): the table is null"));
  auto source = std::make_shared<exec::InMemoryTable>(std::move(table), name);
  return Frame(shared_from_this(), plan::MakeScan(source));
}

Frame Session::sql(const std::string& query) {
  Result<plan::Plan> plan;
  {
    std::lock_guard<std::mutex> lock(catalog_mu_);
    plan = sql::PlanQuery(query, &catalog_);
  }
  if (!plan.ok()) return Frame::Error(plan.status());
  return Frame(shared_from_this(), std::move(*plan));
}

Status Session::Register(const std::string& name, const Frame& frame) {
  ARROW_RETURN_NOT_OK(frame.status());
  if (frame.session().get() != this) {
    return Status::Invalid("Register('", name,
                           "'): the frame belongs to another session");
  }
  if (name.empty()) return Status::Invalid("Register(): the name is empty");
  std::lock_guard<std::mutex> lock(catalog_mu_);
  catalog_.Register(name, frame.plan());
  return Status::OK();
}

std::vector<InputStats> Session::inputs() const {
  std::lock_guard<std::mutex> lock(catalog_mu_);
  std::vector<InputStats> out;
  auto add = [&](const std::string& name, const connector::InputTable& input) {
    out.push_back(
        InputStats{name, input.rows_read(), input.rows_rejected(), input.rejects_path()});
  };
  for (const auto& [name, input] : inputs_) add(name, *input);
  for (const auto& [name, input] : catalog_.inputs()) add(name, *input);
  return out;
}

Status Session::Run(const plan::Plan& plan,
                    const std::function<Status(exec::ExecContext*)>& fn) {
  std::lock_guard<std::mutex> run_lock(run_mu_);
  exec::ExecOptions exec_options;
  exec_options.threads = options_.threads;
  exec_options.memory_limit = options_.memory_limit;
  exec_options.batch_rows = options_.batch_rows;
  exec::ExecContext ctx(exec_options);
  {
    std::lock_guard<std::mutex> lock(running_mu_);
    running_ = &ctx;
  }
  Status st = fn(&ctx);
  {
    std::lock_guard<std::mutex> lock(running_mu_);
    running_ = nullptr;
  }
  // Publish the rejects files of what was read, also when the query failed: the rows
  // rejected so far are the user's evidence.
  Status closed;
  {
    std::lock_guard<std::mutex> lock(catalog_mu_);
    closed = CloseInputsOf(plan);
  }
  return st.ok() ? closed : st;
}

namespace {

void CollectSources(const plan::Plan& node, std::set<const plan::TableSource*>* out) {
  if (node->kind == plan::NodeKind::kScan) {
    out->insert(static_cast<const plan::ScanNode&>(*node).source.get());
  }
  for (const auto& in : node->inputs) CollectSources(in, out);
}

}  // namespace

Status Session::CloseInputsOf(const plan::Plan& plan) {
  // Only this plan's inputs: a job running beside it keeps its own open (its Kafka
  // offsets are committed when its rows are written, not when another query ends).
  std::set<const plan::TableSource*> read;
  CollectSources(plan, &read);
  Status closed;
  auto close = [&](const std::shared_ptr<connector::InputTable>& input) {
    if (read.count(input.get()) == 0) return;
    Status s = input->Close();
    if (closed.ok() && !s.ok()) closed = s;
  };
  for (const auto& [name, input] : inputs_) close(input);
  for (const auto& [name, input] : catalog_.inputs()) close(input);
  return closed;
}

void Session::StopRunning() {
  std::lock_guard<std::mutex> lock(running_mu_);
  if (running_ != nullptr) running_->RequestStop();
}

void Session::CancelRunning() {
  std::lock_guard<std::mutex> lock(running_mu_);
  if (running_ != nullptr) running_->Cancel();
}

}  // namespace sluice
