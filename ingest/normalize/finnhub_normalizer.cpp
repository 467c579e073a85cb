#include "ingest/normalize/finnhub_normalizer.hpp"

#include <rapidjson/document.h>

#include "ingest/normalize/source_json.hpp"

namespace tickstream::ingest {

normalized finnhub_normalizer::normalize(std::string_view raw, std::int64_t recv_us) {
  normalized out;
  rapidjson::Document doc;
  if (!parse_upstream(doc, raw, out, false, "Finnhub")) return out;
  common::json_reader r(doc, "invalid_message");
  const auto type = r.string("type", true, 32);
  if (!type) {
    out.problems.push_back(*r.failure());
    return out;
  }
  if (*type == "ping") {
    out.notices.emplace_back("ping");
    return out;
  }
  if (*type == "error") {
    const auto msg = r.string("msg", false, 512);
    out.problems.push_back({"upstream_error", std::string(msg ? *msg : "error without a message")});
    return out;
  }
  if (*type != "trade") {
    out.problems.push_back({"unknown_type", "unknown Finnhub message type '" + std::string(*type) + "'"});
    return out;
  }
  const auto* data = r.array("data", true);
  if (data == nullptr) {
    out.problems.push_back(*r.failure());
    return out;
  }
  std::size_t index = 0;
  for (const auto& item : data->GetArray()) {
    const auto where = "data[" + std::to_string(index++) + "]";
    if (!item.IsObject()) {
      out.problems.push_back({"invalid_trade", where + ": must be an object"});
      continue;
    }
    common::json_reader t(item, "invalid_trade");
    const auto symbol = upstream_symbol(t, "s");
    auto price = upstream_decimal(t, "p", true, true);
    auto volume = upstream_decimal(t, "v", false, false);
    const auto ms = t.integer("t", true, 946'684'800'000LL, 4'102'444'800'000LL);
    if (!t.ok()) {
      auto e = *t.failure();
      e.message = where + ": " + e.message;
      out.problems.push_back(std::move(e));
      continue;
    }
    out.events.emplace_back(merger_.on_trade(*symbol, std::move(*price), std::move(volume), *ms * 1000, recv_us));
  }
  return out;
}

}  // namespace tickstream::ingest
