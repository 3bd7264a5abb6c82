// windows_command_line: argv quoted so that Windows' CommandLineToArgvW
// (Microsoft's "Parsing C++ command-line arguments") splits it back; the
// cases are those rules' corners. tests/io/windows/ checks the round trip
// against CommandLineToArgvW itself.
#include "io/windows_command_line.hpp"

#include <gtest/gtest.h>

namespace rtether::io {
namespace {

TEST(WindowsCommandLine, PlainArgumentsAreWrittenAsTheyAre) {
  EXPECT_EQ(windows_command_line({"adb", "-s", "0123456789ABCDEF", "shell", "am"}),
            "adb -s 0123456789ABCDEF shell am");
}

TEST(WindowsCommandLine, SpacesTabsAndEmptyArgumentsAreQuoted) {
  EXPECT_EQ(windows_command_line({"C:\\Program Files\\adb.exe", "a b", "tab\there", ""}),
            "\"C:\\Program Files\\adb.exe\" \"a b\" \"tab\there\" \"\"");
}

TEST(WindowsCommandLine, BackslashesStaySingleUnlessAQuoteFollows) {
  EXPECT_EQ(windows_command_line({"C:\\dir\\file", "a\\\\b"}), "C:\\dir\\file a\\\\b");
  // Quoted: the run before the closing quote doubles.
  EXPECT_EQ(windows_command_line({"dir with space\\"}), "\"dir with space\\\\\"");
  // Quoted, but followed by a space: single.
  EXPECT_EQ(windows_command_line({"two\\\\ x"}), "\"two\\\\ x\"");
}

TEST(WindowsCommandLine, QuotesAreEscapedWithTheirBackslashesDoubled) {
  EXPECT_EQ(windows_command_line({"say \"hi\""}), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(windows_command_line({"a\\\"b"}), "\"a\\\\\\\"b\"");
  EXPECT_EQ(windows_command_line({"\""}), "\"\\\"\"");
}

TEST(WindowsCommandLine, AnEmptyArgvIsAnEmptyLine) { EXPECT_EQ(windows_command_line({}), ""); }

}  // namespace
}  // namespace rtether::io
