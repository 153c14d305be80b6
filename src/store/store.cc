#include "store/store.h"

#include <openssl/evp.h>
#include <sqlite3.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "dns/wire/rdata.h"
#include "dns/wire/types.h"
#include "store/change_codec.h"
#include "store/sqlite.h"

namespace berth::store {
namespace {

// ---- Schema --------------------------------------------------------------------------------
// migrations[i] moves the schema from version i to i+1. Append, never edit: a released
// migration has already run on someone's disk.
constexpr const char* kMigrationV1[] = {
    R"(CREATE TABLE zones(
         id         INTEGER PRIMARY KEY,
         name       TEXT NOT NULL UNIQUE,
         source     TEXT NOT NULL CHECK (source IN ('file', 'store')),
         file       TEXT,
         serial     INTEGER NOT NULL DEFAULT 0,
         created_at INTEGER NOT NULL,
         updated_at INTEGER NOT NULL))",
    R"(CREATE TABLE records(
         id         INTEGER PRIMARY KEY,
         zone_id    INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
         name       TEXT NOT NULL,
         owner_wire BLOB NOT NULL,
         type       INTEGER NOT NULL,
         class      INTEGER NOT NULL DEFAULT 1,
         ttl        INTEGER NOT NULL,
         rdata      BLOB NOT NULL,
         UNIQUE (zone_id, name, type, class, rdata)))",
    R"(CREATE TABLE zone_changes(
         id         INTEGER PRIMARY KEY,
         zone_id    INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
         old_serial INTEGER NOT NULL,
         new_serial INTEGER NOT NULL,
         changed_at INTEGER NOT NULL))",
    "CREATE INDEX zone_changes_zone ON zone_changes(zone_id, id)",
    R"(CREATE TABLE zone_change_records(
         id         INTEGER PRIMARY KEY,
         change_id  INTEGER NOT NULL REFERENCES zone_changes(id) ON DELETE CASCADE,
         op         INTEGER NOT NULL CHECK (op IN (0, 1)),
         owner_wire BLOB NOT NULL,
         type       INTEGER NOT NULL,
         class      INTEGER NOT NULL,
         ttl        INTEGER NOT NULL,
         rdata      BLOB NOT NULL))",
    "CREATE INDEX zone_change_records_change ON zone_change_records(change_id)",
};
// Version 2: credentials managed at runtime through the admin API (tokens, users, TSIG keys).
constexpr const char* kMigrationV2[] = {
    R"(CREATE TABLE credentials(
         kind       TEXT NOT NULL CHECK (kind IN ('token', 'user', 'tsig_key')),
         name       TEXT NOT NULL,
         secret     TEXT NOT NULL,
         algorithm  TEXT NOT NULL DEFAULT '',
         scope      TEXT NOT NULL,
         created_at INTEGER NOT NULL,
         PRIMARY KEY (kind, name)))",
};
// Version 3: container networks, the endpoints attached to them, their addresses and ports.
// The unique indexes are the last word on "never two endpoints with one address".
constexpr const char* kMigrationV3[] = {
    R"(CREATE TABLE networks(
         id         INTEGER PRIMARY KEY,
         uid        TEXT NOT NULL UNIQUE,
         name       TEXT NOT NULL UNIQUE,
         bridge     TEXT NOT NULL,
         spec       TEXT NOT NULL,
         created_at INTEGER NOT NULL))",
    R"(CREATE TABLE endpoints(
         id         INTEGER PRIMARY KEY,
         name       TEXT NOT NULL UNIQUE,
         netns      TEXT NOT NULL,
         owned      INTEGER NOT NULL,
         pid        INTEGER NOT NULL DEFAULT 0,
         spec       TEXT NOT NULL,
         created_at INTEGER NOT NULL))",
    R"(CREATE TABLE attachments(
         endpoint_id INTEGER NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
         network_id  INTEGER NOT NULL REFERENCES networks(id),
         ifname      TEXT NOT NULL,
         host_ifname TEXT NOT NULL,
         mac         TEXT NOT NULL,
         ipv4        TEXT,
         ipv6        TEXT,
         aliases     TEXT NOT NULL,
         PRIMARY KEY (endpoint_id, network_id),
         UNIQUE (endpoint_id, ifname)))",
    "CREATE UNIQUE INDEX attachments_ipv4 ON attachments(network_id, ipv4) WHERE ipv4 IS NOT NULL",
    "CREATE UNIQUE INDEX attachments_ipv6 ON attachments(network_id, ipv6) WHERE ipv6 IS NOT NULL",
    "CREATE INDEX attachments_network ON attachments(network_id)",
    R"(CREATE TABLE ports(
         endpoint_id    INTEGER NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
         protocol       TEXT NOT NULL CHECK (protocol IN ('tcp', 'udp')),
         host_ip        TEXT NOT NULL,
         host_port      INTEGER NOT NULL CHECK (host_port BETWEEN 1 AND 65535),
         container_ip   TEXT NOT NULL,
         container_port INTEGER NOT NULL CHECK (container_port BETWEEN 1 AND 65535),
         UNIQUE (protocol, host_ip, host_port)))",
};
// Version 4: the journal is the write path. Each change is one row with its records encoded in
// `diff` (change_codec.h); the records table is brought up to date lazily ("folding", see
// Store::Checkpoint) and holds every change up to zones.applied_change_id. The per-record
// journal rows of versions 1-3 are converted by MigrateJournalToBlobs.
constexpr const char* kMigrationV4[] = {
    "ALTER TABLE zone_changes ADD COLUMN diff BLOB",
    "ALTER TABLE zones ADD COLUMN applied_change_id INTEGER NOT NULL DEFAULT 0",
};
Status MigrateJournalToBlobs(Connection& conn);
// Version 5: one journal row per zone per group commit instead of one per change. `diff` holds
// the row's changes in order (change_codec.h format 2); `id` still numbers a zone's changes one
// by one, the row's being that of its last change and `changes` how many it holds, so
// applied_change_id and trimming still count changes. A rowid table with its (zone_id, id) key
// as the index, not WITHOUT ROWID: a group's row outgrows a page, and an index b-tree compares
// keys by reading whole overflowing rows. MigrateJournalToGroups copies the version-4 rows
// (renumbering each zone's changes from 1) and replaces the table.
constexpr const char* kMigrationV5[] = {
    R"(CREATE TABLE zone_changes_v5(
         zone_id    INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
         id         INTEGER NOT NULL,
         changes    INTEGER NOT NULL CHECK (changes > 0),
         old_serial INTEGER NOT NULL,
         new_serial INTEGER NOT NULL,
         changed_at INTEGER NOT NULL,
         diff       BLOB NOT NULL,
         PRIMARY KEY (zone_id, id)))",
};
Status MigrateJournalToGroups(Connection& conn);
// Version 6: a digest of what ReplaceZone last made a zone hold (its records, source and
// file), valid while digest_change_id is still the zone's newest change number. Replacing a
// zone with what it already holds (a restart with an unchanged zone file) then reads and
// writes no records.
constexpr const char* kMigrationV6[] = {
    "ALTER TABLE zones ADD COLUMN content_digest BLOB",
    "ALTER TABLE zones ADD COLUMN digest_change_id INTEGER NOT NULL DEFAULT 0",
};
struct Migration {
  const char* const* statements;
  size_t count;
  Status (*then)(Connection&);  // work SQL alone cannot do, run after the statements
};
constexpr Migration kMigrations[] = {{kMigrationV1, std::size(kMigrationV1), nullptr},
                                     {kMigrationV2, std::size(kMigrationV2), nullptr},
                                     {kMigrationV3, std::size(kMigrationV3), nullptr},
                                     {kMigrationV4, std::size(kMigrationV4), MigrateJournalToBlobs},
                                     {kMigrationV5, std::size(kMigrationV5), MigrateJournalToGroups},
                                     {kMigrationV6, std::size(kMigrationV6), nullptr}};
