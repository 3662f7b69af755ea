#pragma once
// Deterministic synthetic e-commerce data: the data set behind
// `sluice generate ecommerce --scale S --out DIR`, for examples, tests and benchmarks.
//
// Layout of DIR (scale 1; everything proportional to the scale, with minimums):
//   orders/part-NNNNN.parquet  10,000,000 orders in files of <= 1,000,000 rows (at
//                              least 2 files when there are >= 2 orders), snappy, row
//                              groups of ~128K rows. No nulls.
//       order_id    int64          1..N, unique, ascending through the parts
//       user_id     int64          1..U, power-law skewed (a few users order a lot)
//       product_id  int64          1..P, power-law skewed
//       quantity    int32          1..5, mostly 1
//       amount      decimal(12,2)  quantity * price * (1 - discount), discount in
//                                  {0, 5, 10, 20}% (mostly 0), rounded half up to cents
//       status      utf8           completed ~70%, pending ~15%, cancelled ~10%,
//                                  refunded ~5%
//       order_ts    int64          unix seconds in 2025 (UTC), with a daily and weekly
//                                  pattern and a Black Friday / Cyber Monday peak;
//                                  non-decreasing in order_id, and never before the
//                                  user's signup date
//   users.csv                  500,000 users (at least 100), one line per user_id in
//                              order, header `user_id,signup_date,country,user_type`:
//                              signup_date YYYY-MM-DD in 2019-01-01..2025-12-31 (more
//                              signups in later years, non-decreasing in user_id),
//                              country one of 20 ISO-2 codes (skewed, US most common),
//                              user_type `new` (signed up in 2025) or `returning`.
//                              About bad_user_fraction of the lines are malformed, half
//                              with a wrong field count (one field missing or one extra)
//                              and half with an unparsable signup_date (e.g.
//                              `2024-13-45`, `not-a-date`); they keep a valid user_id.
//   products.parquet           20,000 products (at least 50): product_id int64 1..P,
//                              product_name utf8 (unique), category utf8 (15, skewed),
//                              price decimal(10,2) in 1.00..2000.00, log-uniform within
//                              a per-category range.
//
// Determinism: the same options (other than `threads` and `progress`) produce
// byte-identical files; every chunk of rows is generated from its own seed derived from
// `seed` and the chunk's index, never from thread-shared state.
//
// Files are written atomically (temp name, then rename). Earlier contents of DIR with
// the same names are replaced; `orders/part-*.parquet` files of an earlier, larger run
// are removed so that DIR/orders is exactly the new data set. Leftover ".sluice-tmp-*"
// files in DIR are removed first, so two runs must not write to the same DIR at once.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sluice/base/status.h"

namespace arrow {
class RecordBatch;
class Schema;
}  // namespace arrow

namespace sluice::generator {

struct EcommerceOptions {
  /// 1 = 10,000,000 orders; must be in (0, 10000].
  double scale = 1.0;
  /// Output directory; created (with parents) if missing.
  std::string out_dir;
  uint64_t seed = 42;
  /// Worker threads; 0 = all cores. The output does not depend on it.
  int threads = 0;
  /// Expected share of malformed lines in users.csv, in [0, 1].
  double bad_user_fraction = 0.002;
  /// Optional. Called with the rows generated so far (orders + users + products) and
  /// the total, after each chunk. Calls come from worker threads but never overlap,
  /// and rows_done never decreases. It must not call GenerateEcommerce.
  std::function<void(int64_t rows_done, int64_t rows_total)> progress;
};

struct EcommerceSummary {
  int64_t orders = 0;
  int64_t users = 0;          // lines in users.csv after the header, bad ones included
  int64_t bad_user_rows = 0;  // exact number of malformed lines in users.csv
  int64_t products = 0;
  int64_t bytes_written = 0;  // total size of `files`
  /// Paths (out_dir joined with the file name) of all files written:
  /// products.parquet, users.csv, then orders/part-00000.parquet, ... in order.
  std::vector<std::string> files;
};

/// Row counts implied by a scale (no I/O). Fails on a scale outside (0, 10000].
struct EcommerceSizes {
  int64_t orders = 0;
  int64_t users = 0;
  int64_t products = 0;
  int64_t order_files = 0;
};
Result<EcommerceSizes> EcommerceSizesForScale(double scale);

/// The data set's orders generated on demand, by index: the `ecommerce` table
/// function's stream. Orders [0, count()) are those of the files; past count() the
/// year repeats, a year later each time (order_ts + 365 days per round), order_id
/// going on. Thread-safe.
class EcommerceOrders {
 public:
  virtual ~EcommerceOrders() = default;
  static Result<std::shared_ptr<const EcommerceOrders>> Make(double scale, uint64_t seed);
  /// Orders in one year of the data set.
  virtual int64_t count() const = 0;
  /// The orders' columns (as in the files).
  static std::shared_ptr<arrow::Schema> Schema();
  /// Orders come in chunks, the files' row groups (each generated from its own seed):
  /// chunk c holds orders [ChunkStart(c), ChunkStart(c + 1)), order_ts non-decreasing.
  /// Chunks per year; chunk c >= that is chunk c % that, rounds later.
  virtual int64_t chunks_per_round() const = 0;
  virtual int64_t ChunkStart(int64_t c) const = 0;
  virtual Result<std::shared_ptr<arrow::RecordBatch>> Chunk(int64_t c) const = 0;
};

/// Generates the data set described above. Invalid options are Invalid errors; I/O
/// failures are IOErrors naming the path. On failure no file appears under a final name
/// that was not fully written (files of the same run already published stay).
Result<EcommerceSummary> GenerateEcommerce(const EcommerceOptions& options);

}  // namespace sluice::generator
