#pragma once
// Sluice uses Arrow's Status/Result at every module and operator boundary.
// User errors (bad SQL, bad input, missing file) are Invalid/IOError/KeyError with a
// message that says what and where; internal invariants are DCHECKs.
#include <arrow/result.h>
#include <arrow/status.h>
#include <arrow/util/logging.h>

namespace sluice {
using arrow::Result;
using arrow::Status;
}  // namespace sluice
