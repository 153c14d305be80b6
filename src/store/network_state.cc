// The container-network half of the Store: networks, endpoints, attachments and ports
// (schema version 3, see docs/state-schema.md).
#include <nlohmann/json.hpp>

#include "store/sqlite.h"
#include "store/store.h"

namespace berth::store {
namespace {

constexpr char kSelectNetworks[] =
    "SELECT uid, name, bridge, spec, created_at FROM networks ORDER BY name";
constexpr char kInsertNetwork[] =
    "INSERT INTO networks(uid, name, bridge, spec, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr char kNetworkInUse[] =
    "SELECT count(*) FROM attachments a JOIN networks n ON a.network_id = n.id WHERE n.name = ?1";
constexpr char kDeleteNetwork[] = "DELETE FROM networks WHERE name = ?1";
constexpr char kNetworkRowId[] = "SELECT id FROM networks WHERE uid = ?1";
constexpr char kSelectEndpoints[] =
    "SELECT id, name, netns, owned, pid, spec, created_at FROM endpoints ORDER BY name";
constexpr char kSelectAttachments[] =
    "SELECT a.endpoint_id, n.uid, a.ifname, a.host_ifname, a.mac, a.ipv4, a.ipv6, a.aliases "
    "FROM attachments a JOIN networks n ON a.network_id = n.id ORDER BY a.endpoint_id, a.ifname";
constexpr char kSelectPorts[] =
    "SELECT endpoint_id, protocol, host_ip, host_port, container_ip, container_port FROM ports "
    "ORDER BY endpoint_id, protocol, host_port";
constexpr char kInsertEndpoint[] =
    "INSERT INTO endpoints(name, netns, owned, pid, spec, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr char kEndpointRowId[] = "SELECT id FROM endpoints WHERE name = ?1";
constexpr char kInsertAttachment[] =
    "INSERT INTO attachments(endpoint_id, network_id, ifname, host_ifname, mac, ipv4, ipv6, aliases) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr char kInsertPort[] =
    "INSERT INTO ports(endpoint_id, protocol, host_ip, host_port, container_ip, container_port) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr char kDeleteAttachment[] =
    "DELETE FROM attachments WHERE endpoint_id = ?1 AND network_id = ?2 RETURNING ipv4, ipv6";
constexpr char kDeletePortsTo[] = "DELETE FROM ports WHERE endpoint_id = ?1 AND container_ip = ?2";
constexpr char kDeleteEndpoint[] = "DELETE FROM endpoints WHERE name = ?1";
constexpr char kSetEndpointPid[] = "UPDATE endpoints SET pid = ?2 WHERE name = ?1";

Result<int64_t> RowId(Connection& conn, const char* sql, std::string_view key, std::string_view what) {
  ASSIGN_OR_RETURN(Stmt s, conn.Prepare(sql));
  s.Text(1, key);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return NotFound(std::string(what) + " '" + std::string(key) + "' does not exist");
  return s.ColInt(0);
}

// Constraint failures name what collided, so the caller's error says which address or port.
Status Explain(Status st, const std::string& what) {
  if (st.code() == Code::kAlreadyExists) return AlreadyExists(what + " is already taken");
  return st;
}

Status InsertAttachment(Connection& conn, int64_t endpoint_id, const StoredAttachment& a) {
  ASSIGN_OR_RETURN(int64_t network_id, RowId(conn, kNetworkRowId, a.network_id, "network"));
  ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kInsertAttachment));
  s.Int(1, endpoint_id).Int(2, network_id).Text(3, a.ifname).Text(4, a.host_ifname).Text(5, a.mac);
  s.TextOrNull(6, a.ipv4).TextOrNull(7, a.ipv6).Text(8, nlohmann::json(a.aliases).dump());
  return Explain(s.Run(), "an address of " + a.ipv4 + (a.ipv6.empty() ? "" : " / " + a.ipv6) +
                              " or interface " + a.ifname + " on network " + a.network_id.substr(0, 12));
}

