// The nightly e-commerce report (examples/ecommerce/daily_report.yaml) written with the
// C++ Frame API: completed orders joined with products and users, revenue by category,
// by country and the top products, printed as tables.
//
//   sluice generate ecommerce --scale 0.1 --out data/ecommerce
//   build/release/examples/ecommerce_report data/ecommerce
#include <sluice/api.h>

#include <iostream>
#include <string>

#include "sluice/job/table_printer.h"

namespace {

using sluice::col;
using sluice::Frame;
using sluice::lit;
using sluice::Status;

Status Print(const Frame& frame, const std::string& title, int64_t max_rows = 20) {
  ARROW_ASSIGN_OR_RAISE(auto table, frame.collect());
  sluice::job::PrintOptions options;
  options.title = title;
  options.max_rows = max_rows;
  std::cout << sluice::job::FormatTable(*table, options) << "\n";
  return Status::OK();
}

Status Report(const std::string& data) {
  ARROW_ASSIGN_OR_RAISE(auto session, sluice::Session::Make());

  auto orders = session->read_parquet(data + "/orders/*.parquet");
  auto products = session->read_parquet(data + "/products.parquet");
  // users.csv has a few malformed lines on purpose: skip them (and count them below)
  // instead of failing the report.
  sluice::CsvReadOptions users_options;
  users_options.columns = {{"user_id", "bigint"},
                           {"signup_date", "date"},
                           {"country", "varchar"},
                           {"user_type", "varchar"}};
  users_options.on_error = sluice::OnError::kSkip;
  auto users = session->read_csv(data + "/users.csv", users_options);

  auto completed =
      orders.filter(col("status") == "completed")
          .select({"order_id", "user_id", "product_id", "quantity", "amount",
                   sluice::to_timestamp("order_ts").cast("date").alias("order_date")});
  // LEFT JOIN users: orders of users whose line was skipped stay in the totals.
  auto enriched = completed
                      .join(products.select({"product_id", "product_name", "category"}),
                            {"product_id"})
                      .join(users.select({"user_id", "country"}), {"user_id"},
                            sluice::JoinType::kLeft);

  auto totals = enriched.agg(
      {sluice::count().alias("orders"), sluice::sum("amount").alias("revenue"),
       sluice::round(sluice::avg("amount"), 2).alias("avg_order_value"),
       sluice::count_distinct("user_id").alias("customers")});
  auto by_category =
      enriched.group_by({"category"})
          .agg({sluice::sum("amount").alias("revenue"), sluice::count().alias("orders"),
                sluice::round(sluice::avg("amount"), 2).alias("avg_order_value")})
          .sort({col("revenue").desc()});
  auto by_country =
      enriched.group_by({sluice::coalesce({"country", lit("unknown")}).alias("country")})
          .agg({sluice::sum("amount").alias("revenue"), sluice::count().alias("orders")})
          .sort({col("revenue").desc()});
  auto top_products =
      enriched.group_by({"product_id", "product_name", "category"})
          .agg({sluice::count().alias("orders"), sluice::sum("amount").alias("revenue")})
          .sort({col("revenue").desc(), "product_id"})
          .limit(10);

  ARROW_RETURN_NOT_OK(Print(totals, "Completed orders"));
  ARROW_RETURN_NOT_OK(Print(by_category, "Revenue by category"));
  ARROW_RETURN_NOT_OK(Print(by_country, "Revenue by country", 10));
  ARROW_RETURN_NOT_OK(Print(top_products, "Top 10 products by revenue"));

  for (const auto& input : session->inputs()) {
    if (input.rows_rejected > 0) {
      std::cout << input.name << ": " << input.rows_rejected
                << " malformed rows skipped\n";
    }
  }
  return Status::OK();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0]
              << " DATA_DIR   (made by `sluice generate ecommerce --out DATA_DIR`)\n";
    return 2;
  }
  Status st = Report(argv[1]);
  if (!st.ok()) {
    std::cerr << "error: " << st.ToString() << "\n";
    return 1;
  }
  return 0;
}
