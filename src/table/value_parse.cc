#include "table/value_parse.h"

#include <fast_float/fast_float.h>

#include <cmath>
#include <cstdio>
#include <cstring>

namespace plinth::table {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) {
    return false;
  }
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    unsigned d = static_cast<unsigned char>(s[i]) - '0';
    if (d > 9) {
      return false;
    }
    v = v * 10 + static_cast<int>(d);
  }
  out = v;
  return true;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

namespace {
inline bool EdgeSpace(std::string_view s) {
  return !s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.back() == ' ' || s.back() == '\t');
}
}  // namespace

bool ParseInt64(std::string_view s, int64_t& out) {
  if (EdgeSpace(s)) {
    s = TrimSpaces(s);
  }
  if (s.empty()) {
    return false;
  }
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    i = 1;
    if (s.size() == 1) {
      return false;
    }
  }
  uint64_t v = 0;
  constexpr uint64_t kLimit = uint64_t{1} << 63;  // |INT64_MIN|
  for (; i < s.size(); ++i) {
    unsigned d = static_cast<unsigned char>(s[i]) - '0';
    if (d > 9) {
      return false;
    }
    if (v > (kLimit - d) / 10) {
      return false;
    }
    v = v * 10 + d;
  }
  if (!neg && v > kLimit - 1) {
    return false;
  }
  out = neg ? static_cast<int64_t>(~v + 1) : static_cast<int64_t>(v);
  return true;
}

bool ParseFloat64(std::string_view s, double& out) {
  if (EdgeSpace(s)) {
    s = TrimSpaces(s);
  }
  if (!s.empty() && s[0] == '+') {
    s.remove_prefix(1);
    if (s.empty() || s[0] == '-' || s[0] == '+') {
      return false;
    }
  }
  if (s.empty()) {
    return false;
  }
  auto r = fast_float::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool ParseBool(std::string_view s, bool& out) {
  s = TrimSpaces(s);
  if (s == "true" || s == "True" || s == "TRUE") {
    out = true;
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    out = false;
    return true;
  }
  return false;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool ParseTimestamp(std::string_view s, int64_t& out) {
  s = TrimSpaces(s);
  int y, mo, d;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !Digits(s, 0, 4, y) || !Digits(s, 5, 2, mo) ||
      !Digits(s, 8, 2, d)) {
    return false;
  }
  static constexpr int kMonthDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kMonthDays[mo - 1] + (mo == 2 && IsLeap(y) ? 1 : 0)) {
    return false;
  }
  int64_t micros =
      DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * int64_t{86400000000};
  size_t p = 10;
  if (p == s.size()) {
    out = micros;
    return true;
  }
  if (s[p] != 'T' && s[p] != ' ') {
    return false;
  }
  ++p;
  int hh, mm, ss = 0;
  if (!Digits(s, p, 2, hh) || p + 2 >= s.size() || s[p + 2] != ':' || !Digits(s, p + 3, 2, mm)) {
    return false;
  }
  p += 5;
  int64_t frac_us = 0;
  if (p < s.size() && s[p] == ':') {
    if (!Digits(s, p + 1, 2, ss)) {
      return false;
    }
    p += 3;
    if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
      ++p;
      size_t start = p;
      int64_t scale = 100000;
      while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
        frac_us += (s[p] - '0') * scale;
        scale /= 10;
        ++p;
      }
      if (p == start) {
        return false;
      }
    }
  }
  if (hh > 23 || mm > 59 || ss > 60) {
    return false;
  }
  micros += (int64_t{hh} * 3600 + int64_t{mm} * 60 + ss) * 1000000 + frac_us;
  if (p < s.size()) {
    if (s[p] == 'Z' && p + 1 == s.size()) {
      ++p;
    } else if (s[p] == '+' || s[p] == '-') {
      int sign = s[p] == '+' ? 1 : -1;
      int oh, om = 0;
      if (!Digits(s, p + 1, 2, oh)) {
        return false;
      }
      p += 3;
      if (p < s.size() && s[p] == ':') {
        ++p;
      }
      if (p < s.size()) {
        if (!Digits(s, p, 2, om)) {
          return false;
        }
        p += 2;
      }
      micros -= sign * (int64_t{oh} * 3600 + int64_t{om} * 60) * 1000000;
    }
  }
  if (p != s.size()) {
    return false;
  }
  out = micros;
  return true;
}

namespace {

// `v` (0..10^width-1) as `width` digits, zero-padded.
void AppendDigits(std::string& out, int64_t v, int width) {
  char buf[8];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<size_t>(width));
}

}  // namespace

void AppendTimestamp(std::string& out, int64_t micros, bool date_only) {
  int64_t days = micros >= 0 ? micros / 86400000000 : (micros - 86399999999) / 86400000000;
  int64_t rem = micros - days * 86400000000;
  // civil_from_days (Hinnant).
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  if (y >= 0 && y <= 9999) {
    AppendDigits(out, y, 4);
  } else {
    char buf[24];
    const int n = std::snprintf(buf, sizeof(buf), "%04lld", static_cast<long long>(y));
    out.append(buf, static_cast<size_t>(n));
  }
  out.push_back('-');
  AppendDigits(out, m, 2);
  out.push_back('-');
  AppendDigits(out, d, 2);
  if (date_only) {
    return;
  }
  const int64_t secs = rem / 1000000;
  const int64_t us = rem % 1000000;
  out.push_back(' ');
  AppendDigits(out, secs / 3600, 2);
  out.push_back(':');
  AppendDigits(out, secs / 60 % 60, 2);
  out.push_back(':');
  AppendDigits(out, secs % 60, 2);
  if (us != 0) {
    out.push_back('.');
    AppendDigits(out, us, 6);
  }
}

std::string FormatTimestamp(int64_t micros, bool date_only) {
  std::string out;
  AppendTimestamp(out, micros, date_only);
  return out;
}

bool IsValidUtf8(std::string_view s, size_t& bad_offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      bad_offset = i;
      return false;
    }
    if (i + len > n) {
      bad_offset = i;
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) {
        bad_offset = i;
        return false;
      }
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      bad_offset = i;
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace plinth::table
