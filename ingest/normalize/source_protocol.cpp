#include "ingest/normalize/source_protocol.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "ingest/normalize/alpaca_market_normalizer.hpp"
#include "ingest/normalize/alpaca_trading_normalizer.hpp"
#include "ingest/normalize/finnhub_normalizer.hpp"

namespace tickstream::ingest {
namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

template <class Fn>
std::string json(Fn&& fn) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  fn(w);
  return std::string(buf.GetString(), buf.GetSize());
}

void string_array(json_writer& w, const std::vector<std::string>& items) {
  w.StartArray();
  for (const auto& s : items) w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  w.EndArray();
}

std::string auth_message(const std::string& key, const std::string& secret) {
  return json([&](json_writer& w) {
    w.StartObject();
    w.Key("action");
    w.String("auth");
    w.Key("key");
    w.String(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    w.Key("secret");
    w.String(secret.data(), static_cast<rapidjson::SizeType>(secret.size()));
    w.EndObject();
  });
}

class finnhub_protocol final : public source_protocol {
 public:
  explicit finnhub_protocol(std::vector<std::string> symbols) : symbols_(std::move(symbols)) {}
  const std::string& name() const override { return name_; }
  std::vector<std::string> on_open() override {
    std::vector<std::string> out;
    for (const auto& s : symbols_) {
      out.push_back(json([&](json_writer& w) {
        w.StartObject();
        w.Key("type");
        w.String("subscribe");
        w.Key("symbol");
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
        w.EndObject();
      }));
    }
    return out;
  }
  std::vector<std::string> on_notice(std::string_view) override { return {}; }
  normalized normalize(std::string_view raw, std::int64_t recv_us) override { return n_.normalize(raw, recv_us); }

 private:
  std::string name_ = "finnhub";
  std::vector<std::string> symbols_;
  finnhub_normalizer n_;
};

class alpaca_market_protocol final : public source_protocol {
 public:
  alpaca_market_protocol(std::string key, std::string secret, std::vector<std::string> symbols)
      : key_(std::move(key)), secret_(std::move(secret)), symbols_(std::move(symbols)) {}
  const std::string& name() const override { return name_; }
  std::vector<std::string> on_open() override { return {}; }  // the server speaks first
  std::vector<std::string> on_notice(std::string_view notice) override {
    if (notice == "connected") return {auth_message(key_, secret_)};
    if (notice == "authenticated") {
      return {json([&](json_writer& w) {
        w.StartObject();
        w.Key("action");
        w.String("subscribe");
        w.Key("trades");
        string_array(w, symbols_);
        w.Key("quotes");
        string_array(w, symbols_);
        w.EndObject();
      })};
    }
    return {};
  }
  normalized normalize(std::string_view raw, std::int64_t recv_us) override {
    auto out = n_.normalize(raw, recv_us);
    // Alpaca refuses credentials with an error message (402 auth failed, 406 connection limit...).
    for (auto& p : out.problems) {
      if (p.code == "upstream_error" && !authenticated_) p.code = "auth_refused";
    }
    for (const auto& n : out.notices) authenticated_ |= n == "authenticated";
    return out;
  }

 private:
  std::string name_ = "alpaca";
  std::string key_, secret_;
  std::vector<std::string> symbols_;
  alpaca_market_normalizer n_;
  bool authenticated_ = false;
};

class alpaca_trading_protocol final : public source_protocol {
 public:
  alpaca_trading_protocol(std::string key, std::string secret, std::string user)
      : key_(std::move(key)), secret_(std::move(secret)), n_(std::move(user)) {}
  const std::string& name() const override { return name_; }
  std::vector<std::string> on_open() override { return {auth_message(key_, secret_)}; }
  std::vector<std::string> on_notice(std::string_view notice) override {
    if (notice != "authenticated") return {};
    return {R"({"action":"listen","data":{"streams":["trade_updates"]}})"};
  }
  normalized normalize(std::string_view raw, std::int64_t recv_us) override { return n_.normalize(raw, recv_us); }

 private:
  std::string name_ = "alpaca-trading";
  std::string key_, secret_;
  alpaca_trading_normalizer n_;
};

}  // namespace

std::unique_ptr<source_protocol> make_finnhub_protocol(std::vector<std::string> symbols) {
  return std::make_unique<finnhub_protocol>(std::move(symbols));
}

std::unique_ptr<source_protocol> make_alpaca_market_protocol(std::string key, std::string secret,
                                                             std::vector<std::string> symbols) {
  return std::make_unique<alpaca_market_protocol>(std::move(key), std::move(secret), std::move(symbols));
}

std::unique_ptr<source_protocol> make_alpaca_trading_protocol(std::string key, std::string secret,
                                                              std::string user_id) {
  return std::make_unique<alpaca_trading_protocol>(std::move(key), std::move(secret), std::move(user_id));
}

}  // namespace tickstream::ingest
