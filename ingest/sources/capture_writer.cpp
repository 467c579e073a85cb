#include "ingest/sources/capture_writer.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <stdexcept>

namespace tickstream::ingest {

std::string capture_line(std::string_view source, std::int64_t recv_us, std::string_view raw) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("recv_us");
  w.Int64(recv_us);
  w.Key("source");
  w.String(source.data(), static_cast<rapidjson::SizeType>(source.size()));
  w.Key("raw");
  w.String(raw.data(), static_cast<rapidjson::SizeType>(raw.size()));
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

capture_writer::capture_writer(const std::string& path) : out_(path, std::ios::app | std::ios::binary) {
  if (!out_) throw std::runtime_error("cannot open capture file " + path);
}

void capture_writer::write(std::string_view source, std::int64_t recv_us, std::string_view raw) {
  out_ << capture_line(source, recv_us, raw) << '\n';
}

void capture_writer::flush() { out_.flush(); }

}  // namespace tickstream::ingest
