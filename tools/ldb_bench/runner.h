// BenchmarkRunner: runs the benchmarks of --benchmarks, in order, against one
// engine in the current process.
#ifndef TESSERA_TOOLS_LDB_BENCH_RUNNER_H_
#define TESSERA_TOOLS_LDB_BENCH_RUNNER_H_

#include <functional>
#include <memory>
#include <string>

#include "engine.h"
#include "flags.h"
#include "report.h"
#include "workload.h"

namespace tessera::ldb_bench {

// True for the names --benchmarks accepts.
bool IsKnownBenchmark(const std::string& name);

// BenchOptions as configured by the flags.
BenchOptions OptionsFromFlags(const BenchFlags& flags);

// Opens the engine, runs every benchmark (printing a line for each to stdout
// and handing each result to `emit` as a wire line, see report.h), closes the
// engine, emits the process's peak RSS, and removes the DB unless --keep or
// --use_existing_db. Returns 0 when everything ran without error.
//
// Meant to run in a child process of its own (see bench.cc). Not thread-safe.
int RunEngine(const BenchFlags& flags, const EngineFactory& factory,
              const std::string& path,
              const std::function<void(const std::string&)>& emit);

}  // namespace tessera::ldb_bench

#endif  // TESSERA_TOOLS_LDB_BENCH_RUNNER_H_