static_assert(std::size(kMigrations) == Store::kSchemaVersion);

// ---- Statements (all prepared and cached per connection by address) ------------------------
#define BERTH_SELECT_ZONES "SELECT id, name, source, file, serial, created_at, updated_at FROM zones"
constexpr char kSelectZones[] = BERTH_SELECT_ZONES;
constexpr char kSelectZone[] = BERTH_SELECT_ZONES " WHERE name = ?1";
#undef BERTH_SELECT_ZONES
constexpr char kInsertZone[] =
    "INSERT INTO zones(name, source, file, serial, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?5)";
constexpr char kUpdateZone[] =
    "UPDATE zones SET source = ?2, file = ?3, serial = ?4, updated_at = ?5 WHERE id = ?1";
constexpr char kSelectDigest[] = "SELECT content_digest, digest_change_id FROM zones WHERE id = ?1";
constexpr char kSetDigest[] = "UPDATE zones SET content_digest = ?2, digest_change_id = ?3 WHERE id = ?1";
constexpr char kUpdateSerial[] = "UPDATE zones SET serial = ?2, updated_at = ?3 WHERE id = ?1";
constexpr char kDeleteZone[] = "DELETE FROM zones WHERE name = ?1";
constexpr char kInsertRecord[] =
    "INSERT INTO records(zone_id, name, owner_wire, type, class, ttl, rdata) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
// A new zone's records: a repeated record keeps its first occurrence.
constexpr char kInsertNewRecord[] =
    "INSERT OR IGNORE INTO records(zone_id, name, owner_wire, type, class, ttl, rdata) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr char kSelectRecords[] =
    "SELECT id, owner_wire, type, class, ttl, rdata FROM records WHERE zone_id = ?1 ORDER BY id";
constexpr char kDeleteRecordById[] = "DELETE FROM records WHERE id = ?1";
constexpr char kDeleteRecord[] =
    "DELETE FROM records WHERE zone_id = ?1 AND name = ?2 AND type = ?3 AND class = ?4 AND rdata = ?5";
// Folding a change into the records keeps a record's row (and so its place in the order) when
// only its TTL or owner case changed.
constexpr char kUpsertRecord[] =
    "INSERT INTO records(zone_id, name, owner_wire, type, class, ttl, rdata) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (zone_id, name, type, class, rdata) "
    "DO UPDATE SET owner_wire = excluded.owner_wire, ttl = excluded.ttl";
// The records of one RRset, and rewriting a row in place (FoldRRsets).
constexpr char kSelectRRset[] =
    "SELECT id, owner_wire, class, ttl, rdata FROM records WHERE zone_id = ?1 AND name = ?2 AND type = ?3";
constexpr char kUpdateRecord[] =
    "UPDATE records SET owner_wire = ?2, class = ?3, ttl = ?4, rdata = ?5 WHERE id = ?1";
constexpr char kUpdateRecordAttrs[] = "UPDATE records SET owner_wire = ?2, ttl = ?3 WHERE id = ?1";
// The journal: one row per zone per group commit, `id` the number of its last change.
constexpr char kInsertChanges[] =
    "INSERT INTO zone_changes(zone_id, id, changes, old_serial, new_serial, changed_at, diff) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr char kSelectChanges[] =
    "SELECT changed_at, diff FROM zone_changes WHERE zone_id = ?1 ORDER BY id";
constexpr char kSelectApplied[] = "SELECT applied_change_id FROM zones WHERE id = ?1";
constexpr char kSelectLastChange[] = "SELECT max(id) FROM zone_changes WHERE zone_id = ?1";
// The number the zone's next change gets: after its newest journaled or folded one.
constexpr char kSelectNextChange[] =
    "SELECT max(applied_change_id, coalesce((SELECT max(id) FROM zone_changes WHERE zone_id = ?1), 0)) + 1 "
    "FROM zones WHERE id = ?1";
constexpr char kSetApplied[] = "UPDATE zones SET applied_change_id = ?2 WHERE id = ?1";
constexpr char kSelectUnapplied[] =
    "SELECT id, diff FROM zone_changes WHERE zone_id = ?1 AND id > ?2 ORDER BY id";
constexpr char kCountUnapplied[] =
    "SELECT z.id, sum(c.changes) FROM zones z JOIN zone_changes c "
    "ON c.zone_id = z.id AND c.id > z.applied_change_id GROUP BY z.id";
// Trimming: the rows whose changes are all at or below ?2, then the oldest row left (which may
// straddle ?2).
constexpr char kCountChangesUpTo[] =
    "SELECT coalesce(sum(changes), 0) FROM zone_changes WHERE zone_id = ?1 AND id <= ?2";
constexpr char kDeleteChangesUpTo[] = "DELETE FROM zone_changes WHERE zone_id = ?1 AND id <= ?2";
constexpr char kSelectOldestChanges[] =
    "SELECT id, changes, diff FROM zone_changes WHERE zone_id = ?1 ORDER BY id LIMIT 1";
constexpr char kUpdateChanges[] =
    "UPDATE zone_changes SET changes = ?3, old_serial = ?4, diff = ?5 WHERE zone_id = ?1 AND id = ?2";
constexpr char kSelectCredentials[] =
    "SELECT kind, name, secret, algorithm, scope, created_at FROM credentials ORDER BY kind, name";
constexpr char kInsertCredential[] =
    "INSERT INTO credentials(kind, name, secret, algorithm, scope, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr char kDeleteCredential[] = "DELETE FROM credentials WHERE kind = ?1 AND name = ?2";
constexpr char kSelectVersion[] = "SELECT max(version) FROM schema_version";
constexpr char kInsertVersion[] = "INSERT INTO schema_version(version) VALUES (?1)";

// The lookup key of a name: lower-case presentation form with the trailing dot.
std::string NameKey(const dns::Name& name) { return name.Lowercased().ToText(); }

std::string Describe(const dns::Record& r) {
  return "'" + r.name.ToText() + " " + dns::TypeToText(r.type) + "'";
}

}  // namespace

namespace {

Result<ZoneInfo> ZoneFromRow(const Stmt& s) {
  ZoneInfo z;
  z.id = s.ColInt(0);
  auto name = dns::Name::FromText(s.ColText(1));
  if (!name.ok()) return Status(Code::kIo, "corrupt zone name in state database: " +
                                               name.status().message());
  z.name = *name;
  z.source = s.ColText(2) == "file" ? ZoneSource::kFile : ZoneSource::kStore;
  z.file = s.ColIsNull(3) ? "" : s.ColText(3);
  z.serial = static_cast<uint32_t>(s.ColInt(4));
  z.created_at = s.ColInt(5);
  z.updated_at = s.ColInt(6);
  return z;
}

// The zone row, or nullopt when there is none.
Result<std::optional<ZoneInfo>> FindZone(Connection& conn, const dns::Name& zone) {
  ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kSelectZone));
  s.Text(1, NameKey(zone));
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<ZoneInfo>();
  ASSIGN_OR_RETURN(ZoneInfo z, ZoneFromRow(s));
  return std::optional<ZoneInfo>(std::move(z));
}

