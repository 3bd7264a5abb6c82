// Test helpers for the root-only device tests: a named network namespace
// made with the code under test and always deleted, and a way to read what
// iproute2 sees in it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>

#include "device/netns.hpp"

namespace rtether::device {

inline std::string unique_netns_name(const char* what) {
  static int counter = 0;
  return std::string("rtether-test-") + what + "-" + std::to_string(getpid()) + "-" +
         std::to_string(++counter);
}

class ScopedNetns {
 public:
  explicit ScopedNetns(const char* what) : name_(unique_netns_name(what)) { create_netns(name_); }
  ~ScopedNetns() {
    std::string error;
    EXPECT_TRUE(delete_netns(name_, error)) << error;
  }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// Output of a shell command (iproute2 in JSON mode), for checks from outside.
inline std::string command_output(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  std::array<char, 4096> buffer;
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  pclose(pipe);
  return output;
}

}  // namespace rtether::device
