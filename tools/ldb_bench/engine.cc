// The registry of engines compiled into ldb_bench.
#include "engine.h"

// ldb is always linked by CMake; a manual build without the ldb library may
// define LDB_BENCH_HAVE_LDB=0 (and leave ldb_engine.cc out).
#ifndef LDB_BENCH_HAVE_LDB
#define LDB_BENCH_HAVE_LDB 1
#endif

namespace tessera::ldb_bench {

const std::vector<EngineFactory>& CompiledEngines() {
  static const std::vector<EngineFactory> engines = {
#if LDB_BENCH_HAVE_LDB
    {"ldb", &NewLdbEngine},
#endif
#if defined(LDB_BENCH_HAVE_LEVELDB)
    {"leveldb", &NewLevelDbEngine},
#endif
#if defined(LDB_BENCH_HAVE_ROCKSDB)
    {"rocksdb", &NewRocksDbEngine},
#endif
  };
  return engines;
}

}  // namespace tessera::ldb_bench
