#pragma once
// Names a query can refer to: registered tables (job sources, in-memory data, earlier
// steps) and the table functions read_parquet / read_csv / read_json / read_arrow.
// Shared by the job runner, the `sluice sql` command and the C++ API's Session.
//
// Not thread-safe: one catalog per session/job, used while planning.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sluice/connector/input_table.h"
#include "sluice/sql/sql_planner.h"

namespace sluice::job {

class Catalog : public sql::Catalog {
 public:
  /// Registers a plan under a name (case-insensitive). Replaces an earlier one.
  void Register(const std::string& name, plan::Plan plan);
  /// Registers an input (its rows and rejects are reported in summaries).
  void RegisterInput(const std::string& name,
                     std::shared_ptr<connector::InputTable> input);
  /// Opens an input as a source spec says and registers it.
  Status OpenInput(const connector::SourceSpec& spec);

  bool Has(const std::string& name) const;
  /// Removes a name; false if it was not registered.
  bool Unregister(const std::string& name);

  Result<plan::Plan> FindTable(const std::string& name) override;
  Result<plan::Plan> CallTableFunction(
      const std::string& name, const std::vector<std::shared_ptr<arrow::Scalar>>& args,
      const std::vector<std::pair<std::string, std::shared_ptr<arrow::Scalar>>>&
          named_args) override;
  Result<plan::Plan> SingleRow() override;

  /// Every input opened so far (by sources and by table functions).
  const std::vector<std::pair<std::string, std::shared_ptr<connector::InputTable>>>&
  inputs() const {
    return inputs_;
  }
  /// Flushes rejects files of all inputs.
  Status CloseInputs();

 private:
  std::map<std::string, plan::Plan> tables_;
  std::vector<std::pair<std::string, std::shared_ptr<connector::InputTable>>> inputs_;
};

}  // namespace sluice::job
