#include "common/metrics_text.hpp"

#include <prometheus/text_serializer.h>

namespace tickstream::common {

std::string render_metrics(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

}  // namespace tickstream::common
