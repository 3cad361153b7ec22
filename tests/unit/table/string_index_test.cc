#include "table/string_index.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace plinth::table {
namespace {

// Strings of every length from 0 to 40 over a two-letter alphabet: many share
// their first and last bytes, so the short keys must tell them apart by all of
// their bytes.
std::vector<std::string> TrickyStrings(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    std::string s(rng() % 41, 'a');
    for (char& c : s) {
      c = (rng() & 1) != 0 ? 'a' : 'b';
    }
    out.push_back(s);
  }
  out.push_back(std::string("a\0b", 3));
  out.push_back(std::string("a\0\0", 3));
  out.push_back(std::string(16, '\0'));
  out.push_back(std::string(17, '\0'));
  return out;
}

TEST(StringIndexTest, NumbersStringsAsAMapWould) {
  StringIndex index;
  std::unordered_map<std::string, int32_t> expected;
  for (const std::string& s : TrickyStrings(20000, 7)) {
    bool added = false;
    const int32_t code = index.Add(s, &added);
    auto [it, inserted] = expected.emplace(s, static_cast<int32_t>(expected.size()));
    ASSERT_EQ(added, inserted) << s.size();
    ASSERT_EQ(code, it->second);
    ASSERT_EQ(index.Get(code), s);
  }
  EXPECT_EQ(index.size(), expected.size());
  for (const std::string& s : TrickyStrings(5000, 8)) {
    auto it = expected.find(s);
    EXPECT_EQ(index.Find(s), it == expected.end() ? -1 : it->second) << s;
  }
  EXPECT_EQ(index.Find(std::string(41, 'c')), -1);
}

TEST(StringIndexTest, ClearForgetsEverythingAndIsReusable) {
  StringIndex index;
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(index.Add("Private"), 0);
    EXPECT_EQ(index.Add("Self-emp-not-inc"), 1);
    EXPECT_EQ(index.Add("a much longer category than sixteen bytes"), 2);
    EXPECT_EQ(index.Add("Private"), 0);
    EXPECT_EQ(index.Add(""), 3);
    EXPECT_EQ(index.Find("Self-emp-inc"), -1);
    EXPECT_EQ(index.size(), 4u);
    index.Clear();
    EXPECT_EQ(index.size(), 0u);
    EXPECT_EQ(index.Find("Private"), -1);
  }
}

}  // namespace
}  // namespace plinth::table
