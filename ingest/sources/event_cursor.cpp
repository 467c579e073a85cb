#include "ingest/sources/event_cursor.hpp"

namespace tickstream::ingest {

std::uint64_t event_cursor::begin(std::string id, int parts) {
  const auto ticket = first_ticket_ + pending_.size();
  pending_.push_back({std::move(id), parts});
  return ticket;
}

std::optional<std::string> event_cursor::complete(std::uint64_t ticket, bool ok) {
  if (ticket < first_ticket_ || ticket >= first_ticket_ + pending_.size()) return std::nullopt;
  auto& e = pending_[ticket - first_ticket_];
  if (e.remaining <= 0) return std::nullopt;
  if (!ok) {
    failed_ = true;
    return std::nullopt;
  }
  --e.remaining;
  return advance();
}

std::optional<std::string> event_cursor::advance() {
  if (failed_) return std::nullopt;
  bool moved = false;
  while (!pending_.empty() && pending_.front().remaining <= 0) {
    committed_ = std::move(pending_.front().id);
    pending_.pop_front();
    ++first_ticket_;
    moved = true;
  }
  return moved ? std::optional<std::string>(committed_) : std::nullopt;
}

void event_cursor::restart() {
  first_ticket_ += pending_.size();
  pending_.clear();
  failed_ = false;
}

}  // namespace tickstream::ingest
