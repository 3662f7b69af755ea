#include "sluice/job/progress.h"

#include <gtest/gtest.h>

namespace sluice::job {
namespace {

TEST(StreamStatus, ShowsRatesWatermarkLagLateRowsAndConsumerLag) {
  StreamStatus s;
  s.elapsed = 12.34;
  s.rows_in = 1'234'567;
  s.in_rate = 98'100;
  s.rows_out = 4'500;
  s.out_rate = 310;
  s.watermark = 1'436'918'462'000'000;  // 2015-07-15 00:01:02 UTC
  s.now = s.watermark + 2'100'000;
  s.late = 12;
  s.lags = {{"kafka bids", 1200}};
  EXPECT_EQ(FormatStreamStatus(s),
            "stream 12.3s · in 1.2M (98.1K/s) · out 4.5K (310/s) · watermark 2015-07-15 "
            "00:01:02 (lag 2.1s) · late 12 · kafka bids lag 1.2K");
}

TEST(StreamStatus, WithoutWatermarkOrLateRowsAndLongLags) {
  StreamStatus s;
  s.elapsed = 1;
  EXPECT_EQ(FormatStreamStatus(s),
            "stream 1.0s · in 0 (0/s) · out 0 (0/s) · watermark -");
  s.watermark = 0;
  s.now = 3 * 3600 * 1'000'000LL + 5 * 60 * 1'000'000LL;
  EXPECT_NE(FormatStreamStatus(s).find("(lag 3h05m)"), std::string::npos);
  s.now = 400LL * 86400 * 1'000'000;
  EXPECT_NE(FormatStreamStatus(s).find("(lag 1.1y)"), std::string::npos);
  s.now = 125 * 1'000'000;
  EXPECT_NE(FormatStreamStatus(s).find("(lag 2m05s)"), std::string::npos);
}

}  // namespace
}  // namespace sluice::job
