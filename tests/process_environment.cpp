// Runs io::prepare_process() before the tests of a layer that opens
// sockets, as main.cpp does for rtether: on Windows nothing works before
// WSAStartup. Linked into the Windows test executables only: the Linux ones
// keep SIGPIPE's default, so that their tests prove MSG_NOSIGNAL.
#include <gtest/gtest.h>

#include "io/process_setup.hpp"

namespace {

class ProcessEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override { rtether::io::prepare_process(); }
};

const auto* const registered = ::testing::AddGlobalTestEnvironment(new ProcessEnvironment);

}  // namespace
