// Parsing and formatting of single values as they appear in text files. All
// functions are pure and thread-safe. Parsers return false when the whole of
// `s` (after trimming spaces and tabs, except for strings) is not a value of the type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace plinth::table {

// Optional sign, decimal digits; false on overflow.
bool ParseInt64(std::string_view s, int64_t& out);
// Decimal or scientific notation, inf/infinity (any case, signed). NaN parses
// (as NaN) so that callers can treat it as missing.
bool ParseFloat64(std::string_view s, double& out);
// true/false, True/False, TRUE/FALSE.
bool ParseBool(std::string_view s, bool& out);
// ISO-8601: YYYY-MM-DD, then optionally [T or space]HH:MM[:SS[.fraction]] and
// Z or +HH[:MM] / -HH[:MM]. Result in microseconds since the epoch, UTC; a time
// without an offset is taken as UTC.
bool ParseTimestamp(std::string_view s, int64_t& out);
// "YYYY-MM-DD" when `date_only`, else "YYYY-MM-DD HH:MM:SS" with ".ffffff" when
// the microseconds are not zero.
std::string FormatTimestamp(int64_t micros, bool date_only);
// FormatTimestamp's text appended to `out`.
void AppendTimestamp(std::string& out, int64_t micros, bool date_only);
// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

// True when `s` is well-formed UTF-8. On false, `bad_offset` is the byte offset
// of the first invalid sequence.
bool IsValidUtf8(std::string_view s, size_t& bad_offset);

// `s` without leading and trailing spaces and tabs.
inline std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace plinth::table