Result<ZoneInfo> RequireZone(Connection& conn, const dns::Name& zone) {
  ASSIGN_OR_RETURN(std::optional<ZoneInfo> z, FindZone(conn, zone));
  if (!z) return NotFound("zone '" + NameKey(zone) + "' does not exist");
  return std::move(*z);
}

// A record decoded from (owner_wire, type, class, ttl, rdata) columns starting at `col`.
Result<dns::Record> RecordFromRow(const Stmt& s, int col) {
  auto name = dns::Name::FromWire(s.ColBlob(col));
  if (!name.ok()) {
    return Status(Code::kIo, "corrupt owner name in state database: " + name.status().message());
  }
  dns::Record r;
  r.name = *name;
  r.type = static_cast<uint16_t>(s.ColInt(col + 1));
  r.cls = static_cast<uint16_t>(s.ColInt(col + 2));
  r.ttl = static_cast<uint32_t>(s.ColInt(col + 3));
  r.rdata = s.ColBlob(col + 4);
  return r;
}

// Checks what a caller may store: owner inside the zone, a data type, RDATA matching its type.
Status ValidateRecords(const dns::Name& zone, const std::vector<dns::Record>& records) {
  for (const auto& r : records) {
    if (!r.name.IsSubdomainOf(zone)) {
      return InvalidArgument("record " + Describe(r) + " is outside zone '" + zone.ToText() + "'");
    }
    if (r.type == 0 || dns::IsMetaType(r.type)) {
      return InvalidArgument("record " + Describe(r) + " has a type that cannot be stored");
    }
    if (r.rdata.size() > 65535) return InvalidArgument("record " + Describe(r) + ": RDATA too long");
    if (Status s = dns::ValidateRdata(r.type, r.rdata); !s.ok()) return s.WithContext("record " + Describe(r));
  }
  return Status::Ok();
}

// The serial of the SOA among `records`, or `fallback` without one.
uint32_t SerialOf(const std::vector<dns::Record>& records, uint32_t fallback) {
  for (const auto& r : records) {
    if (r.type != dns::type::kSOA) continue;
    auto fields = dns::SplitRdata(r.type, r.rdata);
    if (!fields.ok() || fields->size() < 3 || (*fields)[2].bytes.size() != 4) continue;
    auto b = (*fields)[2].bytes;
    return (uint32_t{static_cast<uint8_t>(b[0])} << 24) |
           (uint32_t{static_cast<uint8_t>(b[1])} << 16) |
           (uint32_t{static_cast<uint8_t>(b[2])} << 8) | static_cast<uint8_t>(b[3]);
  }
  return fallback;
}

// `sql`: kInsertRecord, or kInsertNewRecord where a repeated record is to be dropped.
Status InsertRecord(Connection& conn, int64_t zone_id, const dns::Record& r, const char* sql = kInsertRecord) {
  ASSIGN_OR_RETURN(Stmt s, conn.Prepare(sql));
  s.Int(1, zone_id).Text(2, NameKey(r.name)).Blob(3, r.name.wire()).Int(4, r.type);
  s.Int(5, r.cls).Int(6, r.ttl).Blob(7, r.rdata);
  Status st = s.Run();
  if (st.code() == Code::kAlreadyExists) {
    return AlreadyExists("record " + Describe(r) + " already exists in the zone");
  }
  return st;
}

Result<int64_t> InsertZone(Connection& conn, const dns::Name& zone, ZoneSource source,
                           const std::string& file, uint32_t serial) {
  ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kInsertZone));
  s.Text(1, NameKey(zone)).Text(2, ZoneSourceName(source)).TextOrNull(3, file);
  s.Int(4, serial).Int(5, NowSeconds());
  RETURN_IF_ERROR(s.Run());
  return conn.LastInsertId();
}

Result<int64_t> NextChangeId(Connection& conn, int64_t zone_id) {
  ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kSelectNextChange));
  s.Int(1, zone_id);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return NotFound("zone id " + std::to_string(zone_id) + " does not exist");
  return s.ColInt(0);
}

// SHA-256 of what ReplaceZone makes a zone hold: the number of records, every record as given
// (owner with its case, type, class, TTL, RDATA, each field fixed-size or length-prefixed, so
// no two inputs encode alike), then the source and the file. Equal digests: the same input,
// hence the same stored zone.
std::string ContentDigest(const std::vector<dns::Record>& records, ZoneSource source, const std::string& file) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::string buf;
  auto flush = [&] {
    EVP_DigestUpdate(ctx.get(), buf.data(), buf.size());
    buf.clear();
  };
  // Lengths in 32 bits: the input is not validated yet, and no length may wrap.
  auto put32 = [&](size_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) buf.push_back(static_cast<char>(v >> shift));
  };
  put32(records.size());
  for (const auto& r : records) {
    put32(r.name.wire_size());
    buf += r.name.wire();
    put32(r.type);
    put32(r.cls);
    put32(r.ttl);
    put32(r.rdata.size());
    buf += r.rdata;
    if (buf.size() >= 64 * 1024) flush();
  }
  put32(ZoneSourceName(source).size());
  buf += ZoneSourceName(source);
  put32(file.size());
  buf += file;
  flush();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

// The zone's newest change number (0 before its first).
Result<int64_t> LastChangeId(Connection& conn, int64_t zone_id) {
  ASSIGN_OR_RETURN(int64_t next, NextChangeId(conn, zone_id));
  return next - 1;
}

// True when ReplaceZone last made the zone hold what `digest` describes and nothing has
// changed it since (every change takes a new number, folded or not).
Result<bool> HoldsDigest(Connection& conn, int64_t zone_id, std::string_view digest) {
  ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kSelectDigest));
  s.Int(1, zone_id);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row || s.ColIsNull(0) || s.ColBlob(0) != digest) return false;
  const int64_t at = s.ColInt(1);
  ASSIGN_OR_RETURN(int64_t last, LastChangeId(conn, zone_id));
  return at == last;
}

// Appends one journal row: the zone's changes `first_id` onwards, in `group`, moving it from
// `old_serial` to `new_serial`.
Status InsertChanges(Connection& conn, int64_t zone_id, int64_t first_id, uint32_t old_serial,
                     uint32_t new_serial, const ChangeGroupWriter& group) {
  ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kInsertChanges));
  s.Int(1, zone_id).Int(2, first_id + group.count() - 1).Int(3, group.count());
  s.Int(4, old_serial).Int(5, new_serial).Int(6, NowSeconds()).Blob(7, group.blob());
  return s.Run();
}

// Appends one journal entry in a row of its own; returns its id.
Result<int64_t> Journal(Connection& conn, int64_t zone_id, uint32_t old_serial, uint32_t new_serial,
                        const std::vector<dns::Record>& removed, const std::vector<dns::Record>& added) {
  ChangeGroupWriter group;
  group.Add(old_serial, new_serial, removed, added);
  ASSIGN_OR_RETURN(int64_t id, NextChangeId(conn, zone_id));
  RETURN_IF_ERROR(InsertChanges(conn, zone_id, id, old_serial, new_serial, group));
  return id;
}

// Identity of a stored record: owner (case-folded), type, class and RDATA; TTL and owner case
// are attributes of it.
std::string RecordKey(const dns::Record& r) {
  std::string key(r.name.Lowercased().wire());
  key.push_back(static_cast<char>(r.type >> 8));
  key.push_back(static_cast<char>(r.type));
  key.push_back(static_cast<char>(r.cls >> 8));
  key.push_back(static_cast<char>(r.cls));
  key += r.rdata;
  return key;
}

