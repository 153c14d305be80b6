// The embedded state store: zones, their records and the per-zone change journal (for IXFR) in
// one SQLite database, <state_dir>/berth.db, in WAL mode with synchronous=FULL so that a
// returned OK means the change is on disk (except ApplyChanges with kDeferred, durable once
// SyncJournal returns). Dynamic changes are journaled (one row per zone per group commit); the
// records table catches up later (FoldRRsets, Checkpoint). Thread-safe: writes
// go through one writer connection under a mutex; reads use a pool of reader connections and run
// concurrently with the writer.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "dns/wire/message.h"
#include "dns/wire/name.h"

namespace berth::store {

// Where a zone's contents come from: a zone file on disk (reloaded at start and on SIGHUP) or
// the store itself (created through the API, changed by dynamic updates).
enum class ZoneSource { kFile, kStore };

// "file" / "store", the values of zones.source.
std::string_view ZoneSourceName(ZoneSource source);

struct ZoneInfo {
  int64_t id = 0;
  dns::Name name;           // as stored: lower-case, absolute
  ZoneSource source = ZoneSource::kStore;
  std::string file;         // the zone file for kFile zones, else empty
  uint32_t serial = 0;      // SOA serial of the stored records (0 without an SOA)
  int64_t created_at = 0;   // Unix seconds
  int64_t updated_at = 0;
};

// One journaled change to a zone: `remove` then `add`, moving it to `new_serial`.
struct Change {
  dns::Name zone;
  std::vector<dns::Record> remove;
  std::vector<dns::Record> add;
  uint32_t new_serial = 0;
};

// One entry of a zone's change journal, oldest first from ZoneJournal().
struct JournalEntry {
  uint32_t old_serial = 0;
  uint32_t new_serial = 0;
  int64_t changed_at = 0;
  std::vector<dns::Record> removed;  // with the TTL they had when removed
  std::vector<dns::Record> added;
};

// A credential created through the admin API (src/auth owns the meaning of the fields).
struct StoredCredential {
  std::string kind;       // "token", "user" or "tsig_key"
  std::string name;
  std::string secret;     // token: "sha256:<hex>"; user: a crypt(3) hash; tsig_key: base64
  std::string algorithm;  // tsig_key only, e.g. "hmac-sha256"
  std::string scope;      // JSON array of scope rules
  int64_t created_at = 0; // Unix seconds; 0 = now when stored
};

// A container network as stored; src/net owns the meaning of `spec` (its JSON form).
struct StoredNetwork {
  std::string id;       // 64 hex digits
  std::string name;
  std::string bridge;   // the Linux bridge (or macvlan parent) berth made for it
  std::string spec;     // JSON
  int64_t created_at = 0;
};

// One endpoint's place on one network.
struct StoredAttachment {
  std::string network_id;
  std::string ifname;       // inside the namespace: eth0, eth1, ...
  std::string host_ifname;  // the veth end on the host ("" for macvlan)
  std::string mac;
  std::string ipv4, ipv6;   // "" when the network has no subnet of that family
  std::vector<std::string> aliases;
};

// One published port of an endpoint (ranges are stored port by port).
struct StoredPort {
  std::string protocol;     // "tcp" / "udp"
  std::string host_ip;      // "" = every host address
  uint16_t host_port = 0;
  std::string container_ip;
  uint16_t container_port = 0;
};

// A network namespace berth attached (a `berth run` container, a named netns, a process's).
struct StoredEndpoint {
  std::string name;
  std::string netns;        // path: /run/netns/NAME, /proc/PID/ns/net
  bool owned = false;       // berth made the namespace and removes it with the endpoint
  int64_t pid = 0;
  std::string spec;         // JSON (command, resolv.conf settings, ...)
  int64_t created_at = 0;   // 0 = now when stored
  std::vector<StoredAttachment> attachments;
  std::vector<StoredPort> ports;
};

class Connection;

class Store {
 public:
  // The current on-disk schema version (see docs/state-schema.md).
  static constexpr int kSchemaVersion = 6;

  // Opens or creates <state_dir>/berth.db (creating state_dir with mode 0750) and migrates the
  // schema forward. Errors name the path: kIo (cannot create/open/write, not a database),
  // kFailedPrecondition (schema newer than this binary).
  static Result<std::unique_ptr<Store>> Open(const std::string& state_dir);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The database file's path.
  const std::string& path() const { return path_; }

