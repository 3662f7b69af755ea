#pragma once
// gtest assertions on arrow::Status and arrow::Result that print the status on failure.
#include <gtest/gtest.h>

#define SLUICE_ASSERT_OK(expr)                                              \
  do {                                                                      \
    ::arrow::Status _sluice_st = (expr);                                    \
    ASSERT_TRUE(_sluice_st.ok()) << #expr << ": " << _sluice_st.ToString(); \
  } while (false)

#define SLUICE_CONCAT_INNER(a, b) a##b
#define SLUICE_CONCAT(a, b) SLUICE_CONCAT_INNER(a, b)
#define SLUICE_ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, rexpr)             \
  auto tmp = (rexpr);                                                 \
  ASSERT_TRUE(tmp.ok()) << #rexpr << ": " << tmp.status().ToString(); \
  lhs = std::move(tmp).ValueOrDie();
/// lhs = the value of a Result, or the test fails with its status.
#define SLUICE_ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  SLUICE_ASSERT_OK_AND_ASSIGN_IMPL(SLUICE_CONCAT(_sluice_result_, __LINE__), lhs, rexpr)
