// FaultInjectionEnv over both the POSIX and the in-memory Env.
#include "util/fault_injection_env.h"

#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ldb {
namespace {

enum class BaseKind { kPosix, kMem };

std::string BaseName(const testing::TestParamInfo<BaseKind>& info) {
  return info.param == BaseKind::kPosix ? "Posix" : "Mem";
}

class FaultInjectionEnvTest : public testing::TestWithParam<BaseKind> {
 protected:
  void SetUp() override {
    Env* base = Env::Default();
    if (GetParam() == BaseKind::kMem) {
      mem_env_ = NewMemEnv(Env::Default());
      base = mem_env_.get();
    }
    env_ = std::make_unique<FaultInjectionEnv>(base);
    std::string root;
    ASSERT_TRUE(base->GetTestDirectory(&root).ok());
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info->name();
    std::replace(name.begin(), name.end(), '/', '_');
    dir_ = root + "/fault_env_test-" + std::to_string(::getpid()) + "-" + name;
    ASSERT_TRUE(env_->CreateDir(dir_).ok());
    ASSERT_TRUE(env_->SyncDir(root).ok());
  }

  void TearDown() override {
    Env* base = env_->target();
    std::vector<std::string> children;
    if (base->GetChildren(dir_, &children).ok()) {
      for (const auto& f : children) base->RemoveFile(Path(f)).IgnoreError();
    }
    base->RemoveDir(dir_).IgnoreError();
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // Contents of name, or "<missing>".
  std::string Contents(const std::string& name) {
    if (!env_->FileExists(Path(name))) return "<missing>";
    std::string data;
    Status s = ReadFileToString(env_.get(), Path(name), &data);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return data;
  }

  // Simulates a crash and a restart.
  void Crash() {
    env_->SetFilesystemActive(false);
    ASSERT_TRUE(env_->DropUnsyncedFileData().ok());
    ASSERT_TRUE(env_->RemoveFilesCreatedAfterLastDirSync().ok());
    env_->ResetState();
    env_->SetFilesystemActive(true);
  }

  std::unique_ptr<Env> mem_env_;
  std::unique_ptr<FaultInjectionEnv> env_;
  std::string dir_;
};

TEST_P(FaultInjectionEnvTest, UnsyncedBytesAreDroppedSyncedKept) {
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_->NewWritableFile(Path("wal"), &f).ok());
  ASSERT_TRUE(env_->SyncDir(dir_).ok());
  ASSERT_TRUE(f->Append("durable|").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append("lost").ok());
  ASSERT_TRUE(f->Flush().ok());  // Flushed to the OS, but not synced.
  ASSERT_TRUE(f->Close().ok());
  f.reset();
  EXPECT_EQ("durable|lost", Contents("wal"));

  Crash();
  EXPECT_EQ("durable|", Contents("wal"));
}

TEST_P(FaultInjectionEnvTest, NeverSyncedFileBecomesEmpty) {
  ASSERT_TRUE(WriteStringToFile(env_.get(), "gone", Path("f")).ok());
  ASSERT_TRUE(env_->SyncDir(dir_).ok());
  Crash();
  EXPECT_EQ("", Contents("f"));
}

TEST_P(FaultInjectionEnvTest, DataBufferedAtCrashIsDropped) {
  // The file object outlives the "crash": its buffered bytes reach the base
  // file only when it is destroyed, and must still be dropped.
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_->NewWritableFile(Path("wal"), &f).ok());
  ASSERT_TRUE(env_->SyncDir(dir_).ok());
  ASSERT_TRUE(f->Append("synced").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append("buffered").ok());
  env_->SetFilesystemActive(false);
  EXPECT_TRUE(f->Close().IsIOError());
  f.reset();
  ASSERT_TRUE(env_->DropUnsyncedFileData().ok());
  EXPECT_EQ("synced", Contents("wal"));
}