  // All zones ordered by name. kIo on database errors.
  Result<std::vector<ZoneInfo>> ListZones();
  // One zone; kNotFound when it does not exist.
  Result<ZoneInfo> GetZone(const dns::Name& zone);
  // Creates a zone with `records` (serial from its SOA, if any) in one transaction; `file` is
  // recorded for kFile zones. kAlreadyExists (zone or a duplicate record), kInvalidArgument
  // (record outside the zone, meta type, bad RDATA); nothing is written on error.
  Status CreateZone(const dns::Name& zone, ZoneSource source, std::vector<dns::Record> records,
                    const std::string& file = {});
  // Deletes a zone with its records and journal. kNotFound when it does not exist.
  Status DeleteZone(const dns::Name& zone);
  // The zone's records in insertion order, owner names with their stored case. kNotFound.
  Result<std::vector<dns::Record>> ZoneRecords(const dns::Name& zone);
  // Makes the zone hold exactly `records` (creating it if needed) in one transaction, and
  // journals the difference when an existing zone changed. Duplicate input records are merged
  // (a zone file may repeat a record). kInvalidArgument as CreateZone; nothing written on error.
  Status ReplaceZone(const dns::Name& zone, ZoneSource source,
                     const std::vector<dns::Record>& records, const std::string& file = {});
  // Journals one change: `remove` (the records as stored: TTL and owner case) then `add`,
  // moving the zone to `new_serial`; returns it. The caller (the zone service, whose in-memory
  // zone is loaded from this store) is the authority on what the zone holds: records match on
  // (owner, type, class, rdata) and removing an absent record or adding a present one is not
  // checked here. kNotFound (zone), kInvalidArgument (a bad record to add; removed records
  // are taken as the zone's own and not checked again); nothing written on error.
  Result<uint32_t> ApplyChange(const dns::Name& zone, const std::vector<dns::Record>& remove,
                               const std::vector<dns::Record>& add, uint32_t new_serial);
  // Journals several changes in ONE transaction and one fsync (group commit): one row per zone.
  // The result at index i is change i's new serial or its own error (kNotFound,
  // kInvalidArgument), and a failed change leaves no trace. A database error fails the batch.
  // kDeferred commits without the fsync: the changes are durable only once SyncJournal (or
  // any later synced commit) returns OK, so the caller can journal the next batch meanwhile.
  enum class Durability { kSynced, kDeferred };
  Result<std::vector<Result<uint32_t>>> ApplyChanges(std::span<const Change> changes,
                                                     Durability durability = Durability::kSynced);
  // Makes everything committed so far durable (fdatasync of the WAL). Safe to call from
  // another thread while the writer works; never waits for the writer. kIo.
  Status SyncJournal();
  // Folds the journaled changes into the records table for every zone with at least `due`
  // changes not yet folded, and trims those zones' journals to their newest `journal_keep`
  // entries (0: keep all). Reads never need it (ZoneRecords applies what is not folded); it
  // bounds the work of the next start and the journal's size. Not fsynced on its own: losing it
  // loses nothing.
  Status Checkpoint(size_t due, size_t journal_keep);
  // The current records of one RRset (empty: it is gone).
  struct RRsetRecords {
    dns::Name owner;
    uint16_t type = 0;
    std::vector<dns::Record> records;
  };
  // Folds the zone's whole journal from the caller's knowledge of the result instead of
  // replaying it: `rrsets` must give the current state of EVERY RRset an unfolded journal
  // entry touched (the zone service tracks them as it journals). The cost follows the number
  // of RRsets, not of changes: rows are rewritten in place, so a record that replaced another
  // takes its row (and its place in ZoneRecords' order). kNotFound, kInvalidArgument (also for
  // a record whose owner or type is not its RRset's); then trims like Checkpoint.
  Status FoldRRsets(const dns::Name& zone, std::span<const RRsetRecords> rrsets, size_t journal_keep);
  // The zone's change journal, oldest first (what IXFR will serve). kNotFound.
  Result<std::vector<JournalEntry>> ZoneJournal(const dns::Name& zone);
  // Folds the zone's journal into its records, then drops all but the newest `keep` journal
  // entries (IXFR then falls back to AXFR for older serials). Returns how many went. kNotFound.
  Result<size_t> TrimJournal(const dns::Name& zone, size_t keep);

  // Runtime credentials, ordered by kind then name. kIo.
  Result<std::vector<StoredCredential>> ListCredentials();
  // Stores a new credential (durable when it returns). kAlreadyExists for a taken
  // (kind, name); kInvalidArgument for an unknown kind.
  Status PutCredential(const StoredCredential& credential);
  // kNotFound when there is no such credential.
  Status DeleteCredential(std::string_view kind, std::string_view name);

  // Container networks (network_state.cc). All ordered by name; writes are durable on return.
  Result<std::vector<StoredNetwork>> ListNetworks();
  // kAlreadyExists when the name or id is taken.
  Status CreateNetwork(const StoredNetwork& network);
  // kNotFound; kFailedPrecondition while endpoints are attached to it.
  Status DeleteNetwork(std::string_view name);
  Result<std::vector<StoredEndpoint>> ListEndpoints();
  // Stores an endpoint with its attachments and ports in one transaction. kAlreadyExists
  // (endpoint name, an address taken on a network, a host port taken), kNotFound (network).
  Status CreateEndpoint(const StoredEndpoint& endpoint);
  // Adds one attachment (and ports) to an existing endpoint. Errors as CreateEndpoint.
  Status AddAttachment(std::string_view endpoint, const StoredAttachment& attachment,
                       const std::vector<StoredPort>& ports = {});
  // Removes the endpoint's attachment to the network. kNotFound.
  Status RemoveAttachment(std::string_view endpoint, std::string_view network_id);
  // Removes the endpoint with its attachments and ports. kNotFound.
  Status DeleteEndpoint(std::string_view name);
  // Records the process whose exit removes the endpoint. kNotFound.
  Status SetEndpointPid(std::string_view name, int64_t pid);

 private:
  class ReaderLease;
  explicit Store(std::string path);
  Result<ReaderLease> AcquireReader();

  const std::string path_;
  std::mutex write_mu_;  // guards writer_
  std::unique_ptr<Connection> writer_;
  std::unordered_map<int64_t, size_t> unapplied_;  // zone id -> changes not yet folded (writer)
  std::mutex sync_mu_;   // guards the WAL file handle below (SyncJournal)
  int wal_fd_ = -1;
  uint64_t wal_ino_ = 0, wal_dev_ = 0;
  std::mutex pool_mu_;   // guards readers_
  std::vector<std::unique_ptr<Connection>> readers_;
};

}  // namespace berth::store
