#pragma once
// A user's stored event (as ingest published it, or as read back from the user's history) turned
// into the frame every one of that user's sessions shares.

#include <string_view>
#include <utility>

#include "common/event.hpp"
#include "common/result.hpp"
#include "edge/protocol/frame.hpp"

namespace tickstream::edge {

// Decodes and checks payload: a private event with a seq, belonging to user_id; the frame carries
// the decoded event. Errors: the codec's codes, "channel_mismatch" (another user's event, or a
// price_update) and "missing_seq".
common::result<frame_ptr> decode_private_frame(std::string_view payload, std::string_view user_id);

// The frame of an event the edge re-encoded (a stored position or account marked to market, or a
// mark with seq 0): kind and key follow from the event.
frame_ptr encode_private_frame(const common::event& ev, bool mark);

}  // namespace tickstream::edge
