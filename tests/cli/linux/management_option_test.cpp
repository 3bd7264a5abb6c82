// --management's values and PWFILE's text (cli/management_option.hpp).
#include "cli/management_option.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rtether::cli {
namespace {

std::optional<ManagementOption> parse(std::vector<std::string> values, std::string* error = nullptr) {
  std::string reason;
  auto option = parse_management_option(values, reason);
  EXPECT_EQ(option.has_value(), reason.empty()) << reason;
  if (error) *error = reason;
  return option;
}

TEST(ManagementOption, PathAloneOrBeforeUnixIsAUnixSocket) {
  for (auto values : std::vector<std::vector<std::string>>{
           {"/run/rtether.sock"}, {"/run/rtether.sock", "unix"}}) {
    auto option = parse(values);
    ASSERT_TRUE(option);
    EXPECT_EQ(option->kind, ManagementOption::Kind::Unix);
    EXPECT_EQ(option->path, "/run/rtether.sock");
    EXPECT_EQ(option->password_file, "");
  }
  auto with_password = parse({"/run/rtether.sock", "unix", "/etc/pw"});
  ASSERT_TRUE(with_password);
  EXPECT_EQ(with_password->password_file, "/etc/pw");
}

TEST(ManagementOption, IpAndPortIsATcpPort) {
  auto option = parse({"127.0.0.1", "7505", "/etc/pw"});
  ASSERT_TRUE(option);
  EXPECT_EQ(option->kind, ManagementOption::Kind::Tcp);
  EXPECT_EQ(option->address.to_string(), "127.0.0.1");
  EXPECT_EQ(option->port, 7505);
  EXPECT_EQ(option->password_file, "/etc/pw");
  auto v6 = parse({"::1", "65535"});
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->address.to_string(), "::1");
  EXPECT_EQ(v6->port, 65535);
}

TEST(ManagementOption, BadValuesSayWhy) {
  std::string error;
  EXPECT_FALSE(parse({"localhost", "7505"}, &error));
  EXPECT_NE(error.find("'localhost' is neither an IP address"), std::string::npos) << error;
  for (const char* port : {"0", "65536", "75o5", "-1", ""}) {
    EXPECT_FALSE(parse({"127.0.0.1", port}, &error)) << port;
    EXPECT_NE(error.find("is not a TCP port"), std::string::npos) << error;
  }
  EXPECT_FALSE(parse({}, &error));
  EXPECT_FALSE(parse({"a", "b", "c", "d"}, &error));
  EXPECT_FALSE(parse({"", "unix"}, &error));
  EXPECT_FALSE(parse({"127.0.0.1", "7505", ""}, &error));
}

TEST(ManagementPassword, IsTheFirstLineWithoutItsEnd) {
  std::string error;
  EXPECT_EQ(password_from_file_text("s3cret\n", error), "s3cret");
  EXPECT_EQ(password_from_file_text("s3cret\r\nsecond line\n", error), "s3cret");
  EXPECT_EQ(password_from_file_text("with spaces", error), "with spaces");
  EXPECT_FALSE(password_from_file_text("", error));
  EXPECT_FALSE(password_from_file_text("\nsecond", error));
  EXPECT_NE(error.find("empty"), std::string::npos);
  EXPECT_EQ(password_from_file_text(std::string(1024, 'p'), error), std::string(1024, 'p'));
  EXPECT_FALSE(password_from_file_text(std::string(1025, 'p'), error));
  EXPECT_NE(error.find("longer than a management line"), std::string::npos);
}

TEST(ManagementPassword, AMissingFileIsNamed) {
  std::string error;
  EXPECT_FALSE(read_management_password("/nonexistent/pwfile", error));
  EXPECT_NE(error.find("/nonexistent/pwfile: cannot read it"), std::string::npos) << error;
}

}  // namespace
}  // namespace rtether::cli
