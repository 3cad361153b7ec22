// A dense row-major matrix of 32-bit floats: the feature matrix the models
// train and predict on, and their outputs. NaN marks a missing value. A value
// type; safe to read from many threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace plinth::ml {

struct Matrix {
  Matrix() = default;
  Matrix(int64_t r, int64_t c) : rows(r), cols(c), values(static_cast<size_t>(r * c), 0.0f) {}

  float& at(int64_t r, int64_t c) { return values[static_cast<size_t>(r * cols + c)]; }
  float at(int64_t r, int64_t c) const { return values[static_cast<size_t>(r * cols + c)]; }
  const float* row(int64_t r) const { return values.data() + r * cols; }

  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> values;
};

// The rows `indices` of `m`, in that order.
inline Matrix TakeRows(const Matrix& m, const std::vector<int64_t>& indices) {
  Matrix out(static_cast<int64_t>(indices.size()), m.cols);
  for (size_t i = 0; i < indices.size(); ++i) {
    const float* src = m.row(indices[i]);
    std::copy(src, src + m.cols, out.values.begin() + static_cast<int64_t>(i) * m.cols);
  }
  return out;
}

}  // namespace plinth::ml
