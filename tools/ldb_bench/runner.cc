#include "runner.h"

#include <sys/resource.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "cleanup.h"
#include "histogram.h"

namespace tessera::ldb_bench {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t Nanos(Clock::time_point from, Clock::time_point to) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count());
}

enum class Kind {
  kFillSeq,
  kFillRandom,
  kOverwrite,
  kFillSync,
  kDeleteRandom,
  kReadRandom,
  kReadMissing,
  kReadSeq,
  kSeekRandom,
  kCleanup,
};

struct BenchmarkSpec {
  const char* name;
  Kind kind;
  bool fresh_db;  // starts from an empty DB
  bool is_read;
};

constexpr BenchmarkSpec kSpecs[] = {
    {"fillseq", Kind::kFillSeq, true, false},
    {"fillrandom", Kind::kFillRandom, true, false},
    {"overwrite", Kind::kOverwrite, false, false},
    {"fillsync", Kind::kFillSync, true, false},
    {"deleterandom", Kind::kDeleteRandom, false, false},
    {"readrandom", Kind::kReadRandom, false, true},
    {"readmissing", Kind::kReadMissing, false, true},
    {"readseq", Kind::kReadSeq, false, true},
    {"seekrandom", Kind::kSeekRandom, false, true},
    // Runs on DBs of its own (ldb only); leaves the engine's DB alone.
    {"cleanup", Kind::kCleanup, false, false},
};