// The net effect of journal entries taken in order: the stored records that go, then the
// records that come (a record whose TTL or owner case changed is in `added` only, since
// adding replaces those attributes). Both the records table (Fold) and reads of a zone
// (Store::ZoneRecords) apply the entries not yet folded through this one class. A record
// only counts as removed when its first entry here removes it: one that was added since the
// last fold was never in the table (the journal removes a record before it re-adds it with
// other attributes), so the SOA of every change does not become a DELETE.
class NetChange {
 public:
  void Take(std::vector<dns::Record> removed, std::vector<dns::Record> added) {
    for (auto& r : removed) {
      std::string key = RecordKey(r);
      if (auto it = added_at_.find(key); it != added_at_.end()) {
        added_[it->second].reset();
        added_at_.erase(it);
      } else if (!arrived_.count(key)) {
        removed_.try_emplace(std::move(key), std::move(r));
      }
    }
    for (auto& r : added) {
      std::string key = RecordKey(r);
      if (!removed_.count(key)) arrived_.insert(key);
      auto [it, fresh] = added_at_.emplace(std::move(key), added_.size());
      if (fresh) {
        added_.emplace_back(std::move(r));
      } else {
        added_[it->second] = std::move(r);
      }
    }
  }
  bool empty() const { return removed_.empty() && added_at_.empty(); }
  // The stored records that go and do not come back (one re-added with other attributes is
  // updated in place, keeping its row and its place in the order).
  std::vector<const dns::Record*> Removed() const {
    std::vector<const dns::Record*> out;
    for (const auto& [key, r] : removed_)
      if (!added_at_.count(key)) out.push_back(&r);
    return out;
  }
  // The records that come, in the order they came.
  std::vector<const dns::Record*> Added() const {
    std::vector<const dns::Record*> out;
    for (const auto& r : added_)
      if (r) out.push_back(&*r);
    return out;
  }
  // `records` with this change applied: removed ones dropped, changed ones updated in place,
  // new ones appended.
  std::vector<dns::Record> ApplyTo(std::vector<dns::Record> records) const {
    std::vector<dns::Record> out;
    out.reserve(records.size() + added_at_.size());
    std::unordered_set<std::string> updated;
    for (auto& r : records) {
      std::string key = RecordKey(r);
      if (auto it = added_at_.find(key); it != added_at_.end()) {
        out.push_back(*added_[it->second]);
        updated.insert(std::move(key));
      } else if (!removed_.count(key)) {
        out.push_back(std::move(r));
      }
    }
    for (const auto& r : added_)
      if (r && !updated.count(RecordKey(*r))) out.push_back(*r);
    return out;
  }

 private:
  std::unordered_map<std::string, dns::Record> removed_;
  std::vector<std::optional<dns::Record>> added_;
  std::unordered_map<std::string, size_t> added_at_;  // key -> index in added_
  std::unordered_set<std::string> arrived_;  // keys whose first entry here added them
};

// The journal entries of the zone not yet folded into its records, as one net change.
// Returns the id of the newest entry read (`applied` when there is none).
Result<int64_t> ReadUnapplied(Connection& conn, int64_t zone_id, int64_t applied, NetChange& net) {
  ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kSelectUnapplied));
  s.Int(1, zone_id).Int(2, applied);
  int64_t last = applied;
  std::vector<JournalEntry> entries;
  RETURN_IF_ERROR(ForEachRow(s, [&]() -> Status {
    entries.clear();
    RETURN_IF_ERROR(DecodeChanges(s.ColBlob(1), entries));
    for (auto& e : entries) net.Take(std::move(e.removed), std::move(e.added));
    last = s.ColInt(0);
    return Status::Ok();
  }));
  return last;
}

Result<int64_t> AppliedChangeId(Connection& conn, int64_t zone_id) {
  ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kSelectApplied));
  s.Int(1, zone_id);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return NotFound("zone id " + std::to_string(zone_id) + " does not exist");
  return s.ColInt(0);
}

// Runs `fn` (a write transaction returning Status or Result) with synchronous=NORMAL: its
// COMMIT writes the WAL without waiting for an fsync. Durable once the WAL is synced: by the
// next FULL commit, a checkpoint, or Store::SyncJournal.
template <typename Fn>
auto WithoutSync(Connection& conn, Fn&& fn) -> decltype(fn()) {
  RETURN_IF_ERROR(conn.Exec("PRAGMA synchronous=NORMAL"));
  auto result = fn();
  Status restored = conn.Exec("PRAGMA synchronous=FULL");
  if (result.ok() && !restored.ok()) return restored;
  return result;
}

// Runs `fn`, a fold's write transaction, with what a fold can afford: no fsync of its own
// (WithoutSync), since losing it to a crash loses nothing (the journal still holds every
// change); and secure_delete=FAST, since it frees pages of journal rows (public DNS data) by
// the hundred, which ON would zero and write out one by one.
template <typename Fn>
auto AsFold(Connection& conn, Fn&& fn) -> decltype(fn()) {
  return WithoutSync(conn, [&]() -> decltype(fn()) {
    RETURN_IF_ERROR(conn.Exec("PRAGMA secure_delete=FAST"));
    auto result = fn();
    Status restored = conn.Exec("PRAGMA secure_delete=ON");
    if (result.ok() && !restored.ok()) return restored;
    return result;
  });
}

// Drops the zone's journal entries numbered up to `cut`; returns how many went. Whole rows go
// in one range delete; the oldest row left may straddle the cut (a group commit's row), and is
// rewritten with only its newer entries.
Result<size_t> DropChangesUpTo(Connection& conn, int64_t zone_id, int64_t cut) {
  size_t dropped;
  {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kCountChangesUpTo));
    s.Int(1, zone_id).Int(2, cut);
    RETURN_IF_ERROR(s.Step().status());
    dropped = static_cast<size_t>(s.ColInt(0));
  }
  if (dropped > 0) {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kDeleteChangesUpTo));
    s.Int(1, zone_id).Int(2, cut);
    RETURN_IF_ERROR(s.Run());
  }
  int64_t id, count;
  std::vector<JournalEntry> entries;
  {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kSelectOldestChanges));
    s.Int(1, zone_id);
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return dropped;
    id = s.ColInt(0);
    count = s.ColInt(1);
    if (id - count >= cut) return dropped;  // its first entry, id - count + 1, is newer
    RETURN_IF_ERROR(DecodeChanges(s.ColBlob(2), entries));
  }
  size_t older = static_cast<size_t>(cut - (id - count));
  if (entries.size() != static_cast<size_t>(count) || older >= entries.size()) {
    return Status(Code::kIo, "corrupt journal row in the state database: its change count does not match");
  }
  ChangeGroupWriter group;
  for (size_t i = older; i < entries.size(); ++i) {
    group.Add(entries[i].old_serial, entries[i].new_serial, entries[i].removed, entries[i].added);
  }
  ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kUpdateChanges));
  s.Int(1, zone_id).Int(2, id).Int(3, group.count()).Int(4, entries[older].old_serial).Blob(5, group.blob());
  RETURN_IF_ERROR(s.Run());
  return dropped + older;
}

// Records that the zone's records table holds every journal entry up to `last`, the newest
// (from `applied`), and trims the journal to its newest `journal_keep` entries (0: keep all).
// Returns how many entries went.
Result<size_t> MarkFolded(Connection& conn, int64_t zone_id, int64_t applied, int64_t last, size_t journal_keep) {
  if (last != applied) {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kSetApplied));
    s.Int(1, zone_id).Int(2, last);
    RETURN_IF_ERROR(s.Run());
  }
  // Entries are numbered one by one, so the newest `journal_keep` are those after the cut; all
  // of them are folded now.
  int64_t keep = static_cast<int64_t>(journal_keep);
  if (keep == 0 || last <= keep) return size_t{0};
  return DropChangesUpTo(conn, zone_id, last - keep);
}