TEST_P(FaultInjectionEnvTest, FilesCreatedWithoutDirSyncAreRemoved) {
  ASSERT_TRUE(WriteStringToFileSync(env_.get(), "a", Path("a")).ok());
  ASSERT_TRUE(env_->SyncDir(dir_).ok());
  ASSERT_TRUE(WriteStringToFileSync(env_.get(), "b", Path("b")).ok());
  // A SyncDir of another directory does not help b.
  ASSERT_TRUE(env_->CreateDir(Path("sub")).ok());
  ASSERT_TRUE(env_->SyncDir(Path("sub")).ok());
  ASSERT_TRUE(env_->RemoveDir(Path("sub")).ok());

  Crash();
  EXPECT_EQ("a", Contents("a"));
  EXPECT_EQ("<missing>", Contents("b"));
}

TEST_P(FaultInjectionEnvTest, RenameCarriesState) {
  // CURRENT written the way the DB does it: temp file, sync, rename, SyncDir.
  ASSERT_TRUE(
      WriteStringToFileSync(env_.get(), "MANIFEST-1\n", Path("CURRENT.tmp"))
          .ok());
  ASSERT_TRUE(env_->RenameFile(Path("CURRENT.tmp"), Path("CURRENT")).ok());
  ASSERT_TRUE(env_->SyncDir(dir_).ok());
  Crash();
  EXPECT_EQ("MANIFEST-1\n", Contents("CURRENT"));
  EXPECT_EQ("<missing>", Contents("CURRENT.tmp"));
}

TEST_P(FaultInjectionEnvTest, RenamedNewFileWithoutDirSyncIsRemoved) {
  ASSERT_TRUE(WriteStringToFileSync(env_.get(), "x", Path("tmp")).ok());
  ASSERT_TRUE(env_->RenameFile(Path("tmp"), Path("final")).ok());
  Crash();
  EXPECT_EQ("<missing>", Contents("final"));
  EXPECT_EQ("<missing>", Contents("tmp"));
}

TEST_P(FaultInjectionEnvTest, RenameOverDurableFileKeepsTarget) {
  ASSERT_TRUE(WriteStringToFileSync(env_.get(), "old", Path("CURRENT")).ok());
  ASSERT_TRUE(env_->SyncDir(dir_).ok());
  ASSERT_TRUE(WriteStringToFileSync(env_.get(), "new", Path("tmp")).ok());
  ASSERT_TRUE(env_->RenameFile(Path("tmp"), Path("CURRENT")).ok());
  Crash();
  EXPECT_EQ("new", Contents("CURRENT"));
}

TEST_P(FaultInjectionEnvTest, UnsyncedRenamedDataIsDropped) {
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_->NewWritableFile(Path("src"), &f).ok());
  ASSERT_TRUE(f->Append("ab").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append("cd").ok());
  ASSERT_TRUE(f->Close().ok());
  f.reset();
  ASSERT_TRUE(env_->RenameFile(Path("src"), Path("dst")).ok());
  ASSERT_TRUE(env_->SyncDir(dir_).ok());
  Crash();
  EXPECT_EQ("ab", Contents("dst"));
}

TEST_P(FaultInjectionEnvTest, AppendableFileKeepsPreexistingData) {
  // Written before tracking began: durable.
  ASSERT_TRUE(WriteStringToFile(env_->target(), "old|", Path("log")).ok());
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_->NewAppendableFile(Path("log"), &f).ok());
  ASSERT_TRUE(f->Append("new").ok());
  ASSERT_TRUE(f->Close().ok());
  f.reset();
  EXPECT_EQ("old|new", Contents("log"));
  Crash();
  EXPECT_EQ("old|", Contents("log"));
}

