// Drift statistics over many columns, for bench/drift_bench.py: reads two files of raw
// float64 values (FEATURES columns of N values each, column after column, as numpy's
// tofile writes a Fortran-ordered array) and prints, as JSON, each column's KS statistic
// and p-value and PSI (Evidently's binning), and the seconds they took.
//   drift_bench REF.f64 CUR.f64 FEATURES
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/thread_pool.h"
#include "monitor/drift.h"
#include "monitor/stats.h"

using namespace plinth;

namespace {

std::vector<double> ReadAll(const char* path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const auto bytes = static_cast<size_t>(in.tellg());
  std::vector<double> v(bytes / sizeof(double));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 8));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: drift_bench REF.f64 CUR.f64 FEATURES\n");
    return 2;
  }
  const std::vector<double> ref = ReadAll(argv[1]), cur = ReadAll(argv[2]);
  const size_t k = std::stoul(argv[3]);
  const size_t nr = ref.size() / k, nc = cur.size() / k;
  // Columns in parallel, one per hardware thread (what CompareTables does).
  std::vector<core::Json> results(k);
  std::vector<std::string> errors(k);
  const auto start = std::chrono::steady_clock::now();
  {
    core::ThreadPool pool;
    std::vector<std::future<void>> done;
    for (size_t f = 0; f < k; ++f) {
      done.push_back(pool.Submit([&, f] {
        monitor::Sample a, b;
        a.numbers.assign(ref.begin() + static_cast<ptrdiff_t>(f * nr),
                         ref.begin() + static_cast<ptrdiff_t>((f + 1) * nr));
        b.numbers.assign(cur.begin() + static_cast<ptrdiff_t>(f * nc),
                         cur.begin() + static_cast<ptrdiff_t>((f + 1) * nc));
        monitor::DriftOptions methods[2];
        methods[0].method = monitor::Method::kKs;
        methods[1].method = monitor::Method::kPsi;
        auto d = monitor::CompareColumnMethods(a, b, methods);
        if (!d.ok()) {
          errors[f] = d.status().ToString();
          return;
        }
        results[f] = {{"ks_pvalue", (*d)[0].score}, {"psi", (*d)[1].score}};
      }));
    }
    for (auto& d : done) {
      d.get();
    }
  }
  core::Json columns = core::Json::array();
  for (size_t f = 0; f < k; ++f) {
    if (!errors[f].empty()) {
      std::fprintf(stderr, "column %zu: %s\n", f, errors[f].c_str());
      return 1;
    }
    columns.push_back(results[f]);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "%s\n",
      core::DumpJson(core::Json{{"seconds", seconds}, {"columns", columns}}, false).c_str());
  return 0;
}
