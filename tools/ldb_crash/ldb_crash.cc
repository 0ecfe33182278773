// ldb_crash: kill -9 crash harness for ldb.
//
//   ldb_crash writer --db DIR --ack FILE --seed N [--keys K] [--unsynced_pct P]
//       Writes forever (puts, deletes, batches over K keys; small memtable so
//       flushes and compactions run). Before each write it appends intent
//       lines to FILE, after the write returns OK the acknowledgements:
//         I <key> <value>   intent to put        X <key>   intent to delete
//         P <key> <value>   put acknowledged     D <key>   delete acknowledged
//         C <text>          comment (ignored)
//         A <count>         acknowledged ops so far (ends a compacted file)
//       FILE lives outside the DB; it is appended with O_APPEND and no fsync
//       (only the process is killed, never the machine).
//   ldb_crash check --db DIR --ack FILE
//       Opens the DB and compares it with the acknowledged state: every
//       acknowledged put has its value, every acknowledged delete is absent,
//       no unknown key exists. The single in-flight write (intents without
//       acknowledgement) may show its old or its new state, atomically for a
//       batch. Then appends the observed outcome of the in-flight write to
//       FILE. Exit status 0 when nothing was lost, 1 otherwise.
//   ldb_crash loop --db DIR [--ack FILE] [--cycles N] [--seconds S] [--seed N]
//                  [--unsynced_pct P] [--keep]
//       Starts from an empty DB (unless --keep), then per cycle: starts a
//       writer, kills it with SIGKILL after a random 50-500 ms (seeded), runs
//       the checker. Stops after N cycles (default 20) or S seconds, whichever
//       comes first (with only --seconds, cycles are unlimited), or at the
//       first failure. Prints one line per cycle and a summary; exit status 1
//       on any failure.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ldb/db.h"
#include "ldb/env.h"
#include "ldb/iterator.h"
#include "ldb/options.h"
#include "ldb/write_batch.h"
#include "util/random.h"

namespace ldb::crash {
namespace {

struct Args {
  std::string mode;
  std::string db;
  std::string ack;
  uint64_t seed = 1;
  int keys = 100000;
  int unsynced_pct = 0;
  int cycles = -1;  // -1: default
  int seconds = 0;
  bool keep = false;
};

[[noreturn]] void Usage(const char* msg) {
  std::fprintf(stderr,
               "ldb_crash: %s\n"
               "usage: ldb_crash writer --db DIR --ack FILE --seed N "
               "[--keys K] [--unsynced_pct P]\n"
               "       ldb_crash check --db DIR --ack FILE\n"
               "       ldb_crash loop --db DIR [--ack FILE] [--cycles N] "
               "[--seconds S] [--seed N] [--unsynced_pct P] [--keep]\n",
               msg);
  std::exit(2);
}

Args ParseArgs(int argc, char** argv) {
  if (argc < 2) Usage("missing mode");
  Args a;
  a.mode = argv[1];
  for (int i = 2; i < argc; i++) {
    std::string flag = argv[i];
    if (flag == "--keep") {
      a.keep = true;
      continue;
    }
    if (i + 1 >= argc) Usage(("missing value for " + flag).c_str());
    std::string v = argv[++i];
    if (flag == "--db") {
      a.db = v;
    } else if (flag == "--ack") {
      a.ack = v;
    } else if (flag == "--seed") {
      a.seed = std::strtoull(v.c_str(), nullptr, 10);
    } else if (flag == "--keys") {
      a.keys = std::atoi(v.c_str());
    } else if (flag == "--unsynced_pct") {
      a.unsynced_pct = std::atoi(v.c_str());
    } else if (flag == "--cycles") {
      a.cycles = std::atoi(v.c_str());
    } else if (flag == "--seconds") {
      a.seconds = std::atoi(v.c_str());
    } else {
      Usage(("unknown flag " + flag).c_str());
    }
  }
  if (a.db.empty()) Usage("--db is required");
  if (a.ack.empty()) a.ack = a.db + ".ack";
  if (a.keys <= 0) Usage("--keys must be positive");
  if (a.unsynced_pct < 0 || a.unsynced_pct > 100) Usage("bad --unsynced_pct");
  return a;
}

// The options both writer and checker use; small buffers so that flushes
// and compactions happen within a short run.
Options DbOptions() {
  Options o;
  o.create_if_missing = true;
  o.write_buffer_size = 32 * 1024;
  o.max_file_size = 64 * 1024;
  o.max_bytes_for_level_base = 256 * 1024;
  return o;
}

std::string KeyName(uint32_t k) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "k%07u", k);
  return buf;
}

