#include "tests/cluster/local_cluster.h"

#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "common/address.h"
#include "common/asio.h"

#ifndef TESSERA_CONFIGSERVER_BIN
#error "TESSERA_CONFIGSERVER_BIN must be defined by the build"
#endif
#ifndef TESSERA_DATASERVER_BIN
#error "TESSERA_DATASERVER_BIN must be defined by the build"
#endif

namespace tessera::testing {

namespace fs = std::filesystem;

uint16_t PickFreePort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io);
  boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), 0);
  a.open(ep.protocol());
  a.bind(ep);
  return a.local_endpoint().port();
}

namespace {

// A free port not in `taken` (each port is released before the next is picked,
// so the kernel could hand the same one out twice); adds it to `taken`.
uint16_t PickFreePortNotIn(std::set<uint16_t>* taken) {
  while (true) {
    const uint16_t port = PickFreePort();
    if (taken->insert(port).second) return port;
  }
}

}  // namespace

LocalCluster::LocalCluster() {
  std::string tmpl = (fs::temp_directory_path() / "tessera-cluster-XXXXXX").string();
  char* made = mkdtemp(tmpl.data());
  dir_ = made != nullptr ? made : "/tmp/tessera-cluster-fallback";
}

LocalCluster::~LocalCluster() {
  for (auto& p : ds_) Kill(&p, SIGKILL);
  Kill(&cs_, SIGKILL);
  channels_.clear();
  io_.Stop();
  std::error_code ec;
  if (getenv("TESSERA_KEEP_TEST_DIRS") == nullptr) fs::remove_all(dir_, ec);
}

Status LocalCluster::Start(const ClusterSpec& spec) {
  spec_ = spec;
  cs_.name = "configserver";
  cs_.address = "127.0.0.1:" + std::to_string(PickFreePortNotIn(&ports_));
  ds_.resize(spec.data_servers);
  std::ostringstream conf;
  conf << "cluster_name: \"test\"\n"
       << "bucket_count: " << spec.bucket_count << "\n"
       << "copy_count: " << spec.copy_count << "\n"
       << "min_data_server_count: " << spec.data_servers << "\n"
       << "heartbeat_interval_ms: " << spec.heartbeat_interval_ms << "\n"
       << "server_down_time_ms: " << spec.server_down_time_ms << "\n"
       << "admin_token: \"" << spec.admin_token << "\"\n";
  for (int i = 0; i < spec.data_servers; ++i) {
    ds_[i].name = "ds" + std::to_string(i);
    ds_[i].address = "127.0.0.1:" + std::to_string(PickFreePortNotIn(&ports_));
    conf << "data_servers: \"" << ds_[i].address << "\"\n";
  }
  conf << spec.extra_conf << "\n";
  const std::string conf_path = dir_ + "/cluster.conf";
  std::ofstream(conf_path) << conf.str();

  cs_.argv = {TESSERA_CONFIGSERVER_BIN, "--config=" + conf_path, "--listen=" + cs_.address,
              "--data_dir=" + dir_ + "/cs", "--logtostderr"};
  Status s = Launch(&cs_);
  if (!s.ok()) return s;
  for (int i = 0; i < spec.data_servers; ++i) {
    Process& p = ds_[i];
    SetDataServerArgv(&p);
    s = Launch(&p);
    if (!s.ok()) return s;
  }
  bool ready = WaitFor(
      [&] {
        proto::Table t;
        if (!GetTable(&t).ok() || t.servers_size() != spec.data_servers) return false;
        for (const auto& srv : t.servers()) {
          if (srv.state() != proto::SERVER_UP) return false;
        }
        // Every data server serves that table version.
        proto::ListNodesResponse nodes;
        if (!ListNodes(&nodes).ok()) return false;
        for (const auto& n : nodes.nodes()) {
          if (n.member() && n.table_version() != t.version()) return false;
        }
        return true;
      },
      std::chrono::seconds(30));
  if (!ready) return Status::Unavailable("cluster did not become ready in 30 s\n" + Logs());
  return Status::OK();
}

void LocalCluster::SetDataServerArgv(Process* p) {
  p->argv = {TESSERA_DATASERVER_BIN, "--listen=" + p->address,
             "--config_servers=" + cs_.address, "--data_dir=" + dir_ + "/" + p->name,
             "--heartbeat_interval_ms=" + std::to_string(spec_.heartbeat_interval_ms),
             "--logtostderr"};
  for (const std::string& f : spec_.data_server_flags) p->argv.push_back(f);
}

Status LocalCluster::StartExtraDataServer(int* index) {
  Process p;
  p.name = "ds" + std::to_string(ds_.size());
  p.address = "127.0.0.1:" + std::to_string(PickFreePortNotIn(&ports_));
  SetDataServerArgv(&p);
  ds_.push_back(std::move(p));
  *index = static_cast<int>(ds_.size()) - 1;
  return Launch(&ds_.back());
}

Status LocalCluster::StartExtraDataServerAndWait(std::string* address) {
  int extra = 0;
  Status s = StartExtraDataServer(&extra);
  if (!s.ok()) return s;
  *address = data_server(extra);
  proto::NodeInfo info;
  const bool heard =
      WaitFor([&] { return FindNode(*address, &info); }, std::chrono::seconds(10));
  return heard ? Status::OK()
               : Status::Unavailable("config server never heard " + *address + "\n" + Logs());
}

