// plinth_bench read|scan FILE [THREADS]: times one CSV read and prints JSON.
//   read: the whole file into one Table (parallel parse).
//   scan: the streaming path, chunk by chunk, keeping nothing (bounded memory).
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/clock.h"
#include "table/csv_reader.h"

namespace {

class CountingConsumer : public plinth::table::ChunkConsumer {
 public:
  plinth::Status Begin(const plinth::table::Schema&, int64_t) override {
    rows_ = 0;
    return plinth::Status::Ok();
  }
  plinth::Status Consume(plinth::table::Table chunk) override {
    rows_ += chunk.num_rows();
    return plinth::Status::Ok();
  }
  int64_t rows_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4 ||
      (std::strcmp(argv[1], "read") != 0 && std::strcmp(argv[1], "scan") != 0)) {
    std::fprintf(stderr, "usage: plinth_bench read|scan FILE [THREADS]\n");
    return 2;
  }
  plinth::table::CsvOptions options;
  if (argc == 4) {
    options.threads = static_cast<size_t>(std::atoi(argv[3]));
  }
  const auto& clock = plinth::core::SystemClock();
  int64_t start = clock.MonotonicMicros();
  int64_t rows = 0, bytes = 0;
  if (std::strcmp(argv[1], "read") == 0) {
    auto r = plinth::table::ReadCsv(argv[2], options);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().message().c_str());
      return 2;
    }
    rows = r->table.num_rows();
    bytes = r->info.bytes;
  } else {
    CountingConsumer consumer;
    auto r = plinth::table::ScanCsv(argv[2], options, consumer);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().message().c_str());
      return 2;
    }
    rows = consumer.rows_;
    bytes = r->bytes;
  }
  double secs = static_cast<double>(clock.MonotonicMicros() - start) / 1e6;
  std::printf(
      "{\"seconds\": %.4f, \"rows\": %lld, \"bytes\": %lld, \"mb_per_s\": %.1f, "
      "\"rows_per_s\": %.0f}\n",
      secs, static_cast<long long>(rows), static_cast<long long>(bytes),
      static_cast<double>(bytes) / 1e6 / secs, static_cast<double>(rows) / secs);
  return 0;
}
