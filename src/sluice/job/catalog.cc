#include "sluice/job/catalog.h"

#include <arrow/table.h>

#include "sluice/base/text.h"
#include "sluice/exec/scannable.h"
#include "sluice/plan/plan_builder.h"

namespace sluice::job {

void Catalog::Register(const std::string& name, plan::Plan plan) {
  tables_[AsciiLower(name)] = std::move(plan);
}

void Catalog::RegisterInput(const std::string& name,
                            std::shared_ptr<connector::InputTable> input) {
  inputs_.emplace_back(name, input);
  Register(name, plan::MakeScan(input));
}

Status Catalog::OpenInput(const connector::SourceSpec& spec) {
  ARROW_ASSIGN_OR_RAISE(auto input, connector::OpenInputTable(spec));
  RegisterInput(spec.name, input);
  return Status::OK();
}

bool Catalog::Unregister(const std::string& name) {
  return tables_.erase(AsciiLower(name)) > 0;
}

bool Catalog::Has(const std::string& name) const {
  return tables_.count(AsciiLower(name)) > 0;
}

Result<plan::Plan> Catalog::FindTable(const std::string& name) {
  auto it = tables_.find(AsciiLower(name));
  if (it == tables_.end()) return plan::Plan();
  return it->second;
}

static Result<std::string> ScalarText(const std::string& what,
                                      const std::shared_ptr<arrow::Scalar>& s) {
  if (!s || !s->is_valid) return Status::Invalid(what, " must not be NULL");
  if (s->type->id() == arrow::Type::LIST) {
    // A list of strings (e.g. null_values => ['', 'NA']): comma-joined.
    const auto& list = static_cast<const arrow::ListScalar&>(*s);
    std::string out;
    for (int64_t i = 0; i < list.value->length(); ++i) {
      ARROW_ASSIGN_OR_RAISE(auto item, list.value->GetScalar(i));
      ARROW_ASSIGN_OR_RAISE(auto text, ScalarText(what, item));
      if (i > 0) out += ",";
      out += text;
    }
    return out;
  }
  if (s->type->id() == arrow::Type::STRING ||
      s->type->id() == arrow::Type::LARGE_STRING) {
    return std::string(static_cast<const arrow::BaseBinaryScalar&>(*s).view());
  }
  return s->ToString();
}

Result<plan::Plan> Catalog::CallTableFunction(
    const std::string& name, const std::vector<std::shared_ptr<arrow::Scalar>>& args,
    const std::vector<std::pair<std::string, std::shared_ptr<arrow::Scalar>>>&
        named_args) {
  // Each table function: the source format it opens and what its one argument is.
  struct TableFunction {
    const char* name;
    const char* format;
    const char* usage;  // after "name() takes "
  };
  static const TableFunction kFunctions[] = {
      {"read_parquet", "parquet", nullptr},
      {"read_csv", "csv", nullptr},
      {"read_csv_auto", "csv", nullptr},
      {"read_json", "json", nullptr},
      {"read_json_auto", "json", nullptr},
      {"read_ndjson", "json", nullptr},
      {"read_arrow", "arrow", nullptr},
      {"read_ipc", "arrow", nullptr},
      {"nexmark", "nexmark",
       "a table name (person, auction or bid), then named options (events => 1000000, "
       "rate => ..., ...)"},
      {"ecommerce", "ecommerce",
       "'orders', then named options (scale => 0.1, events => ..., rate => ...)"},
      {"read_kafka", "kafka",
       "a topic, then named options (brokers => 'host:port', columns => 'a bigint, b "
       "varchar', ...)"},
  };
  const std::string fn = AsciiLower(name);
  const TableFunction* function = nullptr;
  for (const auto& f : kFunctions) {
    if (fn == f.name) function = &f;
  }
  if (function == nullptr) {
    return Status::Invalid(
        "unknown table function '", name,
        "' (read_parquet, read_csv, read_json, read_arrow, read_kafka, nexmark, "
        "ecommerce)");
  }
  connector::SourceSpec spec;
  spec.format = function->format;
  if (args.size() != 1) {
    if (function->usage != nullptr) {
      return Status::Invalid(fn, "() takes ", function->usage);
    }
    return Status::Invalid(
        name, "() takes one path or glob, then named options (name => value)");
  }
  ARROW_ASSIGN_OR_RAISE(spec.path, ScalarText(name + "() path", args[0]));
  spec.name = spec.path;
  for (const auto& [key, value] : named_args) {
    ARROW_ASSIGN_OR_RAISE(auto text, ScalarText(key, value));
    std::string k = AsciiLower(key);
    if (k == "on_error") {
      spec.on_error = text;
    } else if (k == "rejects") {
      spec.rejects_path = text;
    } else {
      spec.options[k] = text;
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto input, connector::OpenInputTable(spec));
  inputs_.emplace_back(spec.path, input);
  return plan::MakeScan(input);
}

Result<plan::Plan> Catalog::SingleRow() {
  auto table = arrow::Table::Make(arrow::schema({}), arrow::ChunkedArrayVector{}, 1);
  return plan::MakeScan(std::make_shared<exec::InMemoryTable>(table, "(one row)"));
}

Status Catalog::CloseInputs() {
  for (auto& [name, input] : inputs_) ARROW_RETURN_NOT_OK(input->Close());
  return Status::OK();
}

}  // namespace sluice::job