// Folds the zone's unapplied journal entries into its records table and trims the journal to
// its newest `journal_keep` entries (0: keep all), inside the caller's transaction. Tolerant
// on purpose: a record to delete that is not there, or one to add that already is, is what
// the journal says the end state is, so it is simply made so.
Result<size_t> Fold(Connection& conn, int64_t zone_id, size_t journal_keep) {
  ASSIGN_OR_RETURN(int64_t applied, AppliedChangeId(conn, zone_id));
  NetChange net;
  ASSIGN_OR_RETURN(int64_t last, ReadUnapplied(conn, zone_id, applied, net));
  for (const dns::Record* r : net.Removed()) {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kDeleteRecord));
    s.Int(1, zone_id).Text(2, NameKey(r->name)).Int(3, r->type).Int(4, r->cls).Blob(5, r->rdata);
    RETURN_IF_ERROR(s.Run());
  }
  for (const dns::Record* r : net.Added()) {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kUpsertRecord));
    s.Int(1, zone_id).Text(2, NameKey(r->name)).Blob(3, r->name.wire()).Int(4, r->type);
    s.Int(5, r->cls).Int(6, r->ttl).Blob(7, r->rdata);
    RETURN_IF_ERROR(s.Run());
  }
  return MarkFolded(conn, zone_id, applied, last, journal_keep);
}

// Makes the records table hold exactly `set.records` for the RRset, rewriting rows in place so
// that a fold does not churn the table: a record still there keeps its row (TTL and owner case
// updated), a record that came takes the row of one that went, and only the rest are deleted or
// inserted. (Deleting and re-inserting every touched record moved them all to fresh pages and
// rebalanced the old ones on every fold.)
Status WriteRRset(Connection& conn, int64_t zone_id, const Store::RRsetRecords& set) {
  struct Row {
    int64_t id;
    std::string owner_wire;
    uint16_t cls;
    uint32_t ttl;
    std::string rdata;
    bool kept = false;
  };
  std::vector<Row> rows;
  std::string key = NameKey(set.owner);
  {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kSelectRRset));
    s.Int(1, zone_id).Text(2, key).Int(3, set.type);
    RETURN_IF_ERROR(ForEachRow(s, [&]() -> Status {
      rows.push_back({s.ColInt(0), s.ColBlob(1), static_cast<uint16_t>(s.ColInt(2)),
                      static_cast<uint32_t>(s.ColInt(3)), s.ColBlob(4)});
      return Status::Ok();
    }));
  }
  auto update = [&](const Row& row, const dns::Record& r) -> Status {
    if (row.cls == r.cls && row.rdata == r.rdata) {
      ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kUpdateRecordAttrs));
      s.Int(1, row.id).Blob(2, r.name.wire()).Int(3, r.ttl);
      return s.Run();
    }
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kUpdateRecord));
    s.Int(1, row.id).Blob(2, r.name.wire()).Int(3, r.cls).Int(4, r.ttl).Blob(5, r.rdata);
    return s.Run();
  };
  std::vector<const dns::Record*> fresh;
  for (const auto& r : set.records) {
    auto same = std::find_if(rows.begin(), rows.end(), [&](const Row& row) { return row.cls == r.cls && row.rdata == r.rdata; });
    if (same == rows.end()) {
      fresh.push_back(&r);
    } else if (!same->kept) {  // (kept already: r repeats an earlier record)
      same->kept = true;
      if (same->ttl != r.ttl || same->owner_wire != r.name.wire()) RETURN_IF_ERROR(update(*same, r));
    }
  }
  auto next = fresh.begin();
  for (const Row& row : rows) {
    if (row.kept) continue;
    if (next != fresh.end()) {
      RETURN_IF_ERROR(update(row, **next++));
    } else {
      ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kDeleteRecordById));
      s.Int(1, row.id);
      RETURN_IF_ERROR(s.Run());
    }
  }
  for (; next != fresh.end(); ++next) RETURN_IF_ERROR(InsertRecord(conn, zone_id, **next));
  return Status::Ok();
}

// The batch's zones, looked up once each; their journal rows and serials written at the end.
class BatchZones {
 public:
  explicit BatchZones(Connection& conn) : conn_(conn) {}
  struct Entry {
    ZoneInfo info;           // its serial moves with each change of the batch
    uint32_t first_serial;
    int64_t first_id;        // the number of the batch's first change of the zone
    ChangeGroupWriter changes;
    void Add(const Change& change) {
      changes.Add(info.serial, change.new_serial, change.remove, change.add);
      info.serial = change.new_serial;
    }
  };
  Result<Entry*> Get(const dns::Name& name) {
    if (last_ != nullptr && last_->info.name == name) return last_;  // a batch is mostly one zone
    std::string key = NameKey(name);
    auto it = zones_.find(key);
    if (it == zones_.end()) {
      ASSIGN_OR_RETURN(ZoneInfo z, RequireZone(conn_, name));
      ASSIGN_OR_RETURN(int64_t first_id, NextChangeId(conn_, z.id));
      uint32_t serial = z.serial;
      it = zones_.emplace(std::move(key), Entry{std::move(z), serial, first_id, {}}).first;
    }
    return last_ = &it->second;
  }
  // Writes each changed zone's journal row and serial.
  Status Finish() {
    for (auto& [key, e] : zones_) {
      if (e.changes.count() == 0) continue;
      RETURN_IF_ERROR(InsertChanges(conn_, e.info.id, e.first_id, e.first_serial, e.info.serial, e.changes));
      if (e.info.serial == e.first_serial) continue;
      ASSIGN_OR_RETURN(Stmt s, conn_.Prepare(kUpdateSerial));
      s.Int(1, e.info.id).Int(2, e.info.serial).Int(3, NowSeconds());
      RETURN_IF_ERROR(s.Run());
    }
    return Status::Ok();
  }
  // Calls fn(zone_id, changes journaled) for each zone of the batch.
  template <typename Fn>
  void ForEachJournaled(Fn&& fn) const {
    for (const auto& [key, e] : zones_)
      if (e.changes.count() > 0) fn(e.info.id, size_t{e.changes.count()});
  }

 private:
  Connection& conn_;
  std::map<std::string, Entry> zones_;
  Entry* last_ = nullptr;  // the zone of the previous Get
};

// Version 4 migration: each journal entry's per-record rows become one encoded `diff`, and
// every existing entry counts as folded (versions 1-3 changed the records table directly).
Status MigrateJournalToBlobs(Connection& conn) {
  std::map<int64_t, std::pair<std::vector<dns::Record>, std::vector<dns::Record>>> entries;
  {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare("SELECT id FROM zone_changes"));
    RETURN_IF_ERROR(ForEachRow(s, [&]() -> Status {
      entries[s.ColInt(0)];
      return Status::Ok();
    }));
  }
  {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(
        "SELECT change_id, op, owner_wire, type, class, ttl, rdata FROM zone_change_records ORDER BY id"));
    RETURN_IF_ERROR(ForEachRow(s, [&]() -> Status {
      auto it = entries.find(s.ColInt(0));
      if (it == entries.end()) return Status::Ok();
      ASSIGN_OR_RETURN(dns::Record r, RecordFromRow(s, 2));
      (s.ColInt(1) == 1 ? it->second.second : it->second.first).push_back(std::move(r));
      return Status::Ok();
    }));
  }
  for (const auto& [id, change] : entries) {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare("UPDATE zone_changes SET diff = ?2 WHERE id = ?1"));
    s.Int(1, id).Blob(2, EncodeChange(change.first, change.second));
    RETURN_IF_ERROR(s.Run());
  }
  RETURN_IF_ERROR(conn.Exec("DROP TABLE zone_change_records"));
  return conn.Exec(
      "UPDATE zones SET applied_change_id = "
      "coalesce((SELECT max(id) FROM zone_changes WHERE zone_id = zones.id), 0)");
}

