// Runs the ldb_crash harness (tools/ldb_crash): a writer process is killed
// with SIGKILL at random points, then a checker verifies against the
// acknowledgement log kept outside the DB that no acknowledged write was lost.
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"

#ifndef LDB_CRASH_BIN
#error "LDB_CRASH_BIN must name the ldb_crash binary"
#endif

namespace {

struct RunResult {
  int exit_code = -1;
  std::string output;
};

RunResult Run(const std::string& command) {
  RunResult r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// A fresh scratch directory (removed by the destructor).
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string tmpl =
        std::string(base != nullptr ? base : "/tmp") + "/ldb_crash_test.XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~ScratchDir() {
    if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

uint64_t Field(const std::string& out, const std::string& name) {
  const size_t pos = out.rfind(name + "=");
  if (pos == std::string::npos) return 0;
  return std::strtoull(out.c_str() + pos + name.size() + 1, nullptr, 10);
}

void RunCycles(int cycles, int seed, int unsynced_pct) {
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string cmd =
      std::string(LDB_CRASH_BIN) + " loop --db " + dir.path() + "/db --ack " +
      dir.path() + "/acks --cycles " + std::to_string(cycles) + " --seed " +
      std::to_string(seed) + " --unsynced_pct " + std::to_string(unsynced_pct);
  const RunResult r = Run(cmd);
  std::printf("%s\n", r.output.c_str());
  EXPECT_EQ(0, r.exit_code) << cmd;
  EXPECT_NE(std::string::npos, r.output.find("failures=0"))
      << "see output above";
  EXPECT_EQ(static_cast<uint64_t>(cycles), Field(r.output, "cycles"));
  // The writers did real work: the run is not vacuous.
  EXPECT_GT(Field(r.output, "total_acked"), static_cast<uint64_t>(cycles) * 5);
  EXPECT_EQ(std::string::npos, r.output.find("CHECK FAILED"));
  EXPECT_EQ(std::string::npos, r.output.find("exited by itself"));
}

TEST(LdbCrashTest, SyncedWritesSurviveKill9) { RunCycles(40, 1, 0); }

// Acknowledged writes without sync survive a process crash too.
TEST(LdbCrashTest, UnsyncedWritesSurviveKill9) { RunCycles(20, 2, 50); }

}  // namespace
