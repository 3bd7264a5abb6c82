// GnirehtetApp and AdbRunner with a fake adb (a shell script that records
// its arguments and answers like adb): Gnirehtet's argument lists, the
// version check, the install decision and every failure's one line.
#include "adb/gnirehtet_app.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace rtether::adb {
namespace {

const std::string kStart =
    "shell am start -a com.genymobile.gnirehtet.START -n "
    "com.genymobile.gnirehtet/.GnirehtetActivity";
const std::string kStop =
    "shell am start -a com.genymobile.gnirehtet.STOP -n "
    "com.genymobile.gnirehtet/.GnirehtetActivity";
const std::string kDumpsys = "shell dumpsys package com.genymobile.gnirehtet";

class FakeAdb : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/rtether-fake-adb-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    adb_ = dir_ + "/adb";
    apk_ = dir_ + "/gnirehtet.apk";
    std::ofstream(apk_) << "apk";
    set_dumpsys("");
    set_failure("", 0);
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  // What `shell dumpsys package` prints; a failing exit with stderr text.
  void set_dumpsys(const std::string& text) { std::ofstream(dir_ + "/dumpsys") << text; }
  void set_failure(const std::string& stderr_text, int status) {
    std::ofstream script(adb_);
    script << "#!/bin/sh\necho \"$*\" >> '" << dir_ << "/calls'\n";
    if (status != 0)
      script << "printf '%s\\n' '" << stderr_text << "' >&2\nexit " << status << "\n";
    script << "case \"$*\" in *dumpsys*) cat '" << dir_ << "/dumpsys';; "
           << "*'am start'*) echo 'Starting: Intent { act=x }';; esac\nexit 0\n";
    script.close();
    ::chmod(adb_.c_str(), 0755);
  }
  std::vector<std::string> calls() {
    std::ifstream in(dir_ + "/calls");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  std::string dir_, adb_, apk_;
};

TEST(InstalledVersionCode, ReadsTheNumberAfterVersionCode) {
  EXPECT_EQ(installed_version_code("    versionCode=9 minSdk=21 targetSdk=29\n"), 9);
  EXPECT_EQ(installed_version_code("versionCode=90 minSdk"), 90);
  EXPECT_FALSE(installed_version_code("Activity Resolver Table:\n"));
  EXPECT_FALSE(installed_version_code("versionCode=x"));
}

TEST(StartArguments, ExtrasOnlyWhenGiven) {
  StartOptions options;
  auto plain = start_arguments(options);
  EXPECT_EQ(plain.size(), 7u);
  options.dns = "192.0.2.53";
  options.routes = "10.0.0.0/8,203.0.113.7";
  auto full = start_arguments(options);
  std::vector<std::string> tail(full.begin() + 7, full.end());
  EXPECT_EQ(tail, (std::vector<std::string>{"--esa", "dnsServers", "192.0.2.53", "--esa", "routes",
                                            "10.0.0.0/8,203.0.113.7"}));
  EXPECT_EQ(reverse_arguments(31416),
            (std::vector<std::string>{"reverse", "localabstract:gnirehtet", "tcp:31416"}));
}

TEST(AdbRunnerCommandLine, SerialGoesRightAfterTheBinary) {
  AdbRunner adb("/opt/adb");
  EXPECT_EQ(adb.command_line(std::string("S1"), {"reverse", "x"}),
            (std::vector<std::string>{"/opt/adb", "-s", "S1", "reverse", "x"}));
  EXPECT_EQ(adb.command_line(std::nullopt, {"stop"}),
            (std::vector<std::string>{"/opt/adb", "stop"}));
}

TEST_F(FakeAdb, StartInstallsWhenTheAppIsMissing) {
  AdbRunner adb(adb_);
  GnirehtetApp app(adb, apk_);
  std::string error;
  StartOptions options;
  options.dns = "192.0.2.53";
  options.port = 4000;
  ASSERT_TRUE(app.start(std::string("S1"), options, error)) << error;
  EXPECT_EQ(calls(),
            (std::vector<std::string>{"-s S1 " + kDumpsys, "-s S1 install -r " + apk_,
                                      "-s S1 reverse localabstract:gnirehtet tcp:4000",
                                      "-s S1 " + kStart + " --esa dnsServers 192.0.2.53"}));
}

TEST_F(FakeAdb, StartSkipsInstallForVersionCode9Only) {
  AdbRunner adb(adb_);
  GnirehtetApp app(adb, apk_);
  std::string error;
  set_dumpsys("    versionCode=9 minSdk=21\n");
  ASSERT_TRUE(app.start(std::nullopt, StartOptions{}, error)) << error;
  EXPECT_EQ(calls(), (std::vector<std::string>{
                         kDumpsys, "reverse localabstract:gnirehtet tcp:31416", kStart}));
  set_dumpsys("    versionCode=8 minSdk=21\n");
  ASSERT_TRUE(app.start(std::nullopt, StartOptions{}, error)) << error;
  EXPECT_EQ(calls().at(4), "install -r " + apk_);
}

TEST_F(FakeAdb, StopAndTunnelAndReinstall) {
  AdbRunner adb(adb_);
  GnirehtetApp app(adb, apk_);
  std::string error;
  ASSERT_TRUE(app.stop(std::string("S1"), error));
  ASSERT_TRUE(app.tunnel(std::nullopt, 5000, error));
  ASSERT_TRUE(app.reinstall(std::nullopt, error));
  EXPECT_EQ(calls(),
            (std::vector<std::string>{"-s S1 " + kStop, "reverse localabstract:gnirehtet tcp:5000",
                                      "uninstall com.genymobile.gnirehtet", "install -r " + apk_}));
}

TEST_F(FakeAdb, UninstallingWhatIsNotInstalledIsSaidAndReinstallStillInstalls) {
  std::ofstream script(adb_);
  script << "#!/bin/sh\necho \"$*\" >> '" << dir_ << "/calls'\n"
         << "case \"$*\" in *uninstall*) echo 'Failure [DELETE_FAILED_INTERNAL_ERROR]';; esac\n";
  script.close();
  AdbRunner adb(adb_);
  GnirehtetApp app(adb, apk_);
  std::string error;
  EXPECT_FALSE(app.uninstall(std::string("S1"), error));
  EXPECT_EQ(error, "the Gnirehtet app is not installed on S1");
  EXPECT_TRUE(app.reinstall(std::string("S1"), error)) << error;
  EXPECT_EQ(calls().back(), "-s S1 install -r " + apk_);
}

TEST_F(FakeAdb, AnotherUninstallFailureStopsReinstall) {
  std::ofstream script(adb_);
  script << "#!/bin/sh\necho \"$*\" >> '" << dir_ << "/calls'\n"
         << "echo 'Failure [DELETE_FAILED_DEVICE_POLICY_MANAGER]'; exit 1\n";
  script.close();
  AdbRunner adb(adb_);
  GnirehtetApp app(adb, apk_);
  std::string error;
  EXPECT_FALSE(app.reinstall(std::nullopt, error));
  EXPECT_EQ(error, "uninstall refused: Failure [DELETE_FAILED_DEVICE_POLICY_MANAGER]");
  EXPECT_EQ(calls().size(), 1u);
}

TEST_F(FakeAdb, AMissingApkIsNamedAndNothingIsInstalled) {
  AdbRunner adb(adb_);
  GnirehtetApp app(adb, dir_ + "/missing.apk");
  std::string error;
  EXPECT_FALSE(app.install(std::nullopt, error));
  EXPECT_NE(error.find("APK not found: '" + dir_ + "/missing.apk'"), std::string::npos);
  EXPECT_NE(error.find("GNIREHTET_APK"), std::string::npos);
  EXPECT_TRUE(calls().empty());
}

TEST_F(FakeAdb, AdbFailuresBecomeOneActionableLine) {
  struct Case {
    const char* adb_says;
    const char* we_say;
  };
  const Case cases[] = {
      {"adb: no devices/emulators found", "no device connected"},
      {"adb: error: failed to get feature set: more than one device/emulator",
       "several devices connected"},
      {"adb: device unauthorized.", "unauthorized: unlock it"},
      {"adb: device offline", "offline"},
      {"adb: device 'S9' not found", "device 'S9' not found"},
      {"something else broke", "failed (exit 1): something else broke"},
  };
  for (const auto& c : cases) {
    set_failure(c.adb_says, 1);
    AdbRunner adb(adb_);
    GnirehtetApp app(adb, apk_);
    std::string error;
    EXPECT_FALSE(app.stop(std::string("S9"), error));
    EXPECT_NE(error.find(c.we_say), std::string::npos) << c.adb_says << " -> " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
}

io::ProcessResult failed_with(const std::string& err, const std::string& out = "") {
  io::ProcessResult result;
  result.started = true;
  result.status = io::ExitStatus::exited(1);
  result.err = err;
  result.out = out;
  return result;
}

// adb's tagged line, not the "See [...] for more information" after it.
TEST(ExplainFailure, KeepsTheFirstTaggedLineNotTheLast) {
  const std::vector<std::string> argv{"adb", "reverse", "x", "y"};
  auto error = explain_failure(
      "adb", argv, std::nullopt,
      failed_with("* daemon started *\nadb: error: cannot bind listener: no such thing\n"
                  "See [http://developer.android.com/tools/device.html] for more information\n"));
  EXPECT_NE(error.find("failed (exit 1): cannot bind listener: no such thing"), std::string::npos)
      << error;
  error =
      explain_failure("adb", argv, std::nullopt, failed_with("first\n  error: second  \nthird"));
  EXPECT_NE(error.find(": second"), std::string::npos) << error;
  EXPECT_EQ(error.find("third"), std::string::npos) << error;
  // Untagged output: its last line; only stdout: stdout's.
  error = explain_failure("adb", argv, std::nullopt, failed_with("one\ntwo\n\n"));
  EXPECT_NE(error.find(": two"), std::string::npos) << error;
  error = explain_failure("adb", argv, std::nullopt, failed_with("  \n", "from stdout\n"));
  EXPECT_NE(error.find(": from stdout"), std::string::npos) << error;
  error = explain_failure("adb", argv, std::nullopt, failed_with(""));
  EXPECT_EQ(error, "'adb reverse x y' failed (exit 1)");
}

TEST(ExplainFailure, UsbPermissionsSayUdevAndPlugdev) {
  const std::vector<std::string> argv{"adb", "-s", "S1", "reverse", "x", "y"};
  for (const char* text :
       {"adb: error: failed to get feature set: insufficient permissions for device: user in "
        "plugdev group; are your udev rules wrong?\nSee [http://developer.android.com/tools/"
        "device.html] for more information",
        "error: no permissions (user in plugdev group; are your udev rules wrong?)"}) {
    auto error = explain_failure("adb", argv, std::string("S1"), failed_with(text));
    EXPECT_NE(error.find("no permission to use the USB device 'S1'"), std::string::npos) << error;
    EXPECT_NE(error.find("udev rule"), std::string::npos) << error;
    EXPECT_NE(error.find("plugdev"), std::string::npos) << error;
  }
}

TEST_F(FakeAdb, AMissingAdbSaysHowToGetIt) {
  AdbRunner adb(dir_ + "/no-adb-here");
  GnirehtetApp app(adb, apk_);
  std::string error;
  EXPECT_FALSE(app.stop(std::nullopt, error));
  EXPECT_NE(error.find("adb not found"), std::string::npos);
  EXPECT_NE(error.find("apt-get install adb"), std::string::npos);
  EXPECT_NE(error.find("ADB"), std::string::npos);
}

TEST_F(FakeAdb, AnActivityErrorFromAmIsAFailure) {
  std::ofstream script(adb_);
  script << "#!/bin/sh\necho 'Error: Activity class {x} does not exist.'\n";
  script.close();
  AdbRunner adb(adb_);
  GnirehtetApp app(adb, apk_);
  std::string error;
  EXPECT_FALSE(app.stop(std::nullopt, error));
  EXPECT_NE(error.find("Activity class"), std::string::npos) << error;
}

// run's Ctrl+C: a readable cancel fd stops the start before any adb command
// (nothing reached the device), and a start that got through says so.
TEST_F(FakeAdb, ACancelledStartSaysSoAndWhetherAmStartRan) {
  set_dumpsys("    versionCode=9 minSdk=21\n");
  AdbRunner adb(adb_);
  GnirehtetApp app(adb, apk_);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  adb.set_cancel_fd(fds[0]);
  std::string error;
  EXPECT_TRUE(app.start(std::nullopt, StartOptions{}, error)) << error;
  EXPECT_FALSE(app.interrupted());
  EXPECT_TRUE(app.start_sent());
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  EXPECT_FALSE(app.start(std::nullopt, StartOptions{}, error));
  EXPECT_TRUE(app.interrupted());
  EXPECT_FALSE(app.start_sent());
  EXPECT_NE(error.find("interrupted"), std::string::npos) << error;
  EXPECT_EQ(calls().size(), 3u);  // the first start only
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace rtether::adb
