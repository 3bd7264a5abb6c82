// LineReader and split_command against OpenVPN's rules and the UI lines of
// every recorded transcript.
#include "mgmt/line_reader.hpp"

#include <gtest/gtest.h>

#include "mgmt/transcript.hpp"

namespace rtether::mgmt {
namespace {

using Args = std::vector<std::string>;

TEST(LineReader, CutsLinesAtNewlineAndDropsCarriageReturns) {
  LineReader reader;
  EXPECT_EQ(reader.feed("pid\r\nhold\n"), (Args{"pid", "hold"}));
}

TEST(LineReader, SurvivesEverySplitOfTheInput) {
  const std::string input = "needok 'IFCONFIG' ok\r\nstate on\nbytecount 2\n";
  for (std::size_t cut = 0; cut <= input.size(); ++cut) {
    LineReader reader;
    auto lines = reader.feed(input.substr(0, cut));
    auto rest = reader.feed(input.substr(cut));
    lines.insert(lines.end(), rest.begin(), rest.end());
    EXPECT_EQ(lines, (Args{"needok 'IFCONFIG' ok", "state on", "bytecount 2"})) << cut;
  }
}

TEST(LineReader, DropsControlAndNonAsciiBytes) {
  LineReader reader;
  EXPECT_EQ(reader.feed(std::string("p\x01" "i\x7f" "\xff" "d\0\n", 8)), (Args{"pid"}));
}

TEST(LineReader, DiscardsALineLongerThanTheBufferWhole) {
  LineReader reader;
  std::string exact(kMaxLineLength, 'a');
  EXPECT_EQ(reader.feed(exact + "\n"), (Args{exact}));
  EXPECT_EQ(reader.feed(std::string(kMaxLineLength + 1, 'b') + "\npid\n"), (Args{"pid"}));
  EXPECT_EQ(reader.discarded_lines(), 1u);
  // A very long line fed in pieces is discarded too, and what follows is intact.
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(reader.feed(std::string(500, 'c')).empty());
  EXPECT_EQ(reader.feed("tail\nhold\n"), (Args{"hold"}));
  EXPECT_EQ(reader.discarded_lines(), 2u);
}

TEST(SplitCommand, SplitsOnSpaceAndHonoursBothQuotes) {
  EXPECT_EQ(split_command("needok 'IFCONFIG' ok").arguments, (Args{"needok", "IFCONFIG", "ok"}));
  EXPECT_EQ(split_command("  state   on  all ").arguments, (Args{"state", "on", "all"}));
  EXPECT_EQ(split_command(R"(password 'Auth' "b a\"r")").arguments,
            (Args{"password", "Auth", "b a\"r"}));
  EXPECT_EQ(split_command(R"(x 'a\b' c\ d)").arguments, (Args{"x", "a\\b", "c d"}));
  EXPECT_EQ(split_command(R"(x "")").arguments, (Args{"x", ""}));
}

TEST(SplitCommand, BlankAndCommentLinesHaveNoArguments) {
  EXPECT_TRUE(split_command("").arguments.empty());
  EXPECT_TRUE(split_command("   ").arguments.empty());
  EXPECT_TRUE(split_command("# pid").arguments.empty());
  EXPECT_EQ(split_command("echo a;b").arguments, (Args{"echo", "a;b"}));
}

TEST(SplitCommand, UnclosedQuoteOrTrailingBackslashIsAnError) {
  auto open_double = split_command("needok \"IFCONFIG ok");
  EXPECT_TRUE(open_double.arguments.empty());
  EXPECT_EQ(open_double.error, "ERROR: Options error: No closing quotation (\") in TCP:0");
  EXPECT_EQ(split_command("needok 'IFCONFIG ok").error,
            "ERROR: Options error: No closing quotation (') in TCP:0");
  EXPECT_FALSE(split_command("pid \\").error.empty());
}

TEST(SplitCommand, KeepsAtMostSixteenArguments) {
  std::string line = "echo";
  for (int i = 0; i < 30; ++i) line += " w";
  EXPECT_EQ(split_command(line).arguments.size(), kMaxArguments);
}

TEST(SplitCommand, QuoteArgumentRoundTrips) {
  for (std::string word : {"IFCONFIG", "b a\"r", "it's", "", "back\\slash"}) {
    auto split = split_command("x " + quote_argument(word));
    ASSERT_EQ(split.arguments.size(), 2u) << word;
    EXPECT_EQ(split.arguments[1], word);
  }
}

TEST(SplitCommand, EveryUiLineOfTheTranscriptsSplits) {
  int lines = 0;
  for (const auto& name : testing::all_transcripts()) {
    for (const auto& event : testing::read_transcript(name)) {
      if (event.from_daemon) continue;
      LineReader reader;
      for (const auto& line : reader.feed(event.bytes)) {
        auto split = split_command(line);
        EXPECT_TRUE(split.error.empty()) << name << ": " << line;
        EXPECT_FALSE(split.arguments.empty()) << name << ": " << line;
        ++lines;
      }
    }
  }
  EXPECT_GT(lines, 200);
}

}  // namespace
}  // namespace rtether::mgmt
