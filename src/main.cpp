// rtether entry point: everything lives in the cli layer.
#include <cstdio>
#include <exception>

#include "cli/app.hpp"
#include "io/process_setup.hpp"

int main(int argc, char** argv) {
  try {
    rtether::io::prepare_process();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rtether: %s\n", e.what());
    return 1;
  }
  return rtether::cli::run(argc, argv);
}