// Version 5 migration: each version-4 journal row (one change, numbered by a rowid all zones
// share) becomes a row of that one change, numbered from 1 per zone in the same order, and
// applied_change_id is renumbered to match. The changes are carried over, not decoded: a damaged
// one fails when read, as it did, instead of failing the migration.
Status MigrateJournalToGroups(Connection& conn) {
  std::map<int64_t, int64_t> applied;  // zone id -> applied_change_id (version-4 numbering)
  {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare("SELECT id, applied_change_id FROM zones"));
    RETURN_IF_ERROR(ForEachRow(s, [&]() -> Status {
      applied[s.ColInt(0)] = s.ColInt(1);
      return Status::Ok();
    }));
  }
  std::map<int64_t, int64_t> renumbered;  // zone id -> applied_change_id (version-5 numbering)
  {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(
        "SELECT zone_id, id, old_serial, new_serial, changed_at, diff FROM zone_changes ORDER BY zone_id, id"));
    int64_t zone = -1, number = 0;
    RETURN_IF_ERROR(ForEachRow(s, [&]() -> Status {
      if (s.ColInt(0) != zone) {
        zone = s.ColInt(0);
        number = 0;
      }
      ++number;
      if (s.ColInt(1) <= applied[zone]) renumbered[zone] = number;
      ASSIGN_OR_RETURN(Stmt insert, conn.Prepare(
          "INSERT INTO zone_changes_v5(zone_id, id, changes, old_serial, new_serial, changed_at, diff) "
          "VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6)"));
      insert.Int(1, zone).Int(2, number).Int(3, s.ColInt(2)).Int(4, s.ColInt(3)).Int(5, s.ColInt(4));
      insert.Blob(6, ChangeAsGroup(static_cast<uint32_t>(s.ColInt(2)), static_cast<uint32_t>(s.ColInt(3)), s.ColBlob(5)));
      return insert.Run();
    }));
  }
  for (const auto& [zone, old_applied] : applied) {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare("UPDATE zones SET applied_change_id = ?2 WHERE id = ?1"));
    s.Int(1, zone).Int(2, renumbered[zone]);
    RETURN_IF_ERROR(s.Run());
  }
  RETURN_IF_ERROR(conn.Exec("DROP TABLE zone_changes"));
  return conn.Exec("ALTER TABLE zone_changes_v5 RENAME TO zone_changes");
}

}  // namespace

std::string_view ZoneSourceName(ZoneSource source) {
  return source == ZoneSource::kFile ? "file" : "store";
}

// ---- Store ---------------------------------------------------------------------------------

Store::Store(std::string path) : path_(std::move(path)) {}
Store::~Store() {
  if (wal_fd_ >= 0) ::close(wal_fd_);
}

Result<Store::ReaderLease> Store::AcquireReader() {
  {
    std::lock_guard lock(pool_mu_);
    if (!readers_.empty()) {
      auto conn = std::move(readers_.back());
      readers_.pop_back();
      return ReaderLease(this, std::move(conn));
    }
  }
  ASSIGN_OR_RETURN(auto conn, Connection::Open(path_, /*read_only=*/true));
  return ReaderLease(this, std::move(conn));
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& state_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(state_dir, ec)) {
    if (!fs::create_directories(state_dir, ec) && ec) {
      return IoError("creating state directory " + state_dir, ec.value());
    }
    // State holds zone data and later credentials: not world-readable.
    if (::chmod(state_dir.c_str(), 0750) != 0) {
      return IoError("setting mode of state directory " + state_dir, errno);
    }
  } else if (!fs::is_directory(state_dir, ec)) {
    return Status(Code::kIo, "state directory " + state_dir + " is not a directory");
  }
  auto store = std::unique_ptr<Store>(new Store((fs::path(state_dir) / "berth.db").string()));
  ASSIGN_OR_RETURN(store->writer_, Connection::Open(store->path_, /*read_only=*/false));
  Connection& conn = *store->writer_;

  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn, /*write=*/true));
  RETURN_IF_ERROR(conn.Exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)"));
  int64_t version;
  {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kSelectVersion));
    RETURN_IF_ERROR(s.Step().status());
    version = s.ColIsNull(0) ? 0 : s.ColInt(0);
  }
  if (version > kSchemaVersion) {
    return FailedPrecondition("state database " + store->path_ + " has schema version " +
                              std::to_string(version) + ", newer than this berthd supports (" +
                              std::to_string(kSchemaVersion) + ")");
  }
  for (int64_t v = version; v < kSchemaVersion; ++v) {
    const Migration& m = kMigrations[v];
    for (size_t i = 0; i < m.count; ++i) {
      RETURN_IF_ERROR(conn.Exec(m.statements[i])
                          .WithContext("migrating schema to version " + std::to_string(v + 1)));
    }
    if (m.then != nullptr) {
      RETURN_IF_ERROR(m.then(conn).WithContext("migrating schema to version " + std::to_string(v + 1)));
    }
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kInsertVersion));
    s.Int(1, v + 1);
    RETURN_IF_ERROR(s.Run());
  }
  {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kCountUnapplied));
    RETURN_IF_ERROR(ForEachRow(s, [&]() -> Status {
      store->unapplied_[s.ColInt(0)] = static_cast<size_t>(s.ColInt(1));
      return Status::Ok();
    }));
  }
  RETURN_IF_ERROR(tx.Commit());
  return store;
}

Result<std::vector<ZoneInfo>> Store::ListZones() {
  ASSIGN_OR_RETURN(ReaderLease conn, AcquireReader());
  ASSIGN_OR_RETURN(Stmt s, (*conn).Prepare(kSelectZones));
  std::vector<ZoneInfo> zones;
  RETURN_IF_ERROR(ForEachRow(s, [&]() -> Status {
    ASSIGN_OR_RETURN(ZoneInfo z, ZoneFromRow(s));
    zones.push_back(std::move(z));
    return Status::Ok();
  }));
  std::sort(zones.begin(), zones.end(),
            [](const ZoneInfo& a, const ZoneInfo& b) { return a.name < b.name; });
  return zones;
}

Result<ZoneInfo> Store::GetZone(const dns::Name& zone) {
  ASSIGN_OR_RETURN(ReaderLease conn, AcquireReader());
  return RequireZone(*conn, zone);
}

Status Store::CreateZone(const dns::Name& zone, ZoneSource source,
                         std::vector<dns::Record> records, const std::string& file) {
  RETURN_IF_ERROR(ValidateRecords(zone, records));
  std::lock_guard lock(write_mu_);
  Connection& conn = *writer_;
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn, /*write=*/true));
  ASSIGN_OR_RETURN(std::optional<ZoneInfo> existing, FindZone(conn, zone));
  if (existing) return AlreadyExists("zone '" + NameKey(zone) + "' already exists");
  ASSIGN_OR_RETURN(int64_t id, InsertZone(conn, zone, source, file, SerialOf(records, 0)));
  for (const auto& r : records) RETURN_IF_ERROR(InsertRecord(conn, id, r));
  return tx.Commit();
}