// A value that names its key and the write that produced it; only
// [0-9a-z:] so that it fits on an ack line.
std::string MakeValue(const std::string& key, uint64_t seed, uint64_t n,
                      uint32_t pad) {
  std::string v =
      key + ":" + std::to_string(seed) + ":" + std::to_string(n) + ":";
  for (uint32_t i = 0; i < pad; i++)
    v.push_back(static_cast<char>('a' + (n + i) % 26));
  return v;
}

// Appends s to fd in one write(2) call (retrying on short writes).
bool AppendAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

// ------------------------------------------------------------------ writer

int RunWriter(const Args& a) {
  std::unique_ptr<DB> db;
  Status s = DB::Open(DbOptions(), a.db, &db);
  if (!s.ok()) {
    std::fprintf(stderr, "writer: open failed: %s\n", s.ToString().c_str());
    return 3;
  }
  const int fd = ::open(a.ack.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0) {
    std::perror("writer: open ack file");
    return 3;
  }
  Random rnd(a.seed * 7919 + 17);
  for (uint64_t n = 0;; n++) {
    struct Op {
      std::string key;
      std::optional<std::string> value;  // nullopt: delete
    };
    std::vector<Op> ops;
    const uint32_t kind = rnd.Uniform(100);
    const int count = kind < 15 ? 2 + static_cast<int>(rnd.Uniform(7)) : 1;
    std::set<std::string> used;
    while (static_cast<int>(ops.size()) < count) {
      std::string key = KeyName(rnd.Uniform(static_cast<uint32_t>(a.keys)));
      if (!used.insert(key).second) continue;  // distinct keys per batch
      Op op{key, std::nullopt};
      if (!rnd.OneIn(6)) {
        op.value =
            MakeValue(key, a.seed, n * 16 + ops.size(), rnd.Uniform(300));
      }
      ops.push_back(std::move(op));
    }
    std::string intents;
    std::string acks;
    WriteBatch batch;
    for (const Op& op : ops) {
      if (op.value) {
        intents += "I " + op.key + " " + *op.value + "\n";
        acks += "P " + op.key + " " + *op.value + "\n";
        batch.Put(op.key, *op.value);
      } else {
        intents += "X " + op.key + "\n";
        acks += "D " + op.key + "\n";
        batch.Delete(op.key);
      }
    }
    if (!AppendAll(fd, intents)) {
      std::perror("writer: append intents");
      return 3;
    }
    WriteOptions wo;
    wo.sync = static_cast<int>(rnd.Uniform(100)) >= a.unsynced_pct;
    if (ops.size() > 1) {
      s = db->Write(wo, &batch);
    } else if (ops[0].value) {
      s = db->Put(wo, ops[0].key, *ops[0].value);
    } else {
      s = db->Delete(wo, ops[0].key);
    }
    if (!s.ok()) {
      std::fprintf(stderr, "writer: write failed: %s\n", s.ToString().c_str());
      return 3;
    }
    if (!AppendAll(fd, acks)) {
      std::perror("writer: append acks");
      return 3;
    }
  }
}

// ------------------------------------------------------------------ checker

struct AckState {
  std::map<std::string, std::string> model;  // acknowledged live keys
  std::set<std::string> deleted;  // keys whose last acknowledged op deleted
  // The in-flight write: key -> new value (nullopt: delete), in order.
  std::map<std::string, std::optional<std::string>> pending;
  uint64_t acked_ops = 0;
  bool ends_with_newline = true;
};

bool ReadAckFile(const std::string& path, AckState* st, std::string* error) {
  std::string data;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) data.append(buf, n);
    std::fclose(f);
  }  // a missing file is an empty history
  st->ends_with_newline = data.empty() || data.back() == '\n';
  size_t pos = 0;
  int line_no = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) break;  // torn last line: never completed
    std::string line = data.substr(pos, nl - pos);
    pos = nl + 1;
    line_no++;
    if (line.empty() || line[0] == 'C') continue;
    const size_t sp1 = line.find(' ');
    if (line.size() < 3 || sp1 != 1) {
      *error = "bad ack line " + std::to_string(line_no) + ": " + line;
      return false;
    }
    const size_t sp2 = line.find(' ', 2);
    const std::string key =
        line.substr(2, sp2 == std::string::npos ? std::string::npos : sp2 - 2);
    const std::string value =
        sp2 == std::string::npos ? "" : line.substr(sp2 + 1);
    switch (line[0]) {
      case 'I':
      case 'X':
        // Intents start a new in-flight write once the previous completed.
        st->pending[key] =
            line[0] == 'I' ? std::optional<std::string>(value) : std::nullopt;
        break;
      case 'P':
        st->model[key] = value;
        st->deleted.erase(key);
        st->pending.erase(key);
        st->acked_ops++;
        break;
      case 'A':  // a compacted file: total acknowledged ops so far
        st->acked_ops = std::strtoull(key.c_str(), nullptr, 10);
        break;
      case 'D':
        st->model.erase(key);
        st->deleted.insert(key);
        st->pending.erase(key);
        st->acked_ops++;
        break;
      default:
        *error = "bad ack line " + std::to_string(line_no) + ": " + line;
        return false;
    }
  }
  return true;
}

