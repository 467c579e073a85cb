#pragma once
// Bytes a socket has sent that its peer has not yet acknowledged, waiting in the kernel's send
// queue (SIOCOUTQ): how a slow consumer is told from a fast one.

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <cstddef>

namespace tickstream::edge {

inline std::size_t kernel_send_queue(int fd) noexcept {
  int queued = 0;
  if (::ioctl(fd, SIOCOUTQ, &queued) != 0 || queued < 0) return 0;
  return static_cast<std::size_t>(queued);
}

}  // namespace tickstream::edge