Status Store::DeleteZone(const dns::Name& zone) {
  std::lock_guard lock(write_mu_);
  Connection& conn = *writer_;
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn, /*write=*/true));
  ASSIGN_OR_RETURN(ZoneInfo info, RequireZone(conn, zone));
  {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kDeleteZone));
    s.Text(1, NameKey(zone));
    RETURN_IF_ERROR(s.Run());
  }
  RETURN_IF_ERROR(tx.Commit());
  unapplied_.erase(info.id);
  return Status::Ok();
}

Result<size_t> Store::TrimJournal(const dns::Name& zone, size_t keep) {
  std::lock_guard lock(write_mu_);
  Connection& conn = *writer_;
  Result<std::pair<int64_t, size_t>> trimmed = AsFold(conn, [&]() -> Result<std::pair<int64_t, size_t>> {
    ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn, /*write=*/true));
    ASSIGN_OR_RETURN(ZoneInfo info, RequireZone(conn, zone));
    // Only folded entries may go, so fold them all first.
    ASSIGN_OR_RETURN(size_t removed, Fold(conn, info.id, keep));
    RETURN_IF_ERROR(tx.Commit());
    return std::pair(info.id, removed);
  });
  RETURN_IF_ERROR(trimmed.status());
  unapplied_.erase(trimmed->first);
  return trimmed->second;
}

Status Store::FoldRRsets(const dns::Name& zone, std::span<const RRsetRecords> rrsets, size_t journal_keep) {
  for (const auto& set : rrsets) {
    RETURN_IF_ERROR(ValidateRecords(zone, set.records));
    for (const auto& r : set.records) {
      if (r.type != set.type || !(r.name == set.owner)) {
        return InvalidArgument("record " + Describe(r) + " is not in RRset '" + set.owner.ToText() + " " +
                               dns::TypeToText(set.type) + "'");
      }
    }
  }
  std::lock_guard lock(write_mu_);
  Connection& conn = *writer_;
  Result<int64_t> folded = AsFold(conn, [&]() -> Result<int64_t> {
    ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn, /*write=*/true));
    ASSIGN_OR_RETURN(ZoneInfo info, RequireZone(conn, zone));
    for (const auto& set : rrsets) RETURN_IF_ERROR(WriteRRset(conn, info.id, set));
    ASSIGN_OR_RETURN(int64_t applied, AppliedChangeId(conn, info.id));
    int64_t last;
    {
      ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kSelectLastChange));
      s.Int(1, info.id);
      RETURN_IF_ERROR(s.Step().status());
      last = s.ColIsNull(0) ? applied : s.ColInt(0);
    }
    RETURN_IF_ERROR(MarkFolded(conn, info.id, applied, last, journal_keep).status());
    RETURN_IF_ERROR(tx.Commit());
    return info.id;
  });
  RETURN_IF_ERROR(folded.status());
  unapplied_.erase(*folded);
  return Status::Ok();
}

Status Store::Checkpoint(size_t due, size_t journal_keep) {
  std::lock_guard lock(write_mu_);
  std::vector<int64_t> zones;
  for (const auto& [id, count] : unapplied_)
    if (count >= std::max<size_t>(due, 1)) zones.push_back(id);
  if (zones.empty()) return Status::Ok();
  Connection& conn = *writer_;
  RETURN_IF_ERROR(AsFold(conn, [&]() -> Status {
    ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn, /*write=*/true));
    for (int64_t id : zones) {
      auto r = Fold(conn, id, journal_keep);
      if (!r.ok() && r.status().code() != Code::kNotFound) return r.status();
    }
    return tx.Commit();
  }));
  for (int64_t id : zones) unapplied_.erase(id);
  return Status::Ok();
}

Result<std::vector<dns::Record>> Store::ZoneRecords(const dns::Name& zone) {
  ASSIGN_OR_RETURN(ReaderLease conn, AcquireReader());
  // One read transaction: the zone row and its records come from the same snapshot.
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*conn, /*write=*/false));
  ASSIGN_OR_RETURN(ZoneInfo info, RequireZone(*conn, zone));
  std::vector<dns::Record> records;
  {
    ASSIGN_OR_RETURN(Stmt s, (*conn).Prepare(kSelectRecords));
    s.Int(1, info.id);
    RETURN_IF_ERROR(ForEachRow(s, [&]() -> Status {
      ASSIGN_OR_RETURN(dns::Record r, RecordFromRow(s, 1));
      records.push_back(std::move(r));
      return Status::Ok();
    }));
  }
  // The records table is behind by the changes not yet folded: apply them on the way out.
  ASSIGN_OR_RETURN(int64_t applied, AppliedChangeId(*conn, info.id));
  NetChange net;
  RETURN_IF_ERROR(ReadUnapplied(*conn, info.id, applied, net).status());
  if (net.empty()) return records;
  return net.ApplyTo(std::move(records));
}

Status Store::ReplaceZone(const dns::Name& zone, ZoneSource source,
                          const std::vector<dns::Record>& records, const std::string& file) {
  const std::string digest = ContentDigest(records, source, file);
  {
    // Already holding exactly this (e.g. berthd restarted with the same zone file): nothing
    // to validate, diff or write.
    ASSIGN_OR_RETURN(ReaderLease conn, AcquireReader());
    ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*conn, /*write=*/false));
    ASSIGN_OR_RETURN(std::optional<ZoneInfo> existing, FindZone(*conn, zone));
    if (existing) {
      ASSIGN_OR_RETURN(bool same, HoldsDigest(*conn, existing->id, digest));
      if (same) return Status::Ok();
    }
  }
  RETURN_IF_ERROR(ValidateRecords(zone, records));

  std::lock_guard lock(write_mu_);
  Connection& conn = *writer_;
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn, /*write=*/true));
  ASSIGN_OR_RETURN(std::optional<ZoneInfo> existing, FindZone(conn, zone));
  auto remember = [&](int64_t id) -> Status {
    ASSIGN_OR_RETURN(int64_t last, LastChangeId(conn, id));
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kSetDigest));
    s.Int(1, id).Blob(2, digest).Int(3, last);
    return s.Run();
  };
  if (!existing) {
    ASSIGN_OR_RETURN(int64_t id, InsertZone(conn, zone, source, file, SerialOf(records, 0)));
    for (const auto& r : records) RETURN_IF_ERROR(InsertRecord(conn, id, r, kInsertNewRecord));
    RETURN_IF_ERROR(remember(id));
    return tx.Commit();
  }
  // Merge duplicate input records; the first occurrence wins.
  std::vector<const dns::Record*> wanted;
  std::unordered_map<std::string, const dns::Record*> wanted_by_key;
  for (const auto& r : records) {
    if (wanted_by_key.emplace(RecordKey(r), &r).second) wanted.push_back(&r);
  }
  // Diff against what is stored, with every journaled change folded in first: a record whose
  // TTL or owner case changed is removed and re-added, so the journal replays to exactly the
  // new contents.
  RETURN_IF_ERROR(Fold(conn, existing->id, 0).status());
  std::vector<dns::Record> removed, added;
  std::vector<int64_t> removed_ids;  // deleted after the scan: never modify a table mid-SELECT
  std::unordered_set<std::string> kept;
  {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kSelectRecords));
    s.Int(1, existing->id);
    RETURN_IF_ERROR(ForEachRow(s, [&]() -> Status {
      ASSIGN_OR_RETURN(dns::Record r, RecordFromRow(s, 1));
      std::string key = RecordKey(r);
      auto it = wanted_by_key.find(key);
      if (it != wanted_by_key.end() && it->second->ttl == r.ttl &&
          it->second->name.wire() == r.name.wire()) {
        kept.insert(std::move(key));
      } else {
        removed_ids.push_back(s.ColInt(0));
        removed.push_back(std::move(r));
      }
      return Status::Ok();
    }));
  }
  for (int64_t id : removed_ids) {
    ASSIGN_OR_RETURN(Stmt del, conn.Prepare(kDeleteRecordById));
    del.Int(1, id);
    RETURN_IF_ERROR(del.Run());
  }
  for (const auto* r : wanted) {
    if (kept.count(RecordKey(*r)) != 0) continue;
    RETURN_IF_ERROR(InsertRecord(conn, existing->id, *r));
    added.push_back(*r);
  }
  uint32_t new_serial = SerialOf(records, existing->serial);
  if (!removed.empty() || !added.empty()) {
    // This entry is already in the records table.
    ASSIGN_OR_RETURN(int64_t change_id, Journal(conn, existing->id, existing->serial, new_serial, removed, added));
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kSetApplied));
    s.Int(1, existing->id).Int(2, change_id);
    RETURN_IF_ERROR(s.Run());
  }
  {
    ASSIGN_OR_RETURN(Stmt s, conn.Prepare(kUpdateZone));
    s.Int(1, existing->id).Text(2, ZoneSourceName(source)).TextOrNull(3, file);
    s.Int(4, new_serial).Int(5, NowSeconds());
    RETURN_IF_ERROR(s.Run());
  }
  RETURN_IF_ERROR(remember(existing->id));
  RETURN_IF_ERROR(tx.Commit());
  unapplied_.erase(existing->id);
  return Status::Ok();
}

