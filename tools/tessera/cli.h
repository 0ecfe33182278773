// Shared pieces of the `tessera` CLI: the parsed global options, exit codes, and
// output helpers (aligned text tables, JSON). Thread-compatible.
#ifndef TESSERA_TOOLS_TESSERA_CLI_H_
#define TESSERA_TOOLS_TESSERA_CLI_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/status.h"

namespace tessera::cli {

// Exit status of the CLI (also documented in its usage text).
enum ExitCode : int {
  kExitOk = 0,
  kExitNotFound = 1,  // get/ttl/del/expire of a missing key; mget with a missing key
  kExitUsage = 2,     // bad command line
  kExitError = 3,     // any other failure (cluster unreachable, timeout, CAS mismatch, ...)
};

// The global options, from the flags (main.cc).
struct Context {
  std::vector<std::string> config_servers;
  uint32_t area = 0;
  uint32_t ttl_seconds = 0;
  uint32_t expire_at = 0;
  uint32_t version = 0;
  int64_t initial_value = 0;
  uint32_t timeout_ms = 2000;
  bool json = false;
};

// Prints "error: ..." to stderr (or a JSON error object to stdout with --json) and
// returns the exit code for `status` (NotFound -> 1, others -> 3).
int ReportError(const Context& ctx, const client::Status& status);
// Prints "usage error: <message>" and returns kExitUsage.
int UsageError(std::string_view message);

// Quoted, escaped JSON string (bytes outside printable ASCII as \u00XX).
std::string JsonString(std::string_view s);

// Builds one JSON object: {"a":1,"b":"x"}.
class JsonObject {
 public:
  JsonObject& Add(std::string_view key, std::string_view value);
  JsonObject& Add(std::string_view key, const char* value) { return Add(key, std::string_view(value)); }
  JsonObject& Add(std::string_view key, int64_t value);
  JsonObject& Add(std::string_view key, uint64_t value);
  JsonObject& Add(std::string_view key, uint32_t value) { return Add(key, uint64_t{value}); }
  JsonObject& Add(std::string_view key, int value) { return Add(key, int64_t{value}); }
  JsonObject& Add(std::string_view key, bool value);
  // `json` is inserted as is (an object or an array).
  JsonObject& AddRaw(std::string_view key, std::string_view json);
  std::string str() const { return out_ + "}"; }

 private:
  void Key(std::string_view key);
  std::string out_ = "{";
};

// "[a,b,c]" from already-encoded JSON values.
std::string JsonArray(const std::vector<std::string>& items);

// Aligned columns; the first row is the header.
std::string FormatTable(const std::vector<std::vector<std::string>>& rows);

// "1.5 MiB", "512 B".
std::string HumanBytes(uint64_t bytes);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_CLI_H_
