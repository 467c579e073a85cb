#include "common/redis/redis_uv_events.hpp"

#include <hiredis/hiredis.h>

namespace tickstream::common {
namespace {

struct uv_events {
  redisAsyncContext* ctx = nullptr;  // null once hiredis has released the binding
  uv_poll_t handle{};
  int events = 0;
};

void on_poll(uv_poll_t* handle, int status, int events) {
  auto* p = static_cast<uv_events*>(handle->data);
  if (status != 0) {
    // The socket is in error (libuv has stopped the handle). Reading makes hiredis discover the
    // error, report it through the connect/disconnect callbacks and free the context.
    if (p->ctx != nullptr) redisAsyncHandleRead(p->ctx);
    return;
  }
  // p stays valid until its close callback, even if hiredis frees the context in between.
  if (p->ctx != nullptr && (events & UV_READABLE) != 0) redisAsyncHandleRead(p->ctx);
  if (p->ctx != nullptr && (events & UV_WRITABLE) != 0) redisAsyncHandleWrite(p->ctx);
}

void update(uv_events* p, int events) {
  p->events = events;
  if (events != 0) {
    uv_poll_start(&p->handle, events, on_poll);
  } else {
    uv_poll_stop(&p->handle);
  }
}

void add_read(void* d) {
  auto* p = static_cast<uv_events*>(d);
  update(p, p->events | UV_READABLE);
}
void del_read(void* d) {
  auto* p = static_cast<uv_events*>(d);
  update(p, p->events & ~UV_READABLE);
}
void add_write(void* d) {
  auto* p = static_cast<uv_events*>(d);
  update(p, p->events | UV_WRITABLE);
}
void del_write(void* d) {
  auto* p = static_cast<uv_events*>(d);
  update(p, p->events & ~UV_WRITABLE);
}

void cleanup(void* d) {
  auto* p = static_cast<uv_events*>(d);
  p->ctx = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&p->handle),
           [](uv_handle_t* h) { delete static_cast<uv_events*>(h->data); });
}

}  // namespace

int attach_redis_to_uv(redisAsyncContext* ac, uv_loop_t* loop) {
  if (ac->ev.data != nullptr) return REDIS_ERR;
  auto* p = new uv_events;
  if (uv_poll_init(loop, &p->handle, ac->c.fd) != 0) {
    delete p;
    return REDIS_ERR;
  }
  p->ctx = ac;
  p->handle.data = p;
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;
  ac->ev.data = p;
  return REDIS_OK;
}

}  // namespace tickstream::common
