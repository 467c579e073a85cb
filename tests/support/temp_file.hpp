#pragma once
// A file of one test's own in the temp directory (a capture to replay, a child's log), removed
// when it goes out of scope, a failed REQUIRE included.

#include <string>
#include <string_view>

namespace tickstream::test {

class temp_file {
 public:
  // Creates an empty file named <prefix>-XXXXXX; throws std::runtime_error if it cannot.
  explicit temp_file(std::string_view prefix);
  ~temp_file();
  temp_file(temp_file&& other) noexcept;
  temp_file& operator=(temp_file&&) = delete;
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;

  const std::string& path() const noexcept { return path_; }
  // The whole file as it is now.
  std::string text() const;

 private:
  std::string path_;  // empty once moved from
};

}  // namespace tickstream::test
