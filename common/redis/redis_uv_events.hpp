#pragma once
// Binds a hiredis async context to a libuv loop. Replaces the adapter shipped with hiredis 0.14
// (adapters/libuv.h), which drops poll errors: when libuv reports POLLERR on a socket (a refused
// connect, say) that adapter returns without telling hiredis, and the context hangs forever in
// "connecting". Here errors are handed to hiredis, which then finds the socket error itself.

#include <hiredis/async.h>
#include <uv.h>

namespace tickstream::common {

// Attaches ac to loop. Returns REDIS_OK or REDIS_ERR. The binding is released by hiredis when it
// frees the context.
int attach_redis_to_uv(redisAsyncContext* ac, uv_loop_t* loop);

}  // namespace tickstream::common
