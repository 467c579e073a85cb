#include "tests/support/temp_file.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <utility>

namespace tickstream::test {

temp_file::temp_file(std::string_view prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed for " + tmpl);
  ::close(fd);
  path_ = std::move(tmpl);
}

temp_file::~temp_file() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

temp_file::temp_file(temp_file&& other) noexcept : path_(std::exchange(other.path_, {})) {}

std::string temp_file::text() const {
  std::ifstream in(path_, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace tickstream::test
