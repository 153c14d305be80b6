// ZoneService: the one place zones change. It loads zone files and stored zones, validates
// them into snapshots, keeps the store in step (so a zone survives restarts and a broken file
// never replaces a good zone), and publishes to the ZoneTable the DNS workers read.
// Thread-safe: every change is serialized by one mutex; reads of the table never wait on it.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "dns/wire/message.h"
#include "dns/zone/zone_table.h"
#include "store/store.h"

namespace berth::daemon {

// A zone named in the config file, served from its master file.
struct FileZone {
  dns::Name name;
  std::string file;
};

struct ZoneState {
  dns::Name name;
  std::string source;  // "file" or "store"
  std::string file;
  bool serving = false;
  uint32_t serial = 0;
  size_t records = 0;
  std::string last_error;  // the last load failure (file:line: reason), empty when fine
};

class ZoneService {
 public:
  ZoneService(store::Store& store, dns::ZoneTable& table) : store_(store), table_(table) {}

  // Loads stored zones, then the configured file zones over them. A file that fails keeps its
  // stored copy serving (logged and reported in states()); returns the first such error so
  // the daemon can log it, never aborting the others.
  Status LoadAll(const std::vector<FileZone>& file_zones);
  // SIGHUP: re-reads every configured file zone (the list may have changed); zones that fail
  // keep their current version. Returns the first error, after trying them all.
  Status Reload(const std::vector<FileZone>& file_zones);
  // Replaces (or creates) a store zone from master-file text ($INCLUDE disabled). Errors:
  // kInvalidArgument (parse/validation, naming the line), kFailedPrecondition (the zone is
  // served from a file named in the config), kIo (store).
  Status Import(const dns::Name& zone, std::string_view text);
  // The records of a served zone, SOA first. kNotFound.
  Result<std::vector<dns::Record>> Records(const dns::Name& zone) const;

  std::vector<ZoneState> states() const;
  // True when every configured zone is being served.
  bool Ready() const;

 private:
  Status LoadFileZone(const FileZone& fz);
  void Publish(std::shared_ptr<const dns::Zone> zone);
  void Unpublish(const dns::Name& name);

  store::Store& store_;
  dns::ZoneTable& table_;
  mutable std::mutex mu_;
  std::map<std::string, ZoneState> states_;  // keyed by lower-case zone name text
};

}  // namespace berth::daemon
