#pragma once
// The public C++ API of Sluice: Session (session.h), lazy Frame (frame.h) and Expr
// (expr.h). Include as <sluice/api.h>. Guide: docs/cpp_api.md.
#include "sluice/api/expr.h"     // IWYU pragma: export
#include "sluice/api/frame.h"    // IWYU pragma: export
#include "sluice/api/job.h"      // IWYU pragma: export
#include "sluice/api/session.h"  // IWYU pragma: export
