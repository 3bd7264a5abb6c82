// rtether entry point: everything lives in the cli layer.
#include "cli/app.hpp"

int main(int argc, char** argv) { return rtether::cli::run(argc, argv); }