Status LocalCluster::Admin(const std::string& add_node, const std::string& remove_node) {
  proto::Request req;
  req.mutable_admin()->set_token(spec_.admin_token);
  if (!add_node.empty()) req.mutable_admin()->set_add_node(add_node);
  if (!remove_node.empty()) req.mutable_admin()->set_remove_node(remove_node);
  proto::Response resp;
  return CallConfigServer(&req, &resp);
}

Status LocalCluster::MoveBucket(uint32_t bucket, const std::string& to) {
  proto::Request req;
  req.mutable_admin()->set_token(spec_.admin_token);
  req.mutable_admin()->mutable_move_bucket()->set_bucket(bucket);
  req.mutable_admin()->mutable_move_bucket()->set_to(to);
  proto::Response resp;
  return CallConfigServer(&req, &resp);
}

Status LocalCluster::Launch(Process* p) {
  fs::create_directories(dir_ + "/logs");
  const std::string out = dir_ + "/logs/" + p->name + ".out";
  std::vector<char*> argv;
  for (auto& a : p->argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return Status::Internal("fork failed");
  if (pid == 0) {
    // Dies with the test process (a test killed by CTest's timeout must not leave
    // servers loading the machine for the rest of the suite). Tests launch from
    // their main thread, whose exit this tracks.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  p->pid = pid;
  return Status::OK();
}

void LocalCluster::Kill(Process* p, int signal) {
  if (p->pid <= 0) return;
  kill(p->pid, signal);
  int status = 0;
  waitpid(p->pid, &status, 0);
  p->pid = -1;
}

void LocalCluster::KillDataServer(int i, int signal) { Kill(&ds_[i], signal); }
Status LocalCluster::RestartDataServer(int i) { return Launch(&ds_[i]); }
void LocalCluster::KillConfigServer(int signal) { Kill(&cs_, signal); }
Status LocalCluster::RestartConfigServer() { return Launch(&cs_); }

RpcChannel* LocalCluster::ChannelTo(const std::string& address) {
  for (auto& c : channels_) {
    if (c->address() == address) return c.get();
  }
  HostPort hp;
  ParseHostPort(address, &hp).IgnoreError();
  channels_.push_back(std::make_unique<RpcChannel>(io_.io(), hp));
  return channels_.back().get();
}

Status LocalCluster::Call(const std::string& address, proto::Request* request,
                          proto::Response* response, uint32_t timeout_ms) {
  return ChannelTo(address)->CallSync(request, timeout_ms, response);
}

Status LocalCluster::CallConfigServer(proto::Request* request, proto::Response* response) {
  Status s = Call(cs_.address, request, response);
  if (!s.ok()) return s;
  if (response->code() != proto::OK) {
    return Status(static_cast<Code>(response->code()), response->message());
  }
  return Status::OK();
}

Status LocalCluster::GetTable(proto::Table* table) {
  proto::Request req;
  req.mutable_get_table();
  proto::Response resp;
  Status s = CallConfigServer(&req, &resp);
  if (!s.ok()) return s;
  if (!resp.get_table().has_table()) return Status::Unavailable("no table in the response");
  *table = resp.get_table().table();
  return Status::OK();
}

Status LocalCluster::ListNodes(proto::ListNodesResponse* nodes) {
  proto::Request req;
  req.mutable_list_nodes();
  proto::Response resp;
  Status s = CallConfigServer(&req, &resp);
  if (!s.ok()) return s;
  *nodes = resp.list_nodes();
  return Status::OK();
}

bool LocalCluster::FindNode(const std::string& address, proto::NodeInfo* info,
                            uint64_t* table_version) {
  proto::ListNodesResponse nodes;
  if (!ListNodes(&nodes).ok()) return false;
  for (const proto::NodeInfo& n : nodes.nodes()) {
    if (n.address() != address) continue;
    *info = n;
    if (table_version != nullptr) *table_version = nodes.table_version();
    return true;
  }
  return false;
}

Status LocalCluster::MigrationStatus(proto::MigrationStatusResponse* status) {
  proto::Request req;
  req.mutable_migration_status();
  proto::Response resp;
  Status s = CallConfigServer(&req, &resp);
  if (!s.ok()) return s;
  *status = resp.migration_status();
  return Status::OK();
}

bool LocalCluster::WaitMigrationDone(std::chrono::milliseconds timeout) {
  return WaitFor(
      [&] {
        proto::MigrationStatusResponse st;
        proto::Table t;
        return MigrationStatus(&st).ok() && !st.migrating() && GetTable(&t).ok() &&
               t.destination_owners_size() == 0;
      },
      timeout);
}

bool LocalCluster::WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string LocalCluster::Logs() const {
  std::string all;
  std::vector<const Process*> procs = {&cs_};
  for (const auto& p : ds_) procs.push_back(&p);
  for (const Process* p : procs) {
    std::ifstream in(dir_ + "/logs/" + p->name + ".out");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    all += "---- " + p->name + " (" + p->address + ")\n";
    size_t from = lines.size() > 15 ? lines.size() - 15 : 0;
    for (size_t i = from; i < lines.size(); ++i) all += lines[i] + "\n";
  }
  return all;
}

#ifdef TESSERA_CLI_BIN
CliResult RunCli(const std::string& args) {
  CliResult r;
  std::string cmd = std::string(TESSERA_CLI_BIN) + " " + args + " 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) r.out.append(buf, n);
  int status = pclose(f);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}
#endif

client::Status LocalCluster::OpenClient(uint32_t max_attempts,
                                        std::unique_ptr<client::Client>* out) const {
  client::Options options;
  options.config_servers = {config_server()};
  options.timeout_ms = 3000;
  options.max_attempts = max_attempts;
  return client::Client::Open(options, out);
}

}  // namespace tessera::testing
