#pragma once
// What every test Redis shares (a single server, a cluster's nodes, sentinels): a redis-server
// started on a free loopback port and waited for, and redis-cli against a port.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace tickstream::test {

// Starts redis-server with the command line argv(port) for a free port and waits until it answers
// PING; a port taken between the check and redis-server's bind is retried with another. Sets port.
// Throws std::runtime_error if it does not start.
std::unique_ptr<child_process> spawn_redis(const std::function<std::vector<std::string>(int port)>& argv, int& port);

// Runs redis-cli with args against port and returns its stdout.
std::string redis_cli(int port, const std::vector<std::string>& args);

}  // namespace tickstream::test
