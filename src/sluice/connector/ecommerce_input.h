#pragma once
// The e-commerce orders as a stream with event time: `ecommerce('orders', scale =>
// 0.1)` in SQL, format `ecommerce` in a job (generator/ecommerce.h has the data set;
// these are the same orders as `sluice generate ecommerce` writes, by order_id).
//
// Columns: the orders' (order_id, user_id, product_id, quantity, amount, status,
// order_ts as unix seconds) and order_time, order_ts as a timestamp: the event time.
// Orders come in order_id order, so order_time never decreases within a split; splits
// take chunks of orders (the files' row groups, each from its own seed) in turn, and
// after each batch a split's watermark is its last order_time less 1 us (none of its
// later orders is earlier); the source's is the lowest over its splits. No order is
// ever late.
//
// Options: scale (of the data set: 1 = 10 million orders a year; default 0.1), events
// (orders to produce, default the data set's; -1: without end, the year repeating a
// year later each time), rate (orders per second of wall-clock time over all splits,
// 0 = as fast as possible), splits (default: one per thread), seed.
#include <memory>

#include "sluice/connector/input_table.h"

namespace sluice::connector {

Result<std::shared_ptr<InputTable>> OpenEcommerceInput(const SourceSpec& spec);

}  // namespace sluice::connector
