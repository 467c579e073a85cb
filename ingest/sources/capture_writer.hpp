#pragma once
// Records raw upstream messages as capture lines, {"recv_us":...,"source":"...","raw":"..."},
// the format capture_reader replays through the same normalizers.

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

namespace tickstream::ingest {

// One capture line (no newline).
std::string capture_line(std::string_view source, std::int64_t recv_us, std::string_view raw);

class capture_writer {
 public:
  // Appends to path; throws std::runtime_error if it cannot be opened (start-up configuration).
  explicit capture_writer(const std::string& path);
  void write(std::string_view source, std::int64_t recv_us, std::string_view raw);
  void flush();

 private:
  std::ofstream out_;
};

}  // namespace tickstream::ingest
