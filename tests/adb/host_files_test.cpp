// Where adb and the apk are found: the environment first, then (adb) the
// binary's folder before PATH, (apk) the current directory before the
// binary's folder. The e2e tests (tests/e2e/, tests/e2e/wine/) run them from
// the real environment.
#include "adb/host_files.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace rtether::adb {
namespace {

const std::optional<std::string> kFolder = std::string("/opt/rtether/");

FileTest files(std::set<std::string> present) {
  return [present](const std::string& path) { return present.count(path) != 0; };
}

TEST(ChooseAdb, TheAdbVariableWinsOverEverything) {
  auto shipped = *kFolder + adb_file_name();
  EXPECT_EQ(choose_adb("/usr/local/bin/adb", kFolder, files({shipped})), "/usr/local/bin/adb");
}

TEST(ChooseAdb, AnAdbBesideRtetherComesBeforePath) {
  auto shipped = *kFolder + adb_file_name();
  EXPECT_EQ(choose_adb(nullptr, kFolder, files({shipped})), shipped);
  EXPECT_EQ(choose_adb("", kFolder, files({shipped})), shipped);  // empty: unset
}

TEST(ChooseAdb, ElseTheBareNameForAPathSearch) {
  EXPECT_EQ(choose_adb(nullptr, kFolder, files({})), "adb");
  EXPECT_EQ(choose_adb(nullptr, std::nullopt, files({})), "adb");
}

TEST(ChooseApk, RtetherApkOverridesGnirehtetApk) {
  EXPECT_EQ(choose_apk("/b/r.apk", "/a/g.apk", kFolder, files({})), "/b/r.apk");
  EXPECT_EQ(choose_apk(nullptr, "/a/g.apk", kFolder, files({})), "/a/g.apk");
  EXPECT_EQ(choose_apk("", "/a/g.apk", kFolder, files({})), "/a/g.apk");
}

TEST(ChooseApk, TheCurrentDirectoryComesBeforeRtethersFolder) {
  auto shipped = *kFolder + kApkFileName;
  EXPECT_EQ(choose_apk(nullptr, nullptr, kFolder, files({kApkFileName, shipped})), kApkFileName);
  EXPECT_EQ(choose_apk(nullptr, nullptr, kFolder, files({shipped})), shipped);
}

TEST(ChooseApk, WithNoneAnywhereTheErrorNamesTheCurrentDirectorysFile) {
  EXPECT_EQ(choose_apk(nullptr, nullptr, kFolder, files({})), kApkFileName);
  EXPECT_EQ(choose_apk(nullptr, nullptr, std::nullopt, files({})), kApkFileName);
}

}  // namespace
}  // namespace rtether::adb
