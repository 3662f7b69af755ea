#include "sluice/sql/sql_planner.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <map>

#include "sluice/plan/plan_builder.h"

namespace sluice::sql {
namespace {

class SchemaSource : public plan::TableSource {
 public:
  SchemaSource(std::string name, std::shared_ptr<arrow::Schema> schema)
      : name_(std::move(name)), schema_(std::move(schema)) {}
  std::string Describe() const override { return name_; }
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }

 private:
  std::string name_;
  std::shared_ptr<arrow::Schema> schema_;
};

class TestCatalog : public Catalog {
 public:
  TestCatalog() {
    tables_["t"] = arrow::schema({arrow::field("a", arrow::int32()), arrow::field("b", arrow::int32()),
                                  arrow::field("s", arrow::utf8()),
                                  arrow::field("d", arrow::decimal128(10, 2))});
    tables_["u"] = arrow::schema({arrow::field("a", arrow::int32()), arrow::field("c", arrow::int64())});
  }
  Result<plan::Plan> FindTable(const std::string& name) override {
    auto it = tables_.find(name);
    if (it == tables_.end()) return plan::Plan();
    return plan::MakeScan(std::make_shared<SchemaSource>(name, it->second));
  }
  Result<plan::Plan> CallTableFunction(
      const std::string& name, const std::vector<std::shared_ptr<arrow::Scalar>>& args,
      const std::vector<std::pair<std::string, std::shared_ptr<arrow::Scalar>>>& named) override {
    if (name != "read_csv") return plan::Plan();
    std::string d = name + "(";
    for (const auto& a : args) d += a->ToString() + ";";
    for (const auto& [k, v] : named) d += k + "=" + v->ToString() + ":" + v->type->ToString() + ";";
    d += ")";
    return plan::MakeScan(std::make_shared<SchemaSource>(
        d, arrow::schema({arrow::field("x", arrow::int64()), arrow::field("y", arrow::utf8())})));
  }
  Result<plan::Plan> SingleRow() override {
    return plan::MakeScan(std::make_shared<SchemaSource>("one_row", arrow::schema({})));
  }

 private:
  std::map<std::string, std::shared_ptr<arrow::Schema>> tables_;
};

std::string Explain(const std::string& sql) {
  TestCatalog catalog;
  auto r = PlanQuery(sql, &catalog);
  if (!r.ok()) return "ERROR: " + r.status().ToString();
  return plan::ExplainPlan(*r) + "--\n" + (*r)->schema->ToString();
}

TEST(SqlScratch, Print) {
  const char* q = std::getenv("Q");
  if (q) std::cout << Explain(q) << std::endl;
}

}  // namespace
}  // namespace sluice::sql
