#include "core/text_table.h"

#include <algorithm>

namespace plinth::core {
namespace {

// Display width of UTF-8 text (code points; wide characters count as one).
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) {
    n += (c & 0xC0) != 0x80;
  }
  return n;
}

std::string Cut(const std::string& s, size_t max) {
  if (Width(s) <= max) {
    return s;
  }
  std::string out;
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80 && ++n > max - 1) {
      break;
    }
    out.push_back(s[i]);
  }
  return out + "~";
}

}  // namespace

TextTable::TextTable(std::vector<std::string> header, std::vector<bool> right_aligned)
    : header_(std::move(header)), right_(std::move(right_aligned)) {
  right_.resize(header_.size(), false);
}

void TextTable::AddRow(std::vector<std::string> cells) {
  cells.resize(header_.size());
  for (auto& c : cells) {
    std::replace(c.begin(), c.end(), '\n', ' ');
  }
  rows_.push_back(std::move(cells));
}

std::string TextTable::Render(size_t max_width) const {
  std::vector<size_t> width(header_.size());
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], std::min(Width(row[i]), max_width));
    }
  };
  measure(header_);
  for (const auto& r : rows_) {
    measure(r);
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      std::string cell = Cut(row[i], max_width);
      std::string pad(width[i] - Width(cell), ' ');
      if (i > 0) {
        line += "  ";
      }
      line += right_[i] ? pad + cell : cell + pad;
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out += line + "\n";
  };
  emit(header_);
  std::vector<std::string> rule;
  for (size_t w : width) {
    rule.emplace_back(w, '-');
  }
  emit(rule);
  for (const auto& r : rows_) {
    emit(r);
  }
  return out;
}

}  // namespace plinth::core
