#include "common/thread_name.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace tessera {

std::vector<int> ThreadIdsNamed(std::string_view process_dir, std::string_view name) {
  namespace fs = std::filesystem;
  std::vector<int> tids;
  std::error_code ec;
  const fs::directory_iterator end;
  for (fs::directory_iterator t(fs::path(process_dir) / "task", ec); !ec && t != end;
       t.increment(ec)) {
    const std::string tid = t->path().filename().string();
    if (tid.empty() || !std::isdigit(static_cast<unsigned char>(tid[0]))) continue;
    std::ifstream comm(t->path() / "comm");
    std::string line;
    if (std::getline(comm, line) && line == name) tids.push_back(std::stoi(tid));
  }
  return tids;
}

}  // namespace tessera