const BenchmarkSpec* FindSpec(const std::string& name) {
  for (const BenchmarkSpec& s : kSpecs) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

// One entry of --benchmarks: "NAME", or "NAME@T" to run NAME with T threads
// instead of --threads (so that, say, fillsync,fillsync@4 compares group
// commit against one thread in the same child and round).
struct BenchmarkRef {
  const BenchmarkSpec* spec = nullptr;  // null: not a valid entry
  int64_t threads = 0;                  // 0: --threads
};

BenchmarkRef ParseBenchmark(const std::string& entry) {
  BenchmarkRef ref;
  const size_t at = entry.find('@');
  if (at == std::string::npos) {
    ref.spec = FindSpec(entry);
    return ref;
  }
  const std::string digits = entry.substr(at + 1);
  if (digits.empty() || digits.size() > 4 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return ref;
  }
  const int64_t threads = std::stoll(digits);
  if (threads < 1 || threads > 1024) return ref;
  ref.spec = FindSpec(entry.substr(0, at));
  ref.threads = threads;
  return ref;
}

// The work and the measurements of one benchmark thread. Owned and used by
// that thread while the benchmark runs; read by the runner after the join.
struct ThreadState {
  ThreadState(int t, uint64_t count, uint64_t first_index, uint64_t seed)
      : tid(t), n(count), first(first_index), rng(seed) {}

  int tid;
  uint64_t n;      // operations to do
  uint64_t first;  // first key index of sequential work
  Random64 rng;
  Histogram hist;
  uint64_t ops = 0;
  uint64_t bytes = 0;
  uint64_t found = 0;
  EngineStatus status;
  Clock::time_point start;
  Clock::time_point finish;
};

// Runs benchmarks against one open engine. Not thread-safe; it starts the
// benchmark threads itself.
class Runner {
 public:
  Runner(const BenchFlags& flags, Engine* engine, std::string path)
      : flags_(flags),
        engine_(engine),
        path_(std::move(path)),
        options_(OptionsFromFlags(flags)),
        format_(static_cast<size_t>(flags.key_size)),
        values_(static_cast<size_t>(flags.value_size), flags.compression_ratio,
                static_cast<uint64_t>(flags.seed)),
        keys_(static_cast<uint64_t>(flags.num)),
        keys_tracked_(!flags.use_existing_db) {}

  // Opens the DB: a fresh one, or the existing one with --use_existing_db.
  EngineStatus Open() {
    if (!flags_.use_existing_db) {
      EngineStatus s = RemoveDb();
      if (!s.ok()) return s;
    }
    return engine_->Open(path_, options_);
  }

  EngineStatus Close() { return engine_->Close(); }

  EngineStatus RemoveDb() {
    EngineStatus s = engine_->Destroy(path_);
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    if (s.ok() && ec) {
      s = EngineStatus::Error("removing " + path_ + ": " + ec.message());
    }
    return s;
  }

  // Runs benchmark entry `label` of --benchmarks, at `position`, with
  // `threads` threads (0: --threads).
  BenchResult Run(const std::string& label, int position, Histogram* hist) {
    const BenchmarkRef ref = ParseBenchmark(label);
    const BenchmarkSpec& spec = *ref.spec;  // main validated the entries
    threads_ = ref.threads > 0 ? ref.threads : flags_.threads;
    BenchResult result;
    result.name = label;
    result.is_read = spec.is_read;
    if (spec.kind == Kind::kCleanup) {
      if (std::string(engine_->Name()) != "ldb") {
        result.outcome = BenchResult::Outcome::kSkipped;
        result.note = "n/a: ldb only (needs the Tair comparator hooks)";
        return result;
      }
      BenchResult r = RunCleanupBenchmark(flags_, path_ + ".cleanup");
      hist->Clear();
      return r;
    }
    if (spec.fresh_db) {
      if (flags_.use_existing_db) {
        result.outcome = BenchResult::Outcome::kSkipped;
        result.note = "needs a fresh DB; --use_existing_db given";
        return result;
      }
      EngineStatus s = Close();
      if (s.ok()) s = RemoveDb();
      if (s.ok()) s = engine_->Open(path_, options_);
      if (!s.ok()) {
        result.outcome = BenchResult::Outcome::kError;
        result.note = "reopening a fresh DB: " + s.ToString();
        return result;
      }
      keys_.ClearAll();
    }

    const uint64_t num = static_cast<uint64_t>(flags_.num);
    const uint64_t reads = static_cast<uint64_t>(flags_.EffectiveReads());
    uint64_t total = num;
    std::function<void(ThreadState*)> body;
    switch (spec.kind) {
      case Kind::kFillSeq:
        body = [this](ThreadState* t) { DoWrite(t, /*seq=*/true, false); };
        break;
      case Kind::kFillRandom:
      case Kind::kOverwrite:
        body = [this](ThreadState* t) { DoWrite(t, /*seq=*/false, false); };
        break;
      case Kind::kFillSync:
        total = static_cast<uint64_t>(flags_.EffectiveNumSync());
        body = [this](ThreadState* t) { DoWrite(t, /*seq=*/false, true); };
        break;
      case Kind::kDeleteRandom:
        body = [this](ThreadState* t) { DoDeleteRandom(t); };
        break;
      case Kind::kReadRandom: {
        total = reads;
        // Read keys known to exist: those written in this run, or with
        // --use_existing_db every key in [0, num).
        const bool sample = keys_tracked_ && keys_.CountSet() > 0;
        if (keys_tracked_ && !sample) {
          result.note = "(the DB is empty: no fill ran before)";
        }
        body = [this, sample](ThreadState* t) { DoReadRandom(t, sample); };
        break;
      }
      case Kind::kReadMissing:
        total = reads;
        body = [this](ThreadState* t) { DoReadMissing(t); };
        break;
      case Kind::kReadSeq:
        total = reads;
        body = [this](ThreadState* t) { DoReadSeq(t); };
        break;
      case Kind::kSeekRandom:
        total = reads;
        body = [this](ThreadState* t) { DoSeekRandom(t); };
        break;
      case Kind::kCleanup:  // handled above
        break;
    }

    std::vector<std::unique_ptr<ThreadState>> states;
    const double seconds = RunThreads(total, position, body, &states);

    hist->Clear();
    for (const auto& t : states) {
      hist->Merge(t->hist);
      result.ops += t->ops;
      result.bytes += t->bytes;
      result.found += t->found;
      if (!t->status.ok() && result.outcome == BenchResult::Outcome::kOk) {
        result.outcome = BenchResult::Outcome::kError;
        result.note = t->status.ToString();
      }
    }
    result.elapsed_seconds = seconds;
    result.avg_micros = hist->AverageMicros();
    result.p50_micros = hist->PercentileMicros(50);
    result.p99_micros = hist->PercentileMicros(99);
    return result;
  }

 private:
  // Splits `total` operations over the threads, runs `body` on each, and
  // returns the seconds from the first thread's start to the last thread's
  // finish.
  double RunThreads(uint64_t total, int position,
                    const std::function<void(ThreadState*)>& body,
                    std::vector<std::unique_ptr<ThreadState>>* states) {
    const int threads = static_cast<int>(threads_);
    const uint64_t per = total / threads;
    const uint64_t extra = total % threads;
    uint64_t first = 0;
    for (int t = 0; t < threads; t++) {
      const uint64_t n = per + (static_cast<uint64_t>(t) < extra ? 1 : 0);
      const uint64_t seed = static_cast<uint64_t>(flags_.seed) + t +
                            (uint64_t{65536} * static_cast<uint64_t>(position));
      states->push_back(std::make_unique<ThreadState>(t, n, first, seed));
      first += n;
    }
    // All threads start together once every one of them exists.
    std::barrier start(threads);
    std::vector<std::thread> workers;
    workers.reserve(threads);
    for (int t = 0; t < threads; t++) {
      ThreadState* state = (*states)[t].get();
      workers.emplace_back([&start, &body, state] {
        start.arrive_and_wait();
        state->start = Clock::now();
        body(state);
        state->finish = Clock::now();
      });
    }
    for (std::thread& w : workers) w.join();
    Clock::time_point begin = (*states)[0]->start;
    Clock::time_point end = (*states)[0]->finish;
    for (const auto& t : *states) {
      begin = std::min(begin, t->start);
      end = std::max(end, t->finish);
    }
    return static_cast<double>(Nanos(begin, end)) / 1e9;
  }

  // fillseq, fillrandom, overwrite and fillsync: batches of batch_size puts.
  void DoWrite(ThreadState* t, bool seq, bool sync) {
    const size_t batch = static_cast<size_t>(flags_.batch_size);
    const uint64_t num = static_cast<uint64_t>(flags_.num);
    std::vector<std::string> keys(batch);
    std::vector<uint64_t> indices(batch);
    std::vector<KeyValue> puts(batch);
    uint64_t value_counter = static_cast<uint64_t>(t->tid) * 1000003;
    uint64_t done = 0;
    while (done < t->n) {
      const size_t m =
          static_cast<size_t>(std::min<uint64_t>(batch, t->n - done));
      for (size_t j = 0; j < m; j++) {
        indices[j] = seq ? (t->first + done + j) % num : t->rng.Uniform(num);
        format_.Existing(indices[j], &keys[j]);
        puts[j].key = keys[j];
        puts[j].value = values_.Get(value_counter++);
        t->bytes += puts[j].key.size() + puts[j].value.size();
      }
      const Clock::time_point t0 = Clock::now();
      EngineStatus s = engine_->Write(sync, puts.data(), m);
      t->hist.Add(Nanos(t0, Clock::now()));
      if (!s.ok()) {
        t->status = std::move(s);
        return;
      }
      for (size_t j = 0; j < m; j++) keys_.Set(indices[j]);
      done += m;
      t->ops += m;
    }
  }

  void DoDeleteRandom(ThreadState* t) {
    const uint64_t num = static_cast<uint64_t>(flags_.num);
    std::string key;
    for (uint64_t i = 0; i < t->n; i++) {
      const uint64_t index = t->rng.Uniform(num);
      format_.Existing(index, &key);
      const Clock::time_point t0 = Clock::now();
      EngineStatus s = engine_->Delete(false, key);
      t->hist.Add(Nanos(t0, Clock::now()));
      if (!s.ok()) {
        t->status = std::move(s);
        return;
      }
      keys_.Clear(index);
      t->ops++;
      t->bytes += key.size();
    }
  }

  void DoReadRandom(ThreadState* t, bool sample_written) {
    const uint64_t num = static_cast<uint64_t>(flags_.num);
    std::string key;
    std::string value;
    for (uint64_t i = 0; i < t->n; i++) {
      const uint64_t index =
          sample_written ? keys_.Sample(&t->rng) : t->rng.Uniform(num);
      format_.Existing(index, &key);
      bool found = false;
      const Clock::time_point t0 = Clock::now();
      EngineStatus s = engine_->Get(key, &value, &found);
      t->hist.Add(Nanos(t0, Clock::now()));
      if (!s.ok()) {
        t->status = std::move(s);
        return;
      }
      t->ops++;
      if (found) {
        t->found++;
        t->bytes += key.size() + value.size();
      }
    }
  }

  void DoReadMissing(ThreadState* t) {
    const uint64_t num = static_cast<uint64_t>(flags_.num);
    std::string key;
    std::string value;
    for (uint64_t i = 0; i < t->n; i++) {
      format_.Missing(t->rng.Uniform(num), &key);
      bool found = false;
      const Clock::time_point t0 = Clock::now();
      EngineStatus s = engine_->Get(key, &value, &found);
      t->hist.Add(Nanos(t0, Clock::now()));
      if (!s.ok()) {
        t->status = std::move(s);
        return;
      }
      t->ops++;
      t->bytes += key.size() + (found ? value.size() : 0);
      if (found) t->found++;
    }
  }

  // Each thread walks from the first key; one "op" is one positioning call
  // (SeekToFirst, then Next) plus reading the entry.
  void DoReadSeq(ThreadState* t) {
    std::unique_ptr<EngineIterator> it = engine_->NewIterator();
    Clock::time_point t0 = Clock::now();
    it->SeekToFirst();
    while (t->ops < t->n && it->Valid()) {
      t->bytes += it->key().size() + it->value().size();
      t->ops++;
      t->found++;
      const Clock::time_point t1 = Clock::now();
      t->hist.Add(Nanos(t0, t1));
      t0 = t1;
      it->Next();
    }
    t->status = it->status();
  }

  // One iterator per thread, reused for every Seek; found counts seeks that
  // landed exactly on their key.
  void DoSeekRandom(ThreadState* t) {
    const uint64_t num = static_cast<uint64_t>(flags_.num);
    std::unique_ptr<EngineIterator> it = engine_->NewIterator();
    std::string key;
    for (uint64_t i = 0; i < t->n; i++) {
      format_.Existing(t->rng.Uniform(num), &key);
      const Clock::time_point t0 = Clock::now();
      it->Seek(key);
      if (it->Valid()) {
        t->bytes += it->key().size() + it->value().size();
        if (it->key() == key) t->found++;
      }
      t->hist.Add(Nanos(t0, Clock::now()));
      t->ops++;
    }
    t->status = it->status();
  }

  const BenchFlags& flags_;
  int64_t threads_ = 1;  // of the benchmark running now
  Engine* const engine_;
  const std::string path_;
  const BenchOptions options_;
  const KeyFormat format_;
  const ValueData values_;
  KeySet keys_;
  // False with --use_existing_db: the keys in the DB are unknown, and every
  // key in [0, num) is assumed to exist.
  const bool keys_tracked_;
};

// RssAnon of /proc/self/status in KiB, or -1.
int64_t AnonRssKb() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  long long kb = -1;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::sscanf(line, "RssAnon: %lld kB", &kb) == 1) break;
  }
  std::fclose(f);
  return kb;
}

