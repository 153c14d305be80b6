// ZoneService: the one place zones change. It loads zone files and stored zones, validates
// them into snapshots, keeps the store in step (so a zone survives restarts and a broken file
// never replaces a good zone), and publishes to the ZoneTable the DNS workers read.
// Thread-safe: every change is serialized by one mutex; reads of the table never wait on it.
// Dynamic changes run on two threads: a committer (edit, journal) and a syncer (fsync, publish,
// answer), so one batch's fsync overlaps the next batch's work.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/histogram.h"
#include "core/status.h"
#include "dns/wire/message.h"
#include "dns/zone/zone_content.h"
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

// What a committed edit did.
struct EditOutcome {
  bool changed = false;   // false: the edit was a no-op (nothing journaled, serial kept)
  uint32_t serial = 0;    // the zone's serial after the edit
};

// A change to one zone: reads and edits `content`, returns OK to commit or an error to roll
// back (the error is handed back to the caller unchanged). Runs on the committer thread, so
// it must not block; it sees every edit committed before it, in submission order.
using EditFn = std::function<Status(dns::ZoneContent& content)>;
using EditDone = std::function<void(Result<EditOutcome>)>;
// Makes every change journaled so far durable (Store::SyncJournal; tests stand in for it).
using SyncFn = std::function<Status()>;
// Called after every committed change (and zone creation/import), outside any lock.
using ZoneChangedFn = std::function<void(const dns::Name& zone, uint32_t serial)>;

class ZoneService {
 public:
  // Journal entries kept per zone for IXFR (trimmed when the journal is folded).
  static constexpr size_t kJournalKeep = 1000;
  // A zone's journal is folded into the store's records table once it holds this many changes
  // not yet folded. A fold writes the current state of each RRset changed since the last one,
  // so the rarer it is the more repeated changes (a host moving again and again) cancel out;
  // after a crash, a start replays at most this many changes per zone.
  static constexpr size_t kFoldEvery = 10000;

  // `fold_every`: see kFoldEvery (tests fold sooner). `sync`: defaults to store.SyncJournal.
  ZoneService(store::Store& store, dns::ZoneTable& table, size_t fold_every = kFoldEvery, SyncFn sync = {});
  ~ZoneService();

  // Loads stored zones, then the configured file zones over them. A configured file zone's
  // stored copy is read only when it is needed: when its file fails (the copy keeps serving,
  // logged and reported in states()) or when dynamic changes made it newer than the file.
  // Returns the first error so the daemon can log it, never aborting the others.
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

  // Creates a store zone from `records` (which must hold its SOA). kAlreadyExists,
  // kInvalidArgument (zone rules, naming the record), kIo.
  Status Create(const dns::Name& zone, std::vector<dns::Record> records);
  // Deletes a store zone with its journal. kNotFound; kFailedPrecondition for a file zone.
  Status Delete(const dns::Name& zone);

  // Dynamic changes (all doors: RFC 2136, REST, dyndns2). The edit runs on the committer
  // thread against the zone's current content; when it changed anything the SOA serial is
  // bumped (unless the edit raised it itself), the touched RRsets are validated against the
  // zone rules (a violation rolls the edit back with kInvalidArgument), the change is
  // journaled together with the other edits of the same batch (group commit: one fsync),
  // a snapshot is patched with the batch's RRsets (Zone::Patch, cost by change size, not zone
  // size); once the fsync returns it is published, and only then `done` runs (on the syncer
  // thread, in submission order: keep it short). Answers never run ahead of the fsync of any
  // change before them, so no answer depends on a change that could still be lost.
  // kNotFound when the zone is not served; kIo for every edit once an fsync failed (the
  // changes since the last good one are not published; restart berthd).
  void EditAsync(const dns::Name& zone, EditFn edit, EditDone done);
  // The same, waiting for the outcome.
  Result<EditOutcome> Edit(const dns::Name& zone, EditFn edit);
  // The zone's change journal, oldest first (for IXFR). kNotFound.
  Result<std::vector<store::JournalEntry>> Journal(const dns::Name& zone) const;
  // Registers the one listener told about committed changes (NOTIFY). Call before any edit.
  void SetChangeListener(ZoneChangedFn fn) { on_change_ = std::move(fn); }

  std::vector<ZoneState> states() const;
  // Prometheus text of the commit pipeline: fsync times, change-to-answer times, syncs.
  std::string MetricsText() const;
  // True when every configured zone is being served and the journal syncs.
  bool Ready() const;

 private:
  Status LoadFileZone(const FileZone& fz);
  // Builds and publishes the stored copy of st's zone; a failure goes to st.last_error and
  // leaves st.serving as it was. mu_ held.
  void LoadStoredCopy(ZoneState& st);
  void Publish(std::shared_ptr<const dns::Zone> zone);
  void Unpublish(const dns::Name& name);

