// Where rtether's own binary is, so that the host commands find the files
// shipped beside it (Gnirehtet's Windows zip puts adb.exe and
// gnirehtet.apk in the folder of its exe). Linux: /proc/self/exe;
// Windows: GetModuleFileNameW.
#pragma once

#include <optional>
#include <string>

namespace rtether::io {

// The binary's directory with a trailing separator ('/' or '\'), ready to
// have a file name appended; none when the OS does not say.
std::optional<std::string> executable_directory();

}  // namespace rtether::io