int64_t PeakRssKb() {
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return -1;
  return usage.ru_maxrss;  // KiB on Linux
}

// For ldb after a fillsync: how many writes each WAL sync covered (group
// commit at work) and the average sync, from the "Write groups:" line of
// ldb.stats; empty for other engines. The fillsync ran on a fresh DB, so
// the counts are its own.
std::string GroupCommitNote(const std::string& stats) {
  const size_t line = stats.find("Write groups:");
  if (line == std::string::npos) return std::string();
  // The number after `name` on that line, or -1 when it is not there.
  auto figure = [&](const std::string& name) {
    const size_t at = stats.find(name, line);
    return at == std::string::npos || at > stats.find('\n', line)
               ? -1.0
               : std::strtod(stats.c_str() + at + name.size(), nullptr);
  };
  const double groups = figure(" sync_groups=");
  const double writes = figure(" sync_writers=");
  const double sync_us = figure(" wal_sync_avg_us=");
  if (groups <= 0 || writes < 0 || sync_us < 0) return std::string();
  char buf[160];
  std::snprintf(buf, sizeof(buf),
                "%.2f writes per WAL sync (%llu syncs), WAL sync %.0f us on "
                "average",
                writes / groups, static_cast<unsigned long long>(groups), sync_us);
  return buf;
}

}  // namespace

