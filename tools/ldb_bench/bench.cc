// ldb_bench: db_bench-style benchmarks of ldb, LevelDB and RocksDB.
//
// main parses the flags, then runs each selected engine in a forked child
// process (so that each engine's peak RSS is its own and the engines cannot
// disturb each other's memory). A child prints a line per benchmark as it
// finishes and sends its results back through a pipe; the parent prints the
// side-by-side table at the end. With --repeats=N the engines run in N
// interleaved rounds (ldb, leveldb, rocksdb, ldb, leveldb, ...), each child on
// a fresh DB, and the final tables show medians over the rounds, so that a
// burst of noise on the machine hits one round of one engine, not one engine.
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "engine.h"
#include "flags.h"
#include "report.h"
#include "runner.h"
#include "summary.h"

namespace tessera::ldb_bench {
namespace {

constexpr long kTmpfsMagic = 0x01021994;

// Writes all of `data` to fd; false on an error other than EINTR.
bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

void PrintHeader(const BenchFlags& flags, const std::string& base,
                 const std::vector<EngineFactory>& engines) {
  const double raw_entry =
      static_cast<double>(flags.key_size + flags.value_size);
  const double file_entry =
      static_cast<double>(flags.key_size) +
      static_cast<double>(flags.value_size) *
          (flags.compression == "snappy" ? flags.compression_ratio : 1.0);
  const double num = static_cast<double>(flags.num);
  std::printf("Engines:    ");
  for (const EngineFactory& e : engines) std::printf("%s ", e.name);
  std::printf("\n");
  std::printf("Keys:       %lld bytes each\n",
              static_cast<long long>(flags.key_size));
  std::printf("Values:     %lld bytes each (%.0f bytes after compression)\n",
              static_cast<long long>(flags.value_size),
              static_cast<double>(flags.value_size) * flags.compression_ratio);
  std::printf(
      "Entries:    %lld (reads %lld, fillsync %lld), threads %lld, "
      "batch %lld\n",
      static_cast<long long>(flags.num),
      static_cast<long long>(flags.EffectiveReads()),
      static_cast<long long>(flags.EffectiveNumSync()),
      static_cast<long long>(flags.threads),
      static_cast<long long>(flags.batch_size));
  std::printf("RawSize:    %.1f MB (estimated)\n", raw_entry * num / 1048576.0);
  std::printf("FileSize:   %.1f MB (estimated)\n",
              file_entry * num / 1048576.0);
  std::printf(
      "Config:     write_buffer %lld B, block cache %lld B, 4 KiB "
      "blocks, %s, bloom %lld bits/key, max_open_files 1000\n",
      static_cast<long long>(flags.write_buffer_size),
      static_cast<long long>(flags.cache_size), flags.compression.c_str(),
      static_cast<long long>(flags.bloom_bits));
  std::printf("DB:         %s/<engine>%s\n", base.c_str(),
              flags.use_existing_db ? " (existing)" : "");
  std::printf("Benchmarks: ");
  for (size_t i = 0; i < flags.benchmarks.size(); i++) {
    std::printf("%s%s", i == 0 ? "" : ",", flags.benchmarks[i].c_str());
  }
  std::printf("\n");
  if (flags.repeats > 1) {
    std::printf(
        "Rounds:     %lld, interleaved (each round runs every engine once, "
        "in the order above,\n            on a fresh DB); final tables show "
        "medians over the rounds\n",
        static_cast<long long>(flags.repeats));
  }
  struct statfs fs {};
  if (statfs(base.c_str(), &fs) == 0 &&
      static_cast<long>(fs.f_type) == kTmpfsMagic) {
    std::printf("WARNING: %s is on tmpfs: fillsync does not reach a disk\n",
                base.c_str());
  }
#ifndef NDEBUG
  std::printf("WARNING: ldb_bench built without NDEBUG: assertions are on\n");
#endif
  std::printf("------------------------------------------------\n");
  std::fflush(stdout);
}

// Runs one engine in a child process and collects its report.
EngineReport RunInChild(const BenchFlags& flags, const EngineFactory& factory,
                        const std::string& path) {
  EngineReport report;
  report.engine = factory.name;
  int fds[2];
  if (::pipe(fds) != 0) {
    report.error = std::string("pipe: ") + std::strerror(errno);
    return report;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    report.error = std::string("fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return report;
  }
  if (pid == 0) {
    ::close(fds[0]);
    const int out = fds[1];
    const int rc = RunEngine(flags, factory, path, [out](const std::string& l) {
      if (!WriteAll(out, l)) std::perror("ldb_bench: writing to parent");
    });
    ::close(out);
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(rc);
  }

  ::close(fds[1]);
  std::string received;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    received.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }

  size_t start = 0;
  while (start < received.size()) {
    size_t end = received.find('\n', start);
    if (end == std::string::npos) end = received.size();
    const std::string line = received.substr(start, end - start);
    if (!line.empty() && !DecodeLine(line, &report)) {
      report.error = "malformed result line from child: " + line;
    }
    start = end + 1;
  }
  if (WIFSIGNALED(wstatus)) {
    report.error = "child died of signal " + std::to_string(WTERMSIG(wstatus)) +
                   " (" + strsignal(WTERMSIG(wstatus)) + ")";
  } else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0 &&
             report.error.empty()) {
    bool bench_error = false;
    for (const BenchResult& r : report.results) {
      bench_error |= r.outcome == BenchResult::Outcome::kError;
    }
    if (!bench_error) {
      report.error =
          "child exited with status " + std::to_string(WEXITSTATUS(wstatus));
    }
  }
  return report;
}

// Parses --engine: "all", or a comma-separated list of compiled-in engine
// names (and "all"), into *engines in the order given, without duplicates.
bool SelectEngines(const std::string& flag, std::vector<EngineFactory>* engines,
                   std::string* error) {
  const std::vector<EngineFactory>& compiled = CompiledEngines();
  auto add = [engines](const EngineFactory& e) {
    for (const EngineFactory& have : *engines) {
      if (std::strcmp(have.name, e.name) == 0) return;
    }
    engines->push_back(e);
  };
  for (const std::string& name : SplitList(flag)) {
    if (name == "all") {
      for (const EngineFactory& e : compiled) add(e);
      continue;
    }
    const EngineFactory* found = nullptr;
    for (const EngineFactory& e : compiled) {
      if (name == e.name) found = &e;
    }
    if (found == nullptr) {
      std::string known;
      for (const EngineFactory& e : compiled)
        known += std::string(" ") + e.name;
      *error = "bad value '" + flag + "' for --engine: '" + name +
               "' is not compiled in; expected all, or a comma-separated "
               "list of:" +
               known;
      return false;
    }
    add(*found);
  }
  if (engines->empty()) {
    *error = "--engine is empty";
    return false;
  }
  return true;
}

// "ldb_bench --a=1 --b=2": the command line, for the markdown caption.
std::string CommandLine(int argc, char** argv) {
  std::string line = "ldb_bench";
  for (int i = 1; i < argc; i++) {
    line += ' ';
    line += argv[i];
  }
  return line;
}

int Main(int argc, char** argv) {
  BenchFlags flags;
  std::string error;
  if (!ParseFlags(argc, argv, &flags, &error)) {
    std::fprintf(stderr, "ldb_bench: %s\n", error.c_str());
    return 2;
  }
  if (flags.help) {
    std::fputs(FlagsUsage().c_str(), stdout);
    std::printf("\nEngines compiled in:");
    for (const EngineFactory& e : CompiledEngines()) std::printf(" %s", e.name);
    std::printf("\n");
    return 0;
  }
  for (const std::string& name : flags.benchmarks) {
    if (!IsKnownBenchmark(name)) {
      std::fprintf(stderr,
                   "ldb_bench: unknown benchmark '%s' in --benchmarks (see "
                   "--help)\n",
                   name.c_str());
      return 2;
    }
  }

  std::vector<EngineFactory> engines;
  if (!SelectEngines(flags.engine, &engines, &error)) {
    std::fprintf(stderr, "ldb_bench: %s\n", error.c_str());
    return 2;
  }

  const std::string base = flags.db.empty()
                               ? "/tmp/ldb_bench-" + std::to_string(::getpid())
                               : flags.db;
  std::error_code ec;
  const bool base_existed = std::filesystem::exists(base, ec);
  if (!flags.use_existing_db) {
    std::filesystem::create_directories(base, ec);
    if (ec) {
      std::fprintf(stderr, "ldb_bench: creating %s: %s\n", base.c_str(),
                   ec.message().c_str());
      return 1;
    }
  }

  PrintHeader(flags, base, engines);
  // rounds[e].rounds[r]: engine e in round r.
  std::vector<EngineRounds> rounds;
  for (const EngineFactory& e : engines) {
    rounds.push_back(EngineRounds{e.name, {}});
  }
  for (int64_t r = 0; r < flags.repeats; r++) {
    if (flags.repeats > 1) {
      std::printf("---- round %lld of %lld ----\n",
                  static_cast<long long>(r + 1),
                  static_cast<long long>(flags.repeats));
    }
    for (size_t i = 0; i < engines.size(); i++) {
      rounds[i].rounds.push_back(
          RunInChild(flags, engines[i], base + "/" + engines[i].name));
    }
  }
  if (flags.repeats == 1) {
    std::vector<EngineReport> reports;
    for (const EngineRounds& e : rounds) reports.push_back(e.rounds.front());
    PrintComparison(reports, flags.benchmarks, stdout);
  } else {
    PrintMedianComparison(rounds, flags.benchmarks, stdout);
  }
  if (flags.markdown) {
    PrintMarkdown(rounds, flags.benchmarks, CommandLine(argc, argv), stdout);
  }
  std::fflush(stdout);

  if (!flags.keep && !flags.use_existing_db && !base_existed) {
    std::filesystem::remove_all(base, ec);
  }

  for (const EngineRounds& e : rounds) {
    for (const EngineReport& r : e.rounds) {
      if (!r.error.empty()) return 1;
      for (const BenchResult& b : r.results) {
        if (b.outcome == BenchResult::Outcome::kError) return 1;
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace tessera::ldb_bench

int main(int argc, char** argv) { return tessera::ldb_bench::Main(argc, argv); }
