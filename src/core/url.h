// URL text: percent-decoding and query strings.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plinth::core {

// Percent-decodes `s` ('+' is a space when `plus_is_space`). Invalid escapes stay as they are.
std::string PercentDecode(std::string_view s, bool plus_is_space);
// Splits a query string into decoded name/value pairs, in order.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

}  // namespace plinth::core
