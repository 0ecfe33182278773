#include "data_commands.h"

#include <charconv>
#include <iostream>
#include <memory>

#include "tessera/client.h"

namespace tessera::cli {

namespace {

using client::CallOptions;
using client::Client;
using client::Status;

CallOptions Options(const Context& ctx) {
  CallOptions o;
  o.area = ctx.area;
  o.ttl_seconds = ctx.ttl_seconds;
  o.expire_at = ctx.expire_at;
  o.version = ctx.version;
  o.initial_value = ctx.initial_value;
  o.timeout_ms = ctx.timeout_ms;
  return o;
}

bool ParseInt64(const std::string& s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseUint32(const std::string& s, uint32_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string TtlText(int64_t ttl_seconds) {
  return ttl_seconds < 0 ? "-1 (never expires)" : std::to_string(ttl_seconds);
}

int Put(const Context& ctx, Client* c, const std::vector<std::string>& args) {
  if (args.size() != 2) return UsageError("put KEY VALUE");
  uint32_t version = 0;
  Status s = c->Put(args[0], args[1], Options(ctx), &version);
  if (!s.ok()) return ReportError(ctx, s);
  if (ctx.json) {
    std::cout << JsonObject().Add("status", "OK").Add("version", version).str() << "\n";
  } else {
    std::cout << "OK (version " << version << ")\n";
  }
  return kExitOk;
}

int Get(const Context& ctx, Client* c, const std::vector<std::string>& args) {
  if (args.size() != 1) return UsageError("get KEY");
  client::Value v;
  Status s = c->Get(args[0], &v, Options(ctx));
  if (!s.ok()) return ReportError(ctx, s);
  if (ctx.json) {
    std::cout << JsonObject()
                     .Add("status", "OK")
                     .Add("key", args[0])
                     .Add("value", v.data)
                     .Add("version", v.version)
                     .Add("expire_at", v.expire_at)
                     .Add("ttl_seconds", v.ttl_seconds)
                     .str()
              << "\n";
  } else {
    std::cout << v.data << "\n";
  }
  return kExitOk;
}

int Del(const Context& ctx, Client* c, const std::vector<std::string>& args) {
  if (args.size() != 1) return UsageError("del KEY");
  Status s = c->Remove(args[0], Options(ctx));
  if (!s.ok()) return ReportError(ctx, s);
  std::cout << (ctx.json ? JsonObject().Add("status", "OK").str() : "OK") << "\n";
  return kExitOk;
}

int IncrDecr(const Context& ctx, Client* c, bool decr, const std::vector<std::string>& args) {
  if (args.empty() || args.size() > 2) return UsageError(decr ? "decr KEY [DELTA]" : "incr KEY [DELTA]");
  int64_t delta = 1;
  if (args.size() == 2 && !ParseInt64(args[1], &delta)) return UsageError("DELTA must be an integer");
  int64_t value = 0;
  uint32_t version = 0;
  Status s = decr ? c->Decr(args[0], delta, &value, Options(ctx), &version)
                  : c->Incr(args[0], delta, &value, Options(ctx), &version);
  if (!s.ok()) return ReportError(ctx, s);
  if (ctx.json) {
    std::cout << JsonObject().Add("status", "OK").Add("value", value).Add("version", version).str()
              << "\n";
  } else {
    std::cout << value << "\n";
  }
  return kExitOk;
}

int Ttl(const Context& ctx, Client* c, const std::vector<std::string>& args) {
  if (args.size() != 1) return UsageError("ttl KEY");
  client::Value v;
  Status s = c->Get(args[0], &v, Options(ctx));
  if (!s.ok()) return ReportError(ctx, s);
  if (ctx.json) {
    std::cout << JsonObject()
                     .Add("status", "OK")
                     .Add("ttl_seconds", v.ttl_seconds)
                     .Add("expire_at", v.expire_at)
                     .str()
              << "\n";
  } else {
    std::cout << TtlText(v.ttl_seconds) << "\n";
  }
  return kExitOk;
}

int Expire(const Context& ctx, Client* c, const std::vector<std::string>& args) {
  if (args.empty() || args.size() > 2) return UsageError("expire KEY [SECONDS] (or --expire_at)");
  CallOptions o = Options(ctx);
  if (args.size() == 2) {
    if (ctx.expire_at != 0) return UsageError("give SECONDS or --expire_at, not both");
    if (!ParseUint32(args[1], &o.ttl_seconds)) return UsageError("SECONDS must be a number");
  }
  uint32_t expire_at = 0;
  Status s = c->Expire(args[0], o, &expire_at);
  if (!s.ok()) return ReportError(ctx, s);
  if (ctx.json) {
    std::cout << JsonObject().Add("status", "OK").Add("expire_at", expire_at).str() << "\n";
  } else if (expire_at == 0) {
    std::cout << "OK (never expires)\n";
  } else {
    std::cout << "OK (expires at " << expire_at << ")\n";
  }
  return kExitOk;
}

int MGet(const Context& ctx, Client* c, const std::vector<std::string>& args) {
  if (args.empty()) return UsageError("mget KEY...");
  std::vector<client::MGetItem> items;
  Status s = c->MGet(args, &items, Options(ctx));
  if (items.empty()) return ReportError(ctx, s);
  bool missing = false;
  std::vector<std::string> json;
  for (size_t i = 0; i < items.size(); ++i) {
    const client::MGetItem& item = items[i];
    missing |= item.status.IsNotFound();
    if (ctx.json) {
      JsonObject o;
      o.Add("key", args[i]).Add("status", client::CodeName(item.status.code()));
      if (item.status.ok()) {
        o.Add("value", item.value.data).Add("version", item.value.version);
        o.Add("ttl_seconds", item.value.ttl_seconds);
      } else if (!item.status.IsNotFound()) {
        o.Add("message", item.status.message());
      }
      json.push_back(o.str());
    } else if (item.status.ok()) {
      std::cout << args[i] << ": " << item.value.data << "\n";
    } else if (item.status.IsNotFound()) {
      std::cout << args[i] << ": (not found)\n";
    } else {
      std::cout << args[i] << ": error: " << item.status.ToString() << "\n";
    }
  }
  if (ctx.json) std::cout << JsonArray(json) << "\n";
  if (!s.ok()) return kExitError;
  return missing ? kExitNotFound : kExitOk;
}

int MPut(const Context& ctx, Client* c, const std::vector<std::string>& args) {
  if (args.empty() || args.size() % 2 != 0) return UsageError("mput KEY VALUE [KEY VALUE]...");
  std::vector<client::MPutEntry> entries;
  for (size_t i = 0; i < args.size(); i += 2) entries.push_back({args[i], args[i + 1], 0});
  std::vector<client::MPutItem> items;
  Status s = c->MPut(entries, &items, Options(ctx));
  if (items.empty()) return ReportError(ctx, s);
  std::vector<std::string> json;
  for (size_t i = 0; i < items.size(); ++i) {
    if (ctx.json) {
      JsonObject o;
      o.Add("key", entries[i].key).Add("status", client::CodeName(items[i].status.code()));
      if (items[i].status.ok()) o.Add("version", items[i].version);
      json.push_back(o.str());
    } else {
      std::cout << entries[i].key << ": "
                << (items[i].status.ok() ? "OK (version " + std::to_string(items[i].version) + ")"
                                         : "error: " + items[i].status.ToString())
                << "\n";
    }
  }
  if (ctx.json) std::cout << JsonArray(json) << "\n";
  return s.ok() ? kExitOk : kExitError;
}

}  // namespace

bool IsDataCommand(const std::string& command) {
  for (const char* c : {"put", "get", "del", "incr", "decr", "ttl", "expire", "mget", "mput"}) {
    if (command == c) return true;
  }
  return false;
}

int RunDataCommand(const Context& ctx, const std::string& command,
                   const std::vector<std::string>& args) {
  // Arity first, so a usage error needs no cluster.
  const size_t n = args.size();
  bool arity_ok = true;
  if (command == "put") arity_ok = n == 2;
  if (command == "get" || command == "del" || command == "ttl") arity_ok = n == 1;
  if (command == "incr" || command == "decr" || command == "expire") arity_ok = n == 1 || n == 2;
  if (command == "mget") arity_ok = n >= 1;
  if (command == "mput") arity_ok = n >= 2 && n % 2 == 0;
  if (!arity_ok) return UsageError("wrong number of arguments for " + command);
  client::Options options;
  options.config_servers = ctx.config_servers;
  options.timeout_ms = ctx.timeout_ms;
  std::unique_ptr<Client> c;
  Status s = Client::Open(options, &c);
  if (!s.ok()) return ReportError(ctx, s);
  if (command == "put") return Put(ctx, c.get(), args);
  if (command == "get") return Get(ctx, c.get(), args);
  if (command == "del") return Del(ctx, c.get(), args);
  if (command == "incr") return IncrDecr(ctx, c.get(), false, args);
  if (command == "decr") return IncrDecr(ctx, c.get(), true, args);
  if (command == "ttl") return Ttl(ctx, c.get(), args);
  if (command == "expire") return Expire(ctx, c.get(), args);
  if (command == "mget") return MGet(ctx, c.get(), args);
  if (command == "mput") return MPut(ctx, c.get(), args);
  return UsageError("unknown command " + command);
}

}  // namespace tessera::cli