Status InsertPorts(Connection& conn, int64_t endpoint_id, const std::vector<StoredPort>& ports) {
  for (const StoredPort& p : ports) {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kInsertPort));
    s.Int(1, endpoint_id).Text(2, p.protocol).Text(3, p.host_ip).Int(4, p.host_port);
    s.Text(5, p.container_ip).Int(6, p.container_port);
    RETURN_IF_ERROR(Explain(s.Run(), "host port " + (p.host_ip.empty() ? "*" : p.host_ip) + ":" +
                                         std::to_string(p.host_port) + "/" + p.protocol));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<StoredNetwork>> Store::ListNetworks() {
  ASSIGN_OR_RETURN(ReaderLease conn, AcquireReader());
  ASSIGN_OR_RETURN(Stmt s, (*conn).Prepare(kSelectNetworks));
  std::vector<StoredNetwork> out;
  RETURN_IF_ERROR(ForEachRow(s, [&]() -> Status {
    out.push_back({s.ColText(0), s.ColText(1), s.ColText(2), s.ColText(3), s.ColInt(4)});
    return Status::Ok();
  }));
  return out;
}

Status Store::CreateNetwork(const StoredNetwork& n) {
  std::lock_guard lock(write_mu_);
  ASSIGN_OR_RETURN(Stmt s, writer_->Prepare(kInsertNetwork));
  s.Text(1, n.id).Text(2, n.name).Text(3, n.bridge).Text(4, n.spec);
  s.Int(5, n.created_at ? n.created_at : NowSeconds());
  Status st = s.Run();
  if (st.code() == Code::kAlreadyExists) return AlreadyExists("network '" + n.name + "' already exists");
  return st;
}

Status Store::DeleteNetwork(std::string_view name) {
  std::lock_guard lock(write_mu_);
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*writer_, /*write=*/true));
  {
    ASSIGN_OR_RETURN(Stmt s, writer_->Prepare(kNetworkInUse));
    s.Text(1, name);
    RETURN_IF_ERROR(s.Step().status());
    if (int64_t n = s.ColInt(0); n > 0) {
      return FailedPrecondition("network '" + std::string(name) + "' has " + std::to_string(n) +
                                " attached endpoint(s): disconnect them first");
    }
  }
  ASSIGN_OR_RETURN(Stmt s, writer_->Prepare(kDeleteNetwork));
  s.Text(1, name);
  RETURN_IF_ERROR(s.Run());
  if (sqlite3_changes(writer_->handle()) == 0) return NotFound("network '" + std::string(name) + "' does not exist");
  return tx.Commit();
}

Result<std::vector<StoredEndpoint>> Store::ListEndpoints() {
  ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  Connection& conn = *lease;
  // One read transaction, so the three queries see one state.
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn, /*write=*/false));
  std::vector<StoredEndpoint> out;
  std::unordered_map<int64_t, size_t> index;
  {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kSelectEndpoints));
    RETURN_IF_ERROR(ForEachRow(s, [&]() -> Status {
      index[s.ColInt(0)] = out.size();
      StoredEndpoint e;
      e.name = s.ColText(1);
      e.netns = s.ColText(2);
      e.owned = s.ColInt(3) != 0;
      e.pid = s.ColInt(4);
      e.spec = s.ColText(5);
      e.created_at = s.ColInt(6);
      out.push_back(std::move(e));
      return Status::Ok();
    }));
  }
  {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kSelectAttachments));
    RETURN_IF_ERROR(ForEachRow(s, [&]() -> Status {
      auto it = index.find(s.ColInt(0));
      if (it == index.end()) return Status::Ok();
      StoredAttachment a{s.ColText(1), s.ColText(2), s.ColText(3), s.ColText(4), s.ColText(5), s.ColText(6), {}};
      auto aliases = nlohmann::json::parse(s.ColText(7), nullptr, /*allow_exceptions=*/false);
      if (!aliases.is_array()) return Status(Code::kIo, "corrupt aliases in state database");
      for (const auto& alias : aliases) {
        if (alias.is_string()) a.aliases.push_back(alias.get<std::string>());
      }
      out[it->second].attachments.push_back(std::move(a));
      return Status::Ok();
    }));
  }
  {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kSelectPorts));
    RETURN_IF_ERROR(ForEachRow(s, [&]() -> Status {
      auto it = index.find(s.ColInt(0));
      if (it == index.end()) return Status::Ok();
      out[it->second].ports.push_back({s.ColText(1), s.ColText(2), static_cast<uint16_t>(s.ColInt(3)),
                                       s.ColText(4), static_cast<uint16_t>(s.ColInt(5))});
      return Status::Ok();
    }));
  }
  return out;
}

