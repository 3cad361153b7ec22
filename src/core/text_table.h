// A fixed-width text table for terminal output: columns sized to their widest
// cell (capped), text left-aligned, numbers right-aligned.
#pragma once

#include <string>
#include <vector>

namespace plinth::core {

class TextTable {
 public:
  // `right_aligned[i]` says whether column i holds numbers.
  TextTable(std::vector<std::string> header, std::vector<bool> right_aligned);
  void AddRow(std::vector<std::string> cells);
  // The table, one line per row, cells longer than `max_width` cut with "~".
  std::string Render(size_t max_width = 28) const;

 private:
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace plinth::core
