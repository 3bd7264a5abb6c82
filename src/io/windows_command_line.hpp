// The command line of a Windows child. Windows passes a program one string,
// not an argument vector; the program splits it again (CommandLineToArgvW,
// or the C runtime before main). windows_command_line() quotes argv so that
// this split gives argv back, following Microsoft's "Parsing C++
// command-line arguments" rules:
//   - arguments are separated by spaces or tabs; one holding neither (nor a
//     double quote, nor being empty) is written as it is;
//   - otherwise it is written between double quotes, where a quote is
//     written \" and the backslashes right before a quote (or before the
//     closing quote) are doubled; other backslashes stay single (so paths
//     read as written).
// Portable (pure text), so it is tested on every OS; windows/process.cpp
// uses it.
#pragma once

#include <string>
#include <vector>

namespace rtether::io {

std::string windows_command_line(const std::vector<std::string>& argv);

}  // namespace rtether::io
