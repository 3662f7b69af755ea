#include "sluice/connector/generator/nexmark.h"

#include <arrow/builder.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "sluice/connector/generator/random.h"

namespace sluice::generator {

namespace {

// Of every 50 events: 1 person, 3 auctions, 46 bids.
constexpr int64_t kProportion = 50;
constexpr int64_t kPersonShare = 1;
constexpr int64_t kAuctionShare = 3;
constexpr int64_t kFirstId = 1000;  // person and auction ids start here
constexpr int64_t kFirstCategory = 10;
constexpr int64_t kCategories = 5;
constexpr int64_t kActivePeople = 1000;
constexpr int64_t kInFlightAuctions = 100;
constexpr int64_t kIdLead = 10;  // references may point a little past the newest id
constexpr int64_t kHotAuctionRatio = 2;
constexpr int64_t kHotSellerRatio = 4;
constexpr int64_t kHotBidderRatio = 4;
constexpr int64_t kChannels = 10000;
constexpr int64_t kPermutationStep = 953;  // prime: a permutation of any group size

constexpr std::array<const char*, 11> kFirstNames = {"Peter", "Paul",   "Luke",  "John",
                                                     "Saul",  "Vicky",  "Kate",  "Julie",
                                                     "Sarah", "Deiter", "Walter"};
constexpr std::array<const char*, 9> kLastNames = {"Shultz", "Abrams",  "Spencer",
                                                   "White",  "Bartels", "Walton",
                                                   "Smith",  "Jones",   "Noris"};
constexpr std::array<const char*, 10> kCities = {
    "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
    "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
constexpr std::array<const char*, 6> kStates = {"AZ", "CA", "ID", "OR", "WA", "WY"};
constexpr std::array<const char*, 4> kHotChannels = {"Google", "Facebook", "Baidu",
                                                     "Apple"};
constexpr std::array<const char*, 4> kHotUrls = {
    "https://www.nexmark.com/googl/item.htm?query=1",
    "https://www.nexmark.com/faceb/item.htm?query=1",
    "https://www.nexmark.com/baidu/item.htm?query=1",
    "https://www.nexmark.com/apple/item.htm?query=1"};

// One field's random numbers: a SplitMix64 stream of its own per (event, field), so
// that a column is the same whichever other columns are generated.
class Stream {
 public:
  Stream(uint64_t event_seed, uint64_t field) : s_(Hash64(event_seed, field)) {}
  uint64_t Next() { return SplitMix64(s_); }
  int64_t Below(int64_t n) {
    return static_cast<int64_t>(
        (static_cast<unsigned __int128>(Next()) * static_cast<uint64_t>(n)) >> 64);
  }
  double Unit() { return ToUnitDouble(Next()); }

  // 3 to max - 1 letters, about one in 13 a space, trimmed.
  void AppendString(int64_t max, std::string* out) {
    const int64_t len = 3 + Below(max - 3);
    const size_t from = out->size();
    for (int64_t i = 0; i < len; ++i) {
      out->push_back(Below(13) == 0 ? ' ' : static_cast<char>('a' + Below(26)));
    }
    size_t b = from;
    while (b < out->size() && (*out)[b] == ' ') ++b;
    size_t e = out->size();
    while (e > b && (*out)[e - 1] == ' ') --e;
    out->erase(e);
    out->erase(from, b - from);
  }

  // Letters padding an event of about `current` bytes to about `average`: within 20 %
  // of the difference.
  void AppendExtra(int64_t current, int64_t average, std::string* out) {
    if (current > average) return;
    const int64_t d = average - current;
    const int64_t delta = (d + 2) / 5;
    const int64_t len = d - delta + (delta == 0 ? 0 : Below(2 * delta));
    for (int64_t i = 0; i < len; i += 8) {
      uint64_t w = Next();
      for (int64_t j = 0; j < 8 && i + j < len; ++j, w >>= 8) {
        out->push_back(static_cast<char>('a' + (((w & 0xff) * 26) >> 8)));
      }
    }
  }

  // Cents from 1.00 to 1,000,000.00, log-uniform.
  int64_t Price() {
    return static_cast<int64_t>(std::llround(std::pow(10.0, Unit() * 6) * 100));
  }

 private:
  uint64_t s_;
};

int64_t LastPerson(int64_t a) { return a / kProportion; }

int64_t LastAuction(int64_t a) {
  int64_t epoch = a / kProportion;
  int64_t offset = a % kProportion;
  if (offset < kPersonShare) return (epoch - 1) * kAuctionShare + kAuctionShare - 1;
  if (offset >= kPersonShare + kAuctionShare)
    return epoch * kAuctionShare + kAuctionShare - 1;
  return epoch * kAuctionShare + offset - kPersonShare;
}

// A person who exists (or is about to), among the most recent ones.
int64_t SomePerson(int64_t a, Stream* r) {
  const int64_t people = LastPerson(a) + 1;
  const int64_t active = std::min(people, kActivePeople);
  return people - active + r->Below(active + kIdLead);
}

int64_t SomeAuction(int64_t a, Stream* r) {
  const int64_t last = LastAuction(a);
  const int64_t lo = std::max<int64_t>(last - kInFlightAuctions, 0);
  return lo + r->Below(last - lo + 1 + kIdLead);
}

uint32_t ReverseBits(uint32_t x) {
  uint32_t r = 0;
  for (int i = 0; i < 32; ++i, x >>= 1) r = (r << 1) | (x & 1);
  return r;
}

// Appends to one column of the batch being generated.
struct Columns {
  std::vector<std::unique_ptr<arrow::ArrayBuilder>> builders;
  arrow::Int64Builder* Int(int i) {
    return static_cast<arrow::Int64Builder*>(builders[i].get());
  }
  arrow::StringBuilder* Str(int i) {
    return static_cast<arrow::StringBuilder*>(builders[i].get());
  }
  arrow::TimestampBuilder* Time(int i) {
    return static_cast<arrow::TimestampBuilder*>(builders[i].get());
  }
};

}  // namespace

Result<NexmarkTable> ParseNexmarkTable(const std::string& name) {
  if (name == "person") return NexmarkTable::kPerson;
  if (name == "auction") return NexmarkTable::kAuction;
  if (name == "bid") return NexmarkTable::kBid;
  return Status::Invalid("unknown Nexmark table '", name, "' (person, auction, bid)");
}

const char* NexmarkTableName(NexmarkTable table) {
  switch (table) {
    case NexmarkTable::kPerson:
      return "person";
    case NexmarkTable::kAuction:
      return "auction";
    case NexmarkTable::kBid:
      return "bid";
  }
  return "?";
}

std::shared_ptr<arrow::Schema> NexmarkSchema(NexmarkTable table) {
  auto ts = arrow::timestamp(arrow::TimeUnit::MICRO);
  auto i64 = arrow::int64();
  auto str = arrow::utf8();
  switch (table) {
    case NexmarkTable::kPerson:
      return arrow::schema({arrow::field("id", i64), arrow::field("name", str),
                            arrow::field("email_address", str),
                            arrow::field("credit_card", str), arrow::field("city", str),
                            arrow::field("state", str), arrow::field("date_time", ts),
                            arrow::field("extra", str)});
    case NexmarkTable::kAuction:
      return arrow::schema({arrow::field("id", i64), arrow::field("item_name", str),
                            arrow::field("description", str),
                            arrow::field("initial_bid", i64),
                            arrow::field("reserve", i64), arrow::field("date_time", ts),
                            arrow::field("expires", ts), arrow::field("seller", i64),
                            arrow::field("category", i64), arrow::field("extra", str)});
    case NexmarkTable::kBid:
      return arrow::schema({arrow::field("auction", i64), arrow::field("bidder", i64),
                            arrow::field("price", i64), arrow::field("channel", str),
                            arrow::field("url", str), arrow::field("date_time", ts),
                            arrow::field("extra", str)});
  }
  return nullptr;
}

NexmarkGenerator::NexmarkGenerator(NexmarkOptions options) : options_(options) {
  options_.out_of_order_group = std::max<int64_t>(1, options_.out_of_order_group);
  // Each channel's URL is a function of the channel alone.
  channel_urls_.reserve(kChannels);
  for (int64_t k = 0; k < kChannels; ++k) {
    Stream r(Hash64(options_.seed ^ 0x6e65786d61726bULL, 7), static_cast<uint64_t>(k));
    std::string url = "https://www.nexmark.com";
    for (int part = 0; part < 3; ++part) {
      url += '/';
      const int64_t len = 1 + r.Below(5);
      for (int64_t i = 0; i < len; ++i)
        url.push_back(static_cast<char>('a' + r.Below(26)));
    }
    url += "/item.htm?query=1";
    if (r.Below(10) > 0) {
      url += "&channel_id=" +
             std::to_string(static_cast<int32_t>(ReverseBits(static_cast<uint32_t>(k))) &
                            0x7fffffff);
    }
    channel_urls_.push_back(std::move(url));
  }
}

int64_t NexmarkGenerator::Moved(int64_t n) const {
  const int64_t g = options_.out_of_order_group;
  if (g == 1) return n;
  return (n / g) * g + (n % g) * kPermutationStep % g;
}

NexmarkTable NexmarkGenerator::TableOf(int64_t n) const {
  const int64_t offset = Moved(n) % kProportion;
  if (offset < kPersonShare) return NexmarkTable::kPerson;
  if (offset < kPersonShare + kAuctionShare) return NexmarkTable::kAuction;
  return NexmarkTable::kBid;
}

int64_t NexmarkGenerator::TimeOf(int64_t n) const {
  return options_.base_time_us + Moved(n) * options_.inter_event_us;
}

int64_t NexmarkGenerator::EventTimeOf(int64_t n) const {
  const int64_t a = Moved(n);
  const int64_t time = options_.base_time_us + a * options_.inter_event_us;
  if (options_.delayed_fraction > 0 &&
      ToUnitDouble(Hash64(Hash64(options_.seed, static_cast<uint64_t>(a)), 99)) <
          options_.delayed_fraction) {
    return time - options_.delay_us;
  }
  return time;
}

int64_t NexmarkGenerator::LowestTimeFrom(int64_t n) const {
  const int64_t g = options_.out_of_order_group;
  return options_.base_time_us + (n / g) * g * options_.inter_event_us;
}

Result<std::shared_ptr<arrow::RecordBatch>> NexmarkGenerator::Generate(
    NexmarkTable table, int64_t first, int64_t end, int64_t stride,
    const std::vector<int>& columns, arrow::MemoryPool* pool) const {
  auto schema = NexmarkSchema(table);
  Columns out;
  arrow::FieldVector fields;
  for (int c : columns) {
    const auto& f = schema->field(c);
    fields.push_back(f);
    std::unique_ptr<arrow::ArrayBuilder> b;
    ARROW_RETURN_NOT_OK(arrow::MakeBuilder(pool, f->type(), &b));
    out.builders.push_back(std::move(b));
  }
  std::string text;
  int64_t rows = 0;
  for (int64_t n = first; n < end; n += stride) {
    if (TableOf(n) != table) continue;
    ++rows;
    const int64_t a = Moved(n);
    const uint64_t seed = Hash64(options_.seed, static_cast<uint64_t>(a));
    const int64_t time = EventTimeOf(n);
    for (size_t i = 0; i < columns.size(); ++i) {
      const int c = columns[i];
      const int idx = static_cast<int>(i);
      text.clear();
      Stream r(seed, static_cast<uint64_t>(c) + 1);
      switch (table) {
        case NexmarkTable::kPerson:
          switch (c) {
            case 0:
              ARROW_RETURN_NOT_OK(out.Int(idx)->Append(kFirstId + LastPerson(a)));
              continue;
            case 1:
              text = std::string(kFirstNames[r.Below(kFirstNames.size())]) + " " +
                     kLastNames[r.Below(kLastNames.size())];
              break;
            case 2:
              r.AppendString(7, &text);
              text += '@';
              r.AppendString(5, &text);
              text += ".com";
              break;
            case 3: {
              char buf[24];
              std::snprintf(
                  buf, sizeof(buf), "%04d %04d %04d %04d",
                  static_cast<int>(r.Below(10000)), static_cast<int>(r.Below(10000)),
                  static_cast<int>(r.Below(10000)), static_cast<int>(r.Below(10000)));
              text = buf;
              break;
            }
            case 4:
              text = kCities[r.Below(kCities.size())];
              break;
            case 5:
              text = kStates[r.Below(kStates.size())];
              break;
            case 6:
              ARROW_RETURN_NOT_OK(out.Time(idx)->Append(time));
              continue;
            default:  // extra: the other fields are about 60 bytes
              r.AppendExtra(60, 200, &text);
              break;
          }
          break;
        case NexmarkTable::kAuction:
          switch (c) {
            case 0:
              ARROW_RETURN_NOT_OK(out.Int(idx)->Append(kFirstId + LastAuction(a)));
              continue;
            case 1:
              r.AppendString(20, &text);
              break;
            case 2:
              r.AppendString(100, &text);
              break;
            case 3:
            case 4: {
              // Both from the prices' stream: reserve = initial bid + another price.
              Stream p(seed, 4);
              int64_t initial = p.Price();
              ARROW_RETURN_NOT_OK(
                  out.Int(idx)->Append(c == 3 ? initial : initial + p.Price()));
              continue;
            }
            case 5:
              ARROW_RETURN_NOT_OK(out.Time(idx)->Append(time));
              continue;
            case 6: {
              // Open for about as long as 1,666 events take, on average.
              const int64_t span = 1666 * options_.inter_event_us;
              ARROW_RETURN_NOT_OK(out.Time(idx)->Append(time + 1 + r.Below(2 * span)));
              continue;
            }
            case 7: {
              const int64_t seller = r.Below(kHotSellerRatio) > 0
                                         ? (LastPerson(a) / 100) * 100
                                         : SomePerson(a, &r);
              ARROW_RETURN_NOT_OK(out.Int(idx)->Append(kFirstId + seller));
              continue;
            }
            case 8:
              ARROW_RETURN_NOT_OK(
                  out.Int(idx)->Append(kFirstCategory + r.Below(kCategories)));
              continue;
            default:  // extra: the other fields are about 150 bytes
              r.AppendExtra(150, 500, &text);
              break;
          }
          break;
        case NexmarkTable::kBid:
          switch (c) {
            case 0: {
              const int64_t auction = r.Below(kHotAuctionRatio) > 0
                                          ? (LastAuction(a) / 100) * 100
                                          : SomeAuction(a, &r);
              ARROW_RETURN_NOT_OK(out.Int(idx)->Append(kFirstId + auction));
              continue;
            }
            case 1: {
              const int64_t bidder = r.Below(kHotBidderRatio) > 0
                                         ? (LastPerson(a) / 100) * 100 + 1
                                         : SomePerson(a, &r);
              ARROW_RETURN_NOT_OK(out.Int(idx)->Append(kFirstId + bidder));
              continue;
            }
            case 2:
              ARROW_RETURN_NOT_OK(out.Int(idx)->Append(r.Price()));
              continue;
            case 3:
            case 4: {
              // Channel and URL from one stream: half the bids come from a hot channel.
              Stream ch(seed, 4);
              if (ch.Below(2) > 0) {
                const int64_t h = ch.Below(kHotChannels.size());
                text = c == 3 ? kHotChannels[h] : kHotUrls[h];
              } else {
                const int64_t k = ch.Below(kChannels);
                text = c == 3 ? "channel-" + std::to_string(k) : channel_urls_[k];
              }
              break;
            }
            case 5:
              ARROW_RETURN_NOT_OK(out.Time(idx)->Append(time));
              continue;
            default:  // extra: the other fields are about 32 bytes
              r.AppendExtra(32, 100, &text);
              break;
          }
          break;
      }
      ARROW_RETURN_NOT_OK(out.Str(idx)->Append(text));
    }
  }
  arrow::ArrayVector arrays;
  for (auto& b : out.builders) {
    std::shared_ptr<arrow::Array> arr;
    ARROW_RETURN_NOT_OK(b->Finish(&arr));
    arrays.push_back(std::move(arr));
  }
  return arrow::RecordBatch::Make(arrow::schema(fields), rows, std::move(arrays));
}

}  // namespace sluice::generator