  struct PendingEdit {
    dns::Name zone;
    EditFn edit;
    EditDone done;
    uint64_t queued_ns = 0;  // steady clock, for berth_zone_change_seconds
  };
  void RunCommitter();
  // The zone was replaced or removed other than by an edit: drops its editable copy (rebuilt
  // from the served snapshot on the next edit) and unpublished snapshot, and moves it to a new
  // generation, so older snapshots and edits not yet journaled are stale. mu_ held.
  void DropContent(const std::string& key);
  // The editable copy no longer matches the store (a failed store write, a bug): re-reads it
  // from the store, so the next edit starts from what is stored. The generation stays: nothing
  // outside the edit path replaced the zone. mu_ held, committer only.
  void ReloadContent(const std::string& key, const dns::Name& origin);
  // After a group is journaled: folds the journal of each zone with kFoldEvery changes unfolded.
  void FoldDue();
  void NotifyChanged(const dns::Name& zone, uint32_t serial);

  store::Store& store_;
  dns::ZoneTable& table_;
  ZoneChangedFn on_change_;
  mutable std::mutex mu_;
  std::map<std::string, ZoneState> states_;  // keyed by lower-case zone name text
  // File zones whose stored copy LoadAll left unread (their states_ serial is the stored one).
  std::set<std::string> stored_unread_;
  // Editable copies of zones that have been edited, built on first edit (committer only).
  std::map<std::string, dns::ZoneContent> contents_;
  std::vector<std::pair<dns::Name, uint32_t>> changed_;  // file zones reloaded, to notify
  // A set of RRsets, each named by its owner (compared without case) and type.
  struct RRsetId {
    dns::Name owner;
    uint16_t type = 0;
    bool operator==(const RRsetId&) const = default;
  };
  struct RRsetIdHash {
    size_t operator()(const RRsetId& id) const { return dns::HashWireName(id.owner.wire()) * 31 + id.type; }
  };
  using RRsetIds = std::unordered_set<RRsetId, RRsetIdHash>;

  // Edits applied to the editable copies but not yet journaled (committer only). Applied as
  // they arrive; journaled in one transaction once the syncer is free.
  struct Group {
    static constexpr size_t npos = static_cast<size_t>(-1);
    std::vector<PendingEdit> edits;
    std::vector<Result<EditOutcome>> results;
    std::vector<store::Change> changes;
    std::vector<size_t> change_of;        // edit index -> index in changes, or npos
    std::vector<uint64_t> generation_of;  // change index -> its zone's generation when edited
    // Per zone changed: the RRsets the edits touched, so the next snapshot is the newest built
    // one patched with them (a full Build only after a resync).
    struct Touched {
      dns::Name origin;
      RRsetIds rrsets;
      bool rebuild = false;
    };
    std::map<std::string, Touched> touched;
  };
  // A group journaled (not yet synced): what to publish and whom to answer once it is durable.
  struct Snapshot {
    std::string key;
    uint64_t generation = 0;  // the zone's generation when built: stale if it moved on
    std::shared_ptr<const dns::Zone> zone;
  };
  struct UnsyncedGroup {
    std::vector<PendingEdit> edits;
    std::vector<Result<EditOutcome>> results;
    std::vector<Snapshot> snapshots;
    bool journaled = false;  // it wrote to the journal: needs an fsync before anything is answered
  };
  void ApplyEdits(std::vector<PendingEdit>& batch, Group& group);
  // Journals the group (no fsync), builds its snapshots and hands it to the syncer.
  void JournalGroup(Group& group);
  void RunSyncer();

  // Per edited zone since its journal was last folded: the RRsets its changes touched, so the
  // fold writes their current state (Store::FoldRRsets) instead of replaying every change.
  struct Unfolded {
    RRsetIds rrsets;
    size_t changes = 0;
    bool complete = true;  // false once the editable copy was dropped: the store replays instead
  };
  std::map<std::string, Unfolded> unfolded_;  // committer, under mu_
  const size_t fold_every_;

  // Newest snapshot per edited zone, maybe not yet published: the next group patches it.
  std::map<std::string, std::shared_ptr<const dns::Zone>> built_;  // committer, under mu_
  // Bumped whenever a zone is replaced or removed other than by an edit (reload, import,
  // delete): a synced group whose snapshot is older is not published over it, and an edit
  // applied before it is not journaled. Under mu_.
  std::map<std::string, uint64_t> generations_;
  uint64_t next_generation_ = 0;
  std::atomic<bool> sync_failed_{false};
  LatencyHistogram sync_seconds_{{100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000}};
  LatencyHistogram change_seconds_{{100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000}};
  std::atomic<uint64_t> groups_synced_{0};

  const SyncFn sync_;
  std::mutex queue_mu_;               // guards the members below
  std::condition_variable queue_cv_;  // the committer: edits queued, or the syncer free
  std::deque<PendingEdit> queue_;
  bool stopping_ = false;
  std::condition_variable unsynced_cv_;  // the syncer: a group to sync, or the committer done
  std::deque<UnsyncedGroup> unsynced_;
  bool syncing_ = false;  // a journaled group's fsync has not returned yet
  bool committer_done_ = false;
  std::thread syncer_;
  std::thread committer_;
};

}  // namespace berth::daemon