bool IsKnownBenchmark(const std::string& name) {
  return ParseBenchmark(name).spec != nullptr;
}

BenchOptions OptionsFromFlags(const BenchFlags& flags) {
  BenchOptions options;
  options.write_buffer_size_bytes =
      static_cast<size_t>(flags.write_buffer_size);
  options.cache_size_bytes = static_cast<size_t>(flags.cache_size);
  options.bloom_bits_per_key = static_cast<int>(flags.bloom_bits);
  options.snappy = flags.compression == "snappy";
  options.use_existing_db = flags.use_existing_db;
  return options;
}

int RunEngine(const BenchFlags& flags, const EngineFactory& factory,
              const std::string& path,
              const std::function<void(const std::string&)>& emit) {
  std::unique_ptr<Engine> engine = factory.create();
  int64_t max_anon_kb = AnonRssKb();
  emit(EncodeVersion(engine->Version()));
  Runner runner(flags, engine.get(), path);
  EngineStatus s = runner.Open();
  if (!s.ok()) {
    const std::string message = "opening " + path + ": " + s.ToString();
    std::printf("%-8s ERROR %s\n", factory.name, message.c_str());
    std::fflush(stdout);
    emit(EncodeError(message));
    emit(EncodeRss(PeakRssKb(), max_anon_kb));
    return 1;
  }

  int exit_code = 0;
  Histogram hist;
  for (size_t i = 0; i < flags.benchmarks.size(); i++) {
    if (!IsKnownBenchmark(flags.benchmarks[i])) continue;  // main checked
    const BenchResult result =
        runner.Run(flags.benchmarks[i], static_cast<int>(i), &hist);
    max_anon_kb = std::max(max_anon_kb, AnonRssKb());
    std::fputs(FormatResultLine(factory.name, result).c_str(), stdout);
    if (result.outcome == BenchResult::Outcome::kOk &&
        flags.benchmarks[i].rfind("fillsync", 0) == 0) {
      const std::string note = GroupCommitNote(engine->Stats());
      if (!note.empty()) std::printf("%-8s   %s\n", factory.name, note.c_str());
    }
    if (flags.histogram && result.outcome == BenchResult::Outcome::kOk) {
      std::printf("Microseconds per call:\n%s\n", hist.ToString().c_str());
    }
    std::fflush(stdout);
    emit(EncodeResult(result));
    if (result.outcome == BenchResult::Outcome::kError) {
      exit_code = 1;
      break;  // the DB's state is unknown now
    }
  }

  if (flags.stats) {
    std::printf("---- %s statistics ----\n%s\n", factory.name,
                engine->Stats().c_str());
    std::fflush(stdout);
  }
  s = runner.Close();
  if (!s.ok()) {
    emit(EncodeError("closing: " + s.ToString()));
    exit_code = 1;
  }
  emit(EncodeRss(PeakRssKb(), max_anon_kb));
  if (!flags.keep && !flags.use_existing_db) {
    s = runner.RemoveDb();
    if (!s.ok()) {
      std::fprintf(stderr, "%s: removing %s: %s\n", factory.name, path.c_str(),
                   s.ToString().c_str());
    }
  }
  return exit_code;
}

}  // namespace tessera::ldb_bench