Result<uint32_t> Store::ApplyChange(const dns::Name& zone, const std::vector<dns::Record>& remove,
                                    const std::vector<dns::Record>& add, uint32_t new_serial) {
  Change change{zone, remove, add, new_serial};
  ASSIGN_OR_RETURN(auto results, ApplyChanges(std::span<const Change>(&change, 1)));
  return std::move(results.front());
}

Result<std::vector<Result<uint32_t>>> Store::ApplyChanges(std::span<const Change> changes, Durability durability) {
  // Validation needs no database, so a bad change is refused before the transaction and the
  // rest of the batch goes on without it. Only what is added: removed records are the zone's
  // own, as stored (validated when they were added).
  std::vector<Result<uint32_t>> results;
  results.reserve(changes.size());
  for (const Change& change : changes) {
    Status s = ValidateRecords(change.zone, change.add);
    results.push_back(s.ok() ? Result<uint32_t>(change.new_serial) : Result<uint32_t>(s));
  }
  std::lock_guard lock(write_mu_);
  Connection& conn = *writer_;
  auto write = [&]() -> Status {
    ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn, /*write=*/true));
    BatchZones zones(conn);
    for (size_t i = 0; i < changes.size(); ++i) {
      if (!results[i].ok()) continue;
      const Change& change = changes[i];
      auto zone = zones.Get(change.zone);
      if (!zone.ok()) {
        if (zone.status().code() != Code::kNotFound) return zone.status();
        results[i] = zone.status();
        continue;
      }
      (*zone)->Add(change);
    }
    RETURN_IF_ERROR(zones.Finish());
    RETURN_IF_ERROR(tx.Commit());
    zones.ForEachJournaled([&](int64_t zone_id, size_t n) { unapplied_[zone_id] += n; });
    return Status::Ok();
  };
  RETURN_IF_ERROR(durability == Durability::kSynced ? write() : WithoutSync(conn, write));
  return results;
}

Status Store::SyncJournal() {
  std::lock_guard lock(sync_mu_);
  const std::string wal = path_ + "-wal";
  struct stat now {};
  if (::stat(wal.c_str(), &now) != 0) return IoError("syncing " + wal, errno);
  // SQLite keeps one WAL file while the database is open; should it ever be replaced, the
  // committed data is in the new one, so follow the path.
  if (wal_fd_ < 0 || now.st_ino != wal_ino_ || now.st_dev != wal_dev_) {
    if (wal_fd_ >= 0) ::close(wal_fd_);
    wal_fd_ = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
    if (wal_fd_ < 0) return IoError("opening " + wal, errno);
    struct stat opened {};
    if (::fstat(wal_fd_, &opened) != 0) return IoError("syncing " + wal, errno);
    wal_ino_ = opened.st_ino;
    wal_dev_ = opened.st_dev;
    // A WAL file this process may have created: its directory entry must be on disk too.
    std::string dir = std::filesystem::path(path_).parent_path().string();
    int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) return IoError("opening " + dir, errno);
    int rc = ::fsync(dir_fd);
    int err = errno;
    ::close(dir_fd);
    if (rc != 0) return IoError("syncing " + dir, err);
  }
  if (::fdatasync(wal_fd_) != 0) return IoError("syncing " + wal, errno);
  return Status::Ok();
}

Result<std::vector<JournalEntry>> Store::ZoneJournal(const dns::Name& zone) {
  ASSIGN_OR_RETURN(ReaderLease conn, AcquireReader());
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*conn, /*write=*/false));
  ASSIGN_OR_RETURN(ZoneInfo info, RequireZone(*conn, zone));
  std::vector<JournalEntry> entries;
  ASSIGN_OR_RETURN(Stmt s, (*conn).Prepare(kSelectChanges));
  s.Int(1, info.id);
  RETURN_IF_ERROR(ForEachRow(s, [&]() -> Status {
    size_t first = entries.size();
    RETURN_IF_ERROR(DecodeChanges(s.ColBlob(1), entries));
    for (size_t i = first; i < entries.size(); ++i) entries[i].changed_at = s.ColInt(0);
    return Status::Ok();
  }));
  return entries;
}

// ---- Credentials ------------------------------------------------------------------------------

Result<std::vector<StoredCredential>> Store::ListCredentials() {
  ASSIGN_OR_RETURN(ReaderLease conn, AcquireReader());
  ASSIGN_OR_RETURN(Stmt s, (*conn).Prepare(kSelectCredentials));
  std::vector<StoredCredential> out;
  RETURN_IF_ERROR(ForEachRow(s, [&]() -> Status {
    out.push_back({s.ColText(0), s.ColText(1), s.ColText(2), s.ColText(3), s.ColText(4), s.ColInt(5)});
    return Status::Ok();
  }));
  return out;
}

Status Store::PutCredential(const StoredCredential& c) {
  if (c.kind != "token" && c.kind != "user" && c.kind != "tsig_key") {
    return InvalidArgument("unknown credential kind '" + c.kind + "'");
  }
  std::lock_guard lock(write_mu_);
  ASSIGN_OR_RETURN(Stmt s, writer_->Prepare(kInsertCredential));
  s.Text(1, c.kind).Text(2, c.name).Text(3, c.secret).Text(4, c.algorithm).Text(5, c.scope);
  s.Int(6, c.created_at ? c.created_at : NowSeconds());
  Status st = s.Run();
  if (st.code() == Code::kAlreadyExists) return AlreadyExists(c.kind + " '" + c.name + "' already exists");
  return st;
}

Status Store::DeleteCredential(std::string_view kind, std::string_view name) {
  std::lock_guard lock(write_mu_);
  ASSIGN_OR_RETURN(Stmt s, writer_->Prepare(kDeleteCredential));
  s.Text(1, kind).Text(2, name);
  RETURN_IF_ERROR(s.Run());
  if (sqlite3_changes(writer_->handle()) == 0) {
    return NotFound(std::string(kind) + " '" + std::string(name) + "' does not exist");
  }
  return Status::Ok();
}

}  // namespace berth::store