// After a successful check: records how the in-flight write ended (so the
// next check knows), and once the file is large rewrites it as a snapshot of
// the acknowledged state (temp file + rename; only the checker runs now).
bool RecordOutcome(
    const std::string& ack, AckState* st,
    const std::map<std::string, std::optional<std::string>>& observed,
    uint64_t live) {
  constexpr uint64_t kCompactBytes = 8 << 20;
  struct stat info;
  const bool compact = ::stat(ack.c_str(), &info) == 0 &&
                       static_cast<uint64_t>(info.st_size) > kCompactBytes;
  std::string lines;
  if (compact) {
    for (const auto& [k, v] : observed) {
      if (v) {
        st->model[k] = *v;
        st->deleted.erase(k);
      } else {
        st->model.erase(k);
        st->deleted.insert(k);
      }
      st->acked_ops++;
    }
    for (const auto& [k, v] : st->model) lines += "P " + k + " " + v + "\n";
    for (const std::string& k : st->deleted) lines += "D " + k + "\n";
    lines += "A " + std::to_string(st->acked_ops) + "\n";
  } else {
    lines = st->ends_with_newline ? "" : "\n";
    for (const auto& [k, v] : observed) {
      lines += v ? "P " + k + " " + *v + "\n" : "D " + k + "\n";
    }
  }
  lines += "C checked live=" + std::to_string(live) + "\n";
  const std::string path = compact ? ack + ".tmp" : ack;
  const int flags = O_WRONLY | O_CREAT | (compact ? O_TRUNC : O_APPEND);
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return false;
  const bool written = AppendAll(fd, lines);
  ::close(fd);
  return written && (!compact || ::rename(path.c_str(), ack.c_str()) == 0);
}

int RunCheck(const Args& a) {
  AckState st;
  std::string error;
  if (!ReadAckFile(a.ack, &st, &error)) {
    std::printf("check: FAIL %s\n", error.c_str());
    return 1;
  }
  Options o = DbOptions();
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, a.db, &db);
  if (!s.ok()) {
    std::printf("check: FAIL open: %s\n", s.ToString().c_str());
    return 1;
  }
  uint64_t lost = 0, wrong = 0, extra = 0, torn_batch = 0;
  int reported = 0;
  auto report = [&](const std::string& msg) {
    if (reported++ < 10) std::printf("check:   %s\n", msg.c_str());
  };
  // Observed state of the in-flight keys, to record the outcome.
  std::map<std::string, std::optional<std::string>> observed;
  int inflight_new = 0, inflight_old = 0;

  std::set<std::string> keys;
  for (const auto& [k, v] : st.model) keys.insert(k);
  for (const auto& [k, v] : st.pending) keys.insert(k);
  keys.insert(st.deleted.begin(), st.deleted.end());
  for (const std::string& k : keys) {
    std::string got;
    s = db->Get(ReadOptions(), k, &got);
    std::optional<std::string> actual;
    if (s.ok()) {
      actual = got;
    } else if (!s.IsNotFound()) {
      report("get " + k + ": " + s.ToString());
      wrong++;
      continue;
    }
    auto m = st.model.find(k);
    const std::optional<std::string> old_state =
        m == st.model.end() ? std::nullopt
                            : std::optional<std::string>(m->second);
    auto p = st.pending.find(k);
    if (p != st.pending.end()) {
      observed[k] = actual;
      const bool is_new = actual == p->second;
      const bool is_old = actual == old_state;
      if (!is_new && !is_old) {
        report("in-flight key " + k + " holds neither old nor new state");
        wrong++;
      } else if (is_new != is_old) {
        (is_new ? inflight_new : inflight_old)++;
      }
      continue;
    }
    if (actual == old_state) continue;
    if (!actual) {
      report("LOST acknowledged put of " + k);
      lost++;
    } else if (!old_state) {
      report("acknowledged delete of " + k +
             " undone: " + actual->substr(0, 40));
      extra++;
    } else {
      report("WRONG value for " + k + ": " + actual->substr(0, 40));
      wrong++;
    }
  }
  if (inflight_new > 0 && inflight_old > 0) {
    report("in-flight batch applied partially");
    torn_batch++;
  }
  // No key the history does not know about.
  uint64_t live = 0;
  std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    live++;
    const std::string k = it->key().ToString();
    if (keys.count(k) == 0) {
      report("unknown key " + k);
      extra++;
    }
  }
  if (!it->status().ok()) {
    report("iterator: " + it->status().ToString());
    wrong++;
  }
  it.reset();
  db.reset();

  const bool ok = lost == 0 && wrong == 0 && extra == 0 && torn_batch == 0;
  if (ok && !RecordOutcome(a.ack, &st, observed, live)) {
    std::printf("check: FAIL cannot update %s\n", a.ack.c_str());
    return 1;
  }
  std::printf("check: %s keys=%zu live=%" PRIu64 " acked_ops=%" PRIu64
              " inflight=%zu (new=%d old=%d) lost=%" PRIu64 " wrong=%" PRIu64
              " extra=%" PRIu64 " torn_batch=%" PRIu64 "\n",
              ok ? "OK" : "FAIL", st.model.size(), live, st.acked_ops,
              st.pending.size(), inflight_new, inflight_old, lost, wrong, extra,
              torn_batch);
  return ok ? 0 : 1;
}

