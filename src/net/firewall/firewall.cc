#include "net/firewall/firewall.h"

#include <nftables/libnftables.h>

#include <set>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace berth::net {
namespace {

// libnftables reports the kernel's errno only as strerror text inside its error buffer
// ("Error: Could not process rule: File exists"); berthd never calls setlocale, so the
// messages are the C locale's.
Code CodeOfError(std::string_view err) {
  if (err.find("File exists") != std::string_view::npos) return Code::kAlreadyExists;
  if (err.find("No such file or directory") != std::string_view::npos) return Code::kNotFound;
  if (err.find("Device or resource busy") != std::string_view::npos) return Code::kFailedPrecondition;
  if (err.find("Operation not permitted") != std::string_view::npos) return Code::kPermissionDenied;
  return Code::kIo;
}

// "Error: ..." lines only, joined: the echoed command and caret lines add nothing.
std::string ErrorLines(std::string_view err) {
  std::string out;
  size_t pos = 0;
  while (pos < err.size()) {
    size_t end = err.find('\n', pos);
    if (end == std::string_view::npos) end = err.size();
    std::string_view line = err.substr(pos, end - pos);
    if (line.starts_with("Error: ")) {
      if (!out.empty()) out += "; ";
      out += line.substr(7);
    }
    pos = end + 1;
  }
  return out.empty() ? std::string(err) : out;
}

Status CheckUniquePorts(std::span<const PortRule> ports) {
  std::set<std::pair<std::string_view, std::string>> keys;
  for (const PortRule& p : ports) {
    RETURN_IF_ERROR(ValidatePort(p).WithContext("port rule"));
    PortElement e = ElementOf(p);
    if (!keys.emplace(e.map, e.key).second) {
      return InvalidArgument(fmt::format("host port {} ({}) given twice", e.key, e.map));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Firewall>> Firewall::Open(std::string table) {
  RETURN_IF_ERROR(ValidateTableName(table));
  // The context opens its netlink socket now, in the calling thread's namespace.
  ASSIGN_OR_RETURN(ElementSocket elements, ElementSocket::Open());
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr) return ResourceExhausted("nft_ctx_new failed");
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  return std::unique_ptr<Firewall>(new Firewall(std::move(table), ctx, std::move(elements)));
}

Firewall::~Firewall() { nft_ctx_free(ctx_); }

Status Firewall::Run(const std::string& commands) {
  if (commands.empty()) return Status::Ok();
  // One buffer is one netlink batch: the kernel applies all of it or nothing.
  if (nft_run_cmd_from_buffer(ctx_, commands.c_str()) == 0) return Status::Ok();
  std::string_view err = nft_ctx_get_error_buffer(ctx_);
  return Status(CodeOfError(err), fmt::format("nftables table inet {}: {}", table_, ErrorLines(err)));
}

Status Firewall::EnsureTable() {
  // The common case (present) costs one GETTABLE round trip.
  if (auto exists = elements_.TableExists(table_); exists.ok() && *exists) return Status::Ok();
  // "create table" fails with EEXIST when the table is there, aborting the whole batch, so
  // an existing table is never touched (and never gets its rules appended twice).
  Status s = Run(fmt::format("create table inet {}\n{}", table_, TableSkeleton(table_)));
  if (s.code() == Code::kAlreadyExists) return Status::Ok();
  return s;
}

bool Firewall::TablePresent() {
  auto exists = elements_.TableExists(table_);
  return exists.ok() && *exists;
}

Status Firewall::AddNetwork(const NetworkRules& n) {
  RETURN_IF_ERROR(ValidateNetwork(n));
  Status s = elements_.Commit(table_, AddNetworkOps(n));
  if (s.code() == Code::kAlreadyExists) {
    return AlreadyExists(fmt::format("network bridge {} is already in the firewall", n.bridge));
  }
  if (s.code() == Code::kNotFound) return NotFound(fmt::format("no table inet {}: {}", table_, s.message()));
  return s.WithContext(fmt::format("adding network {}", n.bridge));
}

Status Firewall::RemoveNetwork(const NetworkRules& n) {
  RETURN_IF_ERROR(ValidateNetwork(n));
  return elements_.Commit(table_, RemoveNetworkOps(n)).WithContext(fmt::format("removing network {}", n.bridge));
}

Status Firewall::AddPorts(std::span<const PortRule> ports) {
  RETURN_IF_ERROR(CheckUniquePorts(ports));
  Status s = elements_.Commit(table_, AddPortOps(ports));
  if (s.code() == Code::kAlreadyExists) {
    return AlreadyExists("a host port is already published: " + s.message());
  }
  return s.WithContext("publishing ports");
}

Status Firewall::RemovePorts(std::span<const PortRule> ports) {
  RETURN_IF_ERROR(CheckUniquePorts(ports));
  Status s = elements_.Commit(table_, RemovePortOps(ports));
  // "add" of a key mapped to another value fails with EEXIST (EBUSY on older kernels).
  if (s.code() == Code::kAlreadyExists || s.code() == Code::kFailedPrecondition) {
    return FailedPrecondition("a host port is published to another container: " + s.message());
  }
  return s.WithContext("unpublishing ports");
}

Status Firewall::Replace(std::span<const NetworkRules> networks, std::span<const PortRule> ports) {
  std::set<std::string_view> bridges;
  for (const NetworkRules& n : networks) {
    RETURN_IF_ERROR(ValidateNetwork(n));
    if (!bridges.insert(n.bridge).second) {
      return InvalidArgument(fmt::format("bridge {} given twice", n.bridge));
    }
  }
  RETURN_IF_ERROR(CheckUniquePorts(ports));
  // "add" then "delete" works whether or not the table exists; the new table is built in
  // the same batch, so packets never see a half-made table.
  std::string cmds = fmt::format("add table inet {0}\ndelete table inet {0}\n", table_);
  cmds += TableSkeleton(table_);
  cmds += AllElements(table_, networks, ports);
  return Run(cmds).WithContext("replacing the table");
}

Status Firewall::DeleteTable() {
  return Run(fmt::format("add table inet {0}\ndelete table inet {0}\n", table_));
}

}  // namespace berth::net