TEST_P(FaultInjectionEnvTest, InactiveFilesystemFailsWrites) {
  ASSERT_TRUE(WriteStringToFileSync(env_.get(), "keep", Path("a")).ok());
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_->NewWritableFile(Path("open"), &f).ok());

  env_->SetFilesystemActive(false);
  EXPECT_FALSE(env_->IsFilesystemActive());
  Status s = f->Append("x");
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(std::string::npos, s.ToString().find("filesystem inactive"));
  EXPECT_TRUE(f->Flush().IsIOError());
  EXPECT_TRUE(f->Sync().IsIOError());
  EXPECT_TRUE(f->Close().IsIOError());
  std::unique_ptr<WritableFile> g;
  EXPECT_TRUE(env_->NewWritableFile(Path("b"), &g).IsIOError());
  EXPECT_TRUE(env_->NewAppendableFile(Path("b"), &g).IsIOError());
  EXPECT_TRUE(env_->RenameFile(Path("a"), Path("c")).IsIOError());
  EXPECT_TRUE(env_->RemoveFile(Path("a")).IsIOError());
  EXPECT_TRUE(env_->SyncDir(dir_).IsIOError());
  EXPECT_FALSE(env_->FileExists(Path("b")));
  // Reads still work.
  EXPECT_EQ("keep", Contents("a"));

  env_->SetFilesystemActive(true);
  EXPECT_TRUE(env_->IsFilesystemActive());
  ASSERT_TRUE(env_->RenameFile(Path("a"), Path("c")).ok());
  EXPECT_EQ("keep", Contents("c"));
}

TEST_P(FaultInjectionEnvTest, InjectedWriteErrors) {
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_->NewWritableFile(Path("f"), &f).ok());
  ASSERT_TRUE(env_->SyncDir(dir_).ok());
  env_->InjectWriteErrors(2);
  EXPECT_TRUE(f->Append("lost1").IsIOError());
  EXPECT_TRUE(f->Sync().IsIOError());
  ASSERT_TRUE(f->Append("kept").ok());
  ASSERT_TRUE(f->Sync().ok());
  env_->InjectWriteErrors(1);
  EXPECT_TRUE(f->Append("lost2").IsIOError());
  ASSERT_TRUE(f->Append("tail").ok());
  env_->InjectWriteErrors(3);
  env_->InjectWriteErrors(0);  // Disables.
  ASSERT_TRUE(f->Append("!").ok());
  ASSERT_TRUE(f->Close().ok());
  f.reset();
  EXPECT_EQ("kepttail!", Contents("f"));
  Crash();
  EXPECT_EQ("kept", Contents("f"));
}

TEST_P(FaultInjectionEnvTest, SyncCount) {
  const uint64_t before = env_->sync_count();
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_->NewWritableFile(Path("f"), &f).ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append("x").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Close().ok());
  EXPECT_EQ(before + 2, env_->sync_count());
  ASSERT_TRUE(WriteStringToFileSync(env_.get(), "y", Path("g")).ok());
  EXPECT_EQ(before + 3, env_->sync_count());
}

TEST_P(FaultInjectionEnvTest, ResetStateForgetsTracking) {
  ASSERT_TRUE(WriteStringToFile(env_.get(), "unsynced", Path("f")).ok());
  env_->ResetState();
  ASSERT_TRUE(env_->DropUnsyncedFileData().ok());
  ASSERT_TRUE(env_->RemoveFilesCreatedAfterLastDirSync().ok());
  EXPECT_EQ("unsynced", Contents("f"));
}

TEST_P(FaultInjectionEnvTest, RemovedFileIsForgotten) {
  ASSERT_TRUE(WriteStringToFile(env_.get(), "x", Path("f")).ok());
  ASSERT_TRUE(env_->RemoveFile(Path("f")).ok());
  // Created again directly in the base: not ours to truncate or remove.
  ASSERT_TRUE(WriteStringToFile(env_->target(), "base", Path("f")).ok());
  Crash();
  EXPECT_EQ("base", Contents("f"));
}

INSTANTIATE_TEST_SUITE_P(AllBases, FaultInjectionEnvTest,
                         testing::Values(BaseKind::kPosix, BaseKind::kMem),
                         BaseName);

}  // namespace
}  // namespace ldb