// ------------------------------------------------------------------ loop

std::string SelfPath() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  buf[n] = '\0';
  return buf;
}

pid_t Spawn(const std::string& self, const std::vector<std::string>& args) {
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>("ldb_crash"));
    for (const std::string& s : args)
      argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);
    ::execv(self.c_str(), argv.data());
    std::perror("exec");
    ::_exit(127);
  }
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

int RunLoop(const Args& a) {
  const std::string self = SelfPath();
  if (self.empty()) {
    std::fprintf(stderr, "loop: cannot find my own binary\n");
    return 2;
  }
  {
    std::error_code ec;  // the DB's parent must exist; the DB creates itself
    std::filesystem::create_directories(
        std::filesystem::path(a.db).parent_path(), ec);
  }
  if (!a.keep) {
    Options o = DbOptions();
    DestroyDB(a.db, o).IgnoreError();
    ::unlink(a.ack.c_str());
  }
  const int max_cycles = a.cycles >= 0 ? a.cycles : (a.seconds > 0 ? -1 : 20);
  const auto start = std::chrono::steady_clock::now();
  Random rnd(a.seed);
  int cycles = 0, failures = 0;
  std::printf("loop: db=%s ack=%s seed=%" PRIu64 " cycles=%d seconds=%d\n",
              a.db.c_str(), a.ack.c_str(), a.seed, max_cycles, a.seconds);
  while (max_cycles < 0 || cycles < max_cycles) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (a.seconds > 0 && elapsed >= a.seconds) break;
    const int delay_ms = 50 + static_cast<int>(rnd.Uniform(451));
    const uint64_t writer_seed =
        a.seed * 1000003 + static_cast<uint64_t>(cycles);
    pid_t writer =
        Spawn(self, {"writer", "--db", a.db, "--ack", a.ack, "--seed",
                     std::to_string(writer_seed), "--unsynced_pct",
                     std::to_string(a.unsynced_pct)});
    if (writer < 0) {
      std::perror("fork");
      return 2;
    }
    // Not waiting for a condition: the random delay is the crash point.
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(writer, SIGKILL);
    const int wstatus = Wait(writer);
    bool cycle_ok = true;
    std::string writer_end = "killed";
    if (!(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)) {
      writer_end =
          WIFEXITED(wstatus)
              ? "exited by itself with " + std::to_string(WEXITSTATUS(wstatus))
              : "died with signal " + std::to_string(WTERMSIG(wstatus));
      cycle_ok = false;
    }
    std::printf("cycle %d: writer %s after %d ms\n", cycles, writer_end.c_str(),
                delay_ms);
    pid_t checker = Spawn(self, {"check", "--db", a.db, "--ack", a.ack});
    const int cstatus = Wait(checker);
    if (!(WIFEXITED(cstatus) && WEXITSTATUS(cstatus) == 0)) {
      std::printf(
          "cycle %d: CHECK FAILED (%s)\n", cycles,
          WIFEXITED(cstatus)
              ? ("exit " + std::to_string(WEXITSTATUS(cstatus))).c_str()
              : ("signal " + std::to_string(WTERMSIG(cstatus))).c_str());
      cycle_ok = false;
    }
    cycles++;
    if (!cycle_ok) {
      failures++;
      break;  // the history no longer describes the DB: stop here
    }
  }
  // Total acknowledged operations over the run.
  AckState st;
  std::string error;
  const bool parsed = ReadAckFile(a.ack, &st, &error);
  std::printf("loop: cycles=%d failures=%d total_acked=%" PRIu64
              " live_keys=%zu%s\n",
              cycles, failures, st.acked_ops, st.model.size(),
              parsed ? "" : (" ack file unreadable: " + error).c_str());
  return failures == 0 && parsed ? 0 : 1;
}

}  // namespace
}  // namespace ldb::crash

int main(int argc, char** argv) {
  using namespace ldb::crash;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const Args a = ParseArgs(argc, argv);
  if (a.mode == "writer") return RunWriter(a);
  if (a.mode == "check") return RunCheck(a);
  if (a.mode == "loop") return RunLoop(a);
  Usage(("unknown mode " + a.mode).c_str());
}
