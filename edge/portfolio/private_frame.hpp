#pragma once
// A user's stored event (as ingest published it, or as read back from the user's history) turned
// into the frame every one of that user's sessions shares.

#include <string_view>
#include <utility>

#include "common/event.hpp"
#include "common/result.hpp"
#include "edge/portfolio/app_conflation.hpp"
#include "edge/protocol/frame.hpp"

namespace tickstream::edge {

// Decodes and checks payload: a private event with a seq, belonging to user_id; the frame carries
// the decoded event. Errors: the codec's codes, "channel_mismatch" (another user's event, or a
// price_update), "missing_seq" and "reserved_type" (an app event named like the tier's own
// messages). With conflation, an app event of a type it names becomes an app_latest frame keyed by
// its type and key field; without (null, or the history read back), every app event is app_event.
common::result<frame_ptr> decode_private_frame(std::string_view payload, std::string_view user_id,
                                               const app_conflation* conflation = nullptr);

// The frame of an event the edge re-encoded (a stored position or account marked to market, or a
// mark with seq 0): kind and key follow from the event.
frame_ptr encode_private_frame(const common::event& ev, bool mark);

}  // namespace tickstream::edge