Status Store::CreateEndpoint(const StoredEndpoint& e) {
  std::lock_guard lock(write_mu_);
  Connection& conn = *writer_;
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn, /*write=*/true));
  {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kInsertEndpoint));
    s.Text(1, e.name).Text(2, e.netns).Int(3, e.owned ? 1 : 0).Int(4, e.pid).Text(5, e.spec);
    s.Int(6, e.created_at ? e.created_at : NowSeconds());
    Status st = s.Run();
    if (st.code() == Code::kAlreadyExists) return AlreadyExists("endpoint '" + e.name + "' already exists");
    RETURN_IF_ERROR(st);
  }
  int64_t id = conn.LastInsertId();
  for (const StoredAttachment& a : e.attachments) RETURN_IF_ERROR(InsertAttachment(conn, id, a));
  RETURN_IF_ERROR(InsertPorts(conn, id, e.ports));
  return tx.Commit();
}

Status Store::AddAttachment(std::string_view endpoint, const StoredAttachment& a,
                            const std::vector<StoredPort>& ports) {
  std::lock_guard lock(write_mu_);
  Connection& conn = *writer_;
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn, /*write=*/true));
  ASSIGN_OR_RETURN(int64_t id, RowId(conn, kEndpointRowId, endpoint, "endpoint"));
  RETURN_IF_ERROR(InsertAttachment(conn, id, a));
  RETURN_IF_ERROR(InsertPorts(conn, id, ports));
  return tx.Commit();
}

Status Store::RemoveAttachment(std::string_view endpoint, std::string_view network_id) {
  std::lock_guard lock(write_mu_);
  Connection& conn = *writer_;
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn, /*write=*/true));
  ASSIGN_OR_RETURN(int64_t id, RowId(conn, kEndpointRowId, endpoint, "endpoint"));
  ASSIGN_OR_RETURN(int64_t network, RowId(conn, kNetworkRowId, network_id, "network"));
  std::vector<std::string> addresses;
  {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kDeleteAttachment));
    s.Int(1, id).Int(2, network);
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      return NotFound("endpoint '" + std::string(endpoint) + "' is not attached to network " +
                      std::string(network_id.substr(0, 12)));
    }
    for (int col : {0, 1}) {
      if (!s.ColIsNull(col)) addresses.push_back(s.ColText(col));
    }
    RETURN_IF_ERROR(s.Step().status());  // finish the statement before the next one
  }
  // Ports forwarded to the addresses that just went would lead nowhere.
  for (const std::string& ip : addresses) {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kDeletePortsTo));
    s.Int(1, id).Text(2, ip);
    RETURN_IF_ERROR(s.Run());
  }
  return tx.Commit();
}

Status Store::DeleteEndpoint(std::string_view name) {
  std::lock_guard lock(write_mu_);
  ASSIGN_OR_RETURN(Stmt s, writer_->Prepare(kDeleteEndpoint));
  s.Text(1, name);
  RETURN_IF_ERROR(s.Run());
  if (sqlite3_changes(writer_->handle()) == 0) return NotFound("endpoint '" + std::string(name) + "' does not exist");
  return Status::Ok();
}

Status Store::SetEndpointPid(std::string_view name, int64_t pid) {
  std::lock_guard lock(write_mu_);
  ASSIGN_OR_RETURN(Stmt s, writer_->Prepare(kSetEndpointPid));
  s.Text(1, name).Int(2, pid);
  RETURN_IF_ERROR(s.Run());
  if (sqlite3_changes(writer_->handle()) == 0) return NotFound("endpoint '" + std::string(name) + "' does not exist");
  return Status::Ok();
}

}  // namespace berth::store
