#include "daemon/zone_service.h"

#include <malloc.h>

#include <future>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "dns/server/udp_send.h"
#include "dns/wire/types.h"
#include "dns/zonefile/zonefile.h"

namespace berth::daemon {
namespace {

std::string Key(const dns::Name& n) { return n.Lowercased().ToText(); }

}  // namespace
}  // namespace berth::daemon

// Defined when berthd is linked with tcmalloc (BERTH_TCMALLOC), null otherwise.
extern "C" void MallocExtension_ReleaseFreeMemory() __attribute__((weak));

namespace berth::daemon {
namespace {

// Returns freed heap to the system, whichever allocator berthd was linked with.
void ReleaseFreeMemory() {
  if (MallocExtension_ReleaseFreeMemory) MallocExtension_ReleaseFreeMemory();
  malloc_trim(0);
}

}  // namespace

ZoneService::ZoneService(store::Store& store, dns::ZoneTable& table, size_t fold_every, SyncFn sync)
    : store_(store),
      table_(table),
      fold_every_(std::max<size_t>(fold_every, 1)),
      sync_(sync ? std::move(sync) : SyncFn([&store] { return store.SyncJournal(); })),
      syncer_([this] { RunSyncer(); }),
      committer_([this] { RunCommitter(); }) {}

ZoneService::~ZoneService() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  committer_.join();  // it journals what is left and tells the syncer it is done
  syncer_.join();
  // Fold the whole journal so the next start reads the records table alone.
  if (Status s = store_.Checkpoint(1, kJournalKeep); !s.ok()) spdlog::warn("folding the zone journals: {}", s.ToString());
}

void ZoneService::NotifyChanged(const dns::Name& zone, uint32_t serial) {
  if (on_change_) on_change_(zone, serial);
}

void ZoneService::Publish(std::shared_ptr<const dns::Zone> zone) {
  table_.Update([&](const dns::ZoneSet& set) { return set.With(zone); });
}

void ZoneService::Unpublish(const dns::Name& name) {
  table_.Update([&](const dns::ZoneSet& set) { return set.Without(name); });
}

Status ZoneService::LoadAll(const std::vector<FileZone>& file_zones) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Changes journaled before a crash are folded now, so what this process tracks in
    // unfolded_ is all there is to fold later.
    if (Status s = store_.Checkpoint(1, kJournalKeep); !s.ok()) spdlog::warn("folding the zone journals: {}", s.ToString());
    ASSIGN_OR_RETURN(auto stored, store_.ListZones());
    std::set<std::string> configured;
    for (const auto& fz : file_zones) configured.insert(Key(fz.name));
    for (const auto& info : stored) {
      // A file zone dropped from the config is dropped from the store: no orphans.
      if (info.source == store::ZoneSource::kFile && !configured.count(Key(info.name))) {
        spdlog::info("zone {} is no longer configured; removing it from the store", info.name.ToText());
        RETURN_IF_ERROR(store_.DeleteZone(info.name));
        continue;
      }
      ZoneState& st = states_[Key(info.name)];
      st.name = info.name;
      st.source = std::string(store::ZoneSourceName(info.source));
      st.file = info.file;
      if (info.source == store::ZoneSource::kFile) {
        // Its file is read next; reading and building a large stored copy that the file then
        // replaces would double the start-up time.
        st.serial = info.serial;
        stored_unread_.insert(Key(info.name));
        continue;
      }
      LoadStoredCopy(st);
    }
  }
  return Reload(file_zones);
}

void ZoneService::LoadStoredCopy(ZoneState& st) {
  auto records = store_.ZoneRecords(st.name);
  if (!records.ok()) {
    st.last_error = records.status().ToString();
    return;
  }
  auto zone = dns::Zone::Build(st.name, std::move(*records));
  if (!zone.ok()) {
    st.last_error = "stored copy: " + zone.status().message();
    spdlog::error("zone {}: {}", st.name.ToText(), st.last_error);
    return;
  }
  st.serving = true;
  st.serial = (*zone)->serial();
  st.records = (*zone)->record_count();
  Publish(*zone);
}

Status ZoneService::LoadFileZone(const FileZone& fz) {
  ZoneState& st = states_[Key(fz.name)];
  st.name = fz.name;
  st.source = "file";
  st.file = fz.file;
  const bool stored_unread = stored_unread_.erase(Key(fz.name)) > 0;
  auto fail = [&](const Status& s) {
    // A file broken across a restart: the stored copy serves until it is fixed.
    if (stored_unread) LoadStoredCopy(st);
    st.last_error = s.message();
    spdlog::error("zone {} not reloaded{}: {}", fz.name.ToText(), st.serving ? " (previous version keeps serving)" : "",
                  s.message());
    return s.WithContext("zone " + fz.name.ToText());
  };
  auto records = dns::ParseZoneFile(fz.file, fz.name);
  if (!records.ok()) return fail(records.status());
  auto zone = dns::Zone::Build(fz.name, std::move(*records));
  if (!zone.ok()) return fail(zone.status().WithContext(fz.file));
  // Dynamic updates bump the serial past the file's: the served zone is then newer than the
  // file and stays (the operator raises the file's serial to make the file win again).
  if (stored_unread && dns::SerialNewer(st.serial, (*zone)->serial())) LoadStoredCopy(st);
  if (st.serving && st.source == "file" && dns::SerialNewer(st.serial, (*zone)->serial())) {
    spdlog::info("zone {}: serving serial {} (dynamic changes) over {}'s older serial {}", fz.name.ToText(),
                 st.serial, fz.file, (*zone)->serial());
    st.last_error.clear();
    return Status::Ok();
  }
  // The file is the source of truth for a file zone, so it is served at once; the copy in the
  // store is the fallback that keeps the zone serving if the file later breaks across a restart.
  // (A stored copy left unread is known by its serial alone.)
  bool changed = stored_unread && !st.serving
                     ? st.serial != (*zone)->serial()
                     : !st.serving || st.serial != (*zone)->serial() || st.records != (*zone)->record_count();
  st.serving = true;
  st.serial = (*zone)->serial();
  st.records = (*zone)->record_count();
  st.last_error.clear();
  Publish(*zone);
  DropContent(Key(fz.name));
  if (changed) spdlog::info("zone {} loaded from {}: serial {}, {} records", fz.name.ToText(), fz.file, st.serial, st.records);
  if (Status s = store_.ReplaceZone(fz.name, store::ZoneSource::kFile, (*zone)->Records(), fz.file); !s.ok()) {
    st.last_error = "served, but not saved to the state database: " + s.message();
    spdlog::error("zone {}: {}", fz.name.ToText(), st.last_error);
    return s.WithContext("zone " + fz.name.ToText());
  }
  if (changed) changed_.emplace_back(fz.name, st.serial);
  return Status::Ok();
}

Status ZoneService::Reload(const std::vector<FileZone>& file_zones) {
  std::unique_lock<std::mutex> lock(mu_);
  Status first;
  std::set<std::string> configured;
  for (const auto& fz : file_zones) {
    configured.insert(Key(fz.name));
    Status s = LoadFileZone(fz);
    if (!s.ok() && first.ok()) first = s;
  }
  // File zones removed from the config stop being served.
  for (auto it = states_.begin(); it != states_.end();) {
    if (it->second.source == "file" && !configured.count(it->first)) {
      spdlog::info("zone {} removed from the config; no longer served", it->second.name.ToText());
      Unpublish(it->second.name);
      DropContent(it->first);
      if (Status s = store_.DeleteZone(it->second.name); !s.ok() && s.code() != Code::kNotFound && first.ok()) first = s;
      it = states_.erase(it);
    } else {
      ++it;
    }
  }
  // Parsing a large zone leaves freed heap behind; give it back so RSS reflects what serves.
  ReleaseFreeMemory();
  auto changed = std::move(changed_);
  changed_.clear();
  lock.unlock();
  for (const auto& [name, serial] : changed) NotifyChanged(name, serial);
  return first;
}

Status ZoneService::Import(const dns::Name& name, std::string_view text) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = states_.find(Key(name));
  if (it != states_.end() && it->second.source == "file")
    return FailedPrecondition("zone " + name.ToText() + " is served from " + it->second.file +
                              "; edit that file and reload instead");
  dns::ZoneFileOptions opts;
  opts.allow_include = false;
  ASSIGN_OR_RETURN(auto records, dns::ParseZoneText(text, name, "import", opts));
  ASSIGN_OR_RETURN(auto zone, dns::Zone::Build(name, std::move(records)));
  RETURN_IF_ERROR(store_.ReplaceZone(name, store::ZoneSource::kStore, zone->Records()));
  ZoneState& st = states_[Key(name)];
  st.name = name;
  st.source = "store";
  st.file.clear();
  st.serving = true;
  st.serial = zone->serial();
  st.records = zone->record_count();
  st.last_error.clear();
  Publish(zone);
  DropContent(Key(name));
  spdlog::info("zone {} imported: serial {}, {} records", name.ToText(), st.serial, st.records);
  uint32_t serial = st.serial;
  lock.unlock();
  NotifyChanged(name, serial);
  return Status::Ok();
}

Status ZoneService::Create(const dns::Name& name, std::vector<dns::Record> records) {
  std::unique_lock<std::mutex> lock(mu_);
  if (states_.count(Key(name))) return AlreadyExists("zone " + name.ToText() + " already exists");
  ASSIGN_OR_RETURN(auto zone, dns::Zone::Build(name, std::move(records)));
  RETURN_IF_ERROR(store_.CreateZone(name, store::ZoneSource::kStore, zone->Records()));
  ZoneState& st = states_[Key(name)];
  st.name = name;
  st.source = "store";
  st.serving = true;
  st.serial = zone->serial();
  st.records = zone->record_count();
  Publish(zone);
  spdlog::info("zone {} created: serial {}, {} records", name.ToText(), st.serial, st.records);
  uint32_t serial = st.serial;
  lock.unlock();
  NotifyChanged(name, serial);
  return Status::Ok();
}

Status ZoneService::Delete(const dns::Name& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = states_.find(Key(name));
  if (it == states_.end()) return NotFound("zone " + name.ToText() + " does not exist");
  if (it->second.source == "file")
    return FailedPrecondition("zone " + name.ToText() + " is served from " + it->second.file +
                              "; remove it from the config instead");
  RETURN_IF_ERROR(store_.DeleteZone(name));
  Unpublish(name);
  DropContent(it->first);
  states_.erase(it);
  spdlog::info("zone {} deleted", name.ToText());
  return Status::Ok();
}

Result<std::vector<store::JournalEntry>> ZoneService::Journal(const dns::Name& zone) const {
  return store_.ZoneJournal(zone);
}

void ZoneService::EditAsync(const dns::Name& zone, EditFn edit, EditDone done) {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (!stopping_) {
      queue_.push_back(PendingEdit{zone, std::move(edit), std::move(done), MonotonicNs()});
      queue_cv_.notify_one();
      return;
    }
  }
  done(Unavailable("the server is shutting down"));
}

Result<EditOutcome> ZoneService::Edit(const dns::Name& zone, EditFn edit) {
  std::promise<Result<EditOutcome>> promise;
  auto future = promise.get_future();
  EditAsync(zone, std::move(edit), [&promise](Result<EditOutcome> r) { promise.set_value(std::move(r)); });
  return future.get();
}

void ZoneService::DropContent(const std::string& key) {
  contents_.erase(key);
  built_.erase(key);
  generations_[key] = ++next_generation_;
  if (auto it = unfolded_.find(key); it != unfolded_.end()) {
    it->second.complete = false;  // the store replays its journal for this zone instead
    it->second.rrsets.clear();
  }
}

void ZoneService::ReloadContent(const std::string& key, const dns::Name& origin) {
  contents_.erase(key);
  built_.erase(key);
  if (auto it = unfolded_.find(key); it != unfolded_.end()) {
    it->second.complete = false;
    it->second.rrsets.clear();
  }
  auto records = store_.ZoneRecords(origin);
  if (records.ok()) {
    contents_.emplace(key, dns::ZoneContent(origin, std::move(*records)));
  } else {
    spdlog::error("zone {}: reading it back from the store: {}", origin.ToText(), records.status().ToString());
  }
}

void ZoneService::FoldDue() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [key, u] : unfolded_) {
    if (u.changes < fold_every_) continue;
    auto st = states_.find(key);
    auto c = contents_.find(key);
    if (st == states_.end()) {
      u = Unfolded{};
      continue;
    }
    Status s;
    if (u.complete && c != contents_.end()) {
      // The current state of every RRset changed since the last fold: a fold that costs what
      // changed, however many times it changed.
      std::vector<store::Store::RRsetRecords> rrsets;
      rrsets.reserve(u.rrsets.size());
      for (const auto& id : u.rrsets) rrsets.push_back({id.owner, id.type, c->second.RRset(id.owner, id.type)});
      s = store_.FoldRRsets(st->second.name, rrsets, kJournalKeep);
    } else {
      s = store_.TrimJournal(st->second.name, kJournalKeep).status();  // replays the journal
    }
    if (!s.ok()) spdlog::warn("zone {}: folding the journal: {}", st->second.name.ToText(), s.ToString());
    bool complete = s.ok();
    u = Unfolded{};
    u.complete = complete;
  }
}

void ZoneService::RunCommitter() {
  std::vector<PendingEdit> batch;
  Group group;
  while (true) {
    bool journal_now;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      // Edits are applied as they come; the group is journaled once the syncer is free, so
      // everything edited during one fsync shares the next transaction and the next fsync.
      queue_cv_.wait(lock, [&] {
        return !queue_.empty() || (!group.edits.empty() && !syncing_) || (stopping_ && group.edits.empty());
      });
      if (queue_.empty() && group.edits.empty()) {
        committer_done_ = true;  // stopping, nothing left
        unsynced_cv_.notify_all();
        return;
      }
      constexpr size_t kMaxBatch = 4096;
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      journal_now = !syncing_ && queue_.empty();
      if (journal_now) syncing_ = true;  // the syncer's next turn is this group's
    }
    if (!batch.empty()) ApplyEdits(batch, group);
    batch.clear();
    if (journal_now) {
      JournalGroup(group);
      group = Group{};
      // After the group is journaled: bring the records table up to the journal now and then.
      FoldDue();
    }
  }
}

void ZoneService::ApplyEdits(std::vector<PendingEdit>& batch, Group& group) {
  const size_t first = group.edits.size();
  group.results.resize(first + batch.size(), Internal("edit not run"));
  group.change_of.resize(first + batch.size(), Group::npos);
  for (auto& p : batch) group.edits.push_back(std::move(p));
  if (sync_failed_.load()) {
    // Journaled changes may be lost: nothing more is accepted until a restart reloads the store.
    for (size_t i = first; i < group.edits.size(); ++i)
      group.results[i] = Status(Code::kIo, "the state database failed to sync; restart berthd");
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  // Edits of one zone tend to come in runs: the per-zone lookups are done once per run.
  struct Cursor {
    dns::Name zone;
    std::string key;
    Group::Touched* touched = nullptr;
    Unfolded* unfolded = nullptr;
    uint64_t generation = 0;
  } cursor;
  for (size_t i = first; i < group.edits.size(); ++i) {
    PendingEdit& p = group.edits[i];
    auto& results = group.results;
    if (!cursor.touched || !dns::WireNamesEqual(cursor.zone.wire(), p.zone.wire())) {
      cursor = Cursor{p.zone, Key(p.zone)};
    }
    const std::string& key = cursor.key;
    auto st = states_.find(key);
    if (st == states_.end() || !st->second.serving) {
      results[i] = NotFound("zone " + p.zone.ToText() + " is not served here");
      continue;
    }
    auto content_it = contents_.find(key);
    if (content_it == contents_.end()) {
      auto zone = table_.Get()->Get(p.zone);  // no content: nothing unsynced either (DropContent)
      if (!zone) {
        results[i] = NotFound("zone " + p.zone.ToText() + " is not served here");
        continue;
      }
      content_it = contents_.emplace(key, dns::ZoneContent(zone->origin(), zone->Records())).first;
    }
    dns::ZoneContent& content = content_it->second;
    const uint32_t before = content.serial();
    content.Begin();
    Status s = p.edit(content);
    const bool changed = s.ok() && content.Changed();
    if (changed) {
      if (!dns::SerialNewer(content.serial(), before)) s = content.SetSerial(before + 1);
      if (s.ok()) s = content.CheckTouched();
    }
    if (!s.ok()) {
      content.Rollback();
      results[i] = s;
      continue;
    }
    EditOutcome out;
    out.changed = changed;
    out.serial = content.serial();
    if (out.changed) {
      dns::ZoneContent::Difference diff = content.Diff();
      if (!cursor.touched) {
        cursor.touched = &group.touched[key];
        cursor.touched->origin = content.origin();
        cursor.unfolded = &unfolded_[key];
        cursor.generation = generations_[key];
      }
      ++cursor.unfolded->changes;
      // The distinct RRsets of the diff (a handful: usually the SOA and one more), each
      // entered once in the group's set (JournalGroup adds the group's set to unfolded_).
      const dns::Record* distinct[8];
      size_t n = 0;
      for (const auto* list : {&diff.removed, &diff.added}) {
        for (const auto& r : *list) {
          bool seen = false;
          for (size_t k = 0; k < n && !seen; ++k) seen = distinct[k]->type == r.type && distinct[k]->name == r.name;
          if (seen) continue;
          if (n == std::size(distinct)) {  // a big change: straight in
            cursor.touched->rrsets.insert({r.name, r.type});
            continue;
          }
          distinct[n++] = &r;
        }
      }
      for (size_t k = 0; k < n; ++k) cursor.touched->rrsets.insert({distinct[k]->name, distinct[k]->type});
      group.change_of[i] = group.changes.size();
      group.generation_of.push_back(cursor.generation);
      group.changes.push_back(store::Change{content.origin(), std::move(diff.removed), std::move(diff.added), out.serial});
    }
    content.Commit();
    results[i] = std::move(out);
  }
}

void ZoneService::JournalGroup(Group& group) {
  auto& changes = group.changes;
  auto& batch = group.edits;
  auto& results = group.results;
  auto& touched = group.touched;
  UnsyncedGroup unsynced;
  std::unique_lock<std::mutex> lock(mu_);
  // A zone replaced or deleted (reload, import, delete) since an edit was applied: the edit
  // was made to content that is gone, so it is not journaled.
  std::vector<bool> stale(changes.size(), false);
  bool any_stale = false;
  for (size_t c = 0; c < changes.size(); ++c) {
    stale[c] = generations_[Key(changes[c].zone)] != group.generation_of[c];
    any_stale |= stale[c];
  }
  if (any_stale) {
    std::vector<store::Change> kept;
    for (size_t i = 0; i < batch.size(); ++i) {
      size_t& c = group.change_of[i];
      if (c == Group::npos) continue;
      if (stale[c]) {
        results[i] = Status(Code::kUnavailable, "zone " + batch[i].zone.ToText() + " was replaced before the change was saved");
        c = Group::npos;
        continue;
      }
      kept.push_back(std::move(changes[c]));
      c = kept.size() - 1;
    }
    changes = std::move(kept);
  }
  if (!changes.empty()) {
    unsynced.journaled = true;
    auto applied = store_.ApplyChanges(changes, store::Store::Durability::kDeferred);
    std::set<std::string> resync;  // zones whose content no longer matches the store
    for (size_t i = 0; i < batch.size(); ++i) {
      if (group.change_of[i] == Group::npos) continue;
      const Status& s = applied.ok() ? (*applied)[group.change_of[i]].status() : applied.status();
      if (!s.ok()) {
        spdlog::error("zone {}: change not saved: {}", batch[i].zone.ToText(), s.ToString());
        results[i] = s.code() == Code::kIo ? s : Internal("change not saved: " + s.message());
        resync.insert(Key(batch[i].zone));
      }
    }
    for (const auto& key : resync) {
      // Serve what the store holds, so nothing unacknowledged is ever visible.
      Group::Touched& t = touched.at(key);
      t.rebuild = true;
      ReloadContent(key, t.origin);
    }
    for (const auto& [key, t] : touched) {
      // The next fold writes the current state of every RRset journaled since the last one.
      if (auto u = unfolded_.find(key); u != unfolded_.end() && u->second.complete)
        u->second.rrsets.insert(t.rrsets.begin(), t.rrsets.end());
      auto c = contents_.find(key);
      if (c == contents_.end()) continue;
      const dns::Name& origin = t.origin;
      std::shared_ptr<const dns::Zone> prev;
      if (!t.rebuild) {
        auto b = built_.find(key);
        prev = b != built_.end() ? b->second : table_.Get()->Get(origin);
      }
      Result<std::shared_ptr<const dns::Zone>> zone = Internal("no snapshot to patch");
      if (prev) {
        std::vector<dns::Zone::RRsetChange> rrsets;
        rrsets.reserve(t.rrsets.size());
        for (const auto& id : t.rrsets) rrsets.push_back({id.owner, id.type, c->second.RRset(id.owner, id.type)});
        zone = dns::Zone::Patch(*prev, rrsets);
        if (!zone.ok()) spdlog::error("zone {}: patching the snapshot failed, rebuilding it: {}", origin.ToText(), zone.status().ToString());
      }
      if (!zone.ok()) zone = dns::Zone::Build(origin, c->second.Records());
      if (!zone.ok()) {
        // CheckTouched mirrors Build's rules; getting here is a bug, so keep the last snapshot.
        spdlog::error("zone {}: edited zone does not build: {}", origin.ToText(), zone.status().ToString());
        ReloadContent(key, origin);
        continue;
      }
      built_[key] = *zone;
      unsynced.snapshots.push_back({key, generations_[key], std::move(*zone)});
    }
  }
  lock.unlock();
  unsynced.edits = std::move(batch);
  unsynced.results = std::move(results);
  std::lock_guard<std::mutex> queue_lock(queue_mu_);
  unsynced_.push_back(std::move(unsynced));
  unsynced_cv_.notify_one();
}

void ZoneService::RunSyncer() {
  while (true) {
    UnsyncedGroup group;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      unsynced_cv_.wait(lock, [&] { return committer_done_ || !unsynced_.empty(); });
      if (unsynced_.empty()) return;  // the committer is done and everything is answered
      group = std::move(unsynced_.front());
      unsynced_.pop_front();
    }
    if (group.journaled && !sync_failed_.load()) {
      const uint64_t sync_start = MonotonicNs();
      Status s = sync_();
      sync_seconds_.Observe(MonotonicNs() - sync_start);
      groups_synced_.fetch_add(1, std::memory_order_relaxed);
      if (!s.ok()) {
        spdlog::critical("the state database failed to sync ({}): dynamic changes are refused until berthd restarts",
                         s.ToString());
        sync_failed_.store(true);
      }
    }
    // After a failed fsync nothing journaled since the last good one may be published or
    // acknowledged, nor any answer that was decided on top of it.
    const bool failed = sync_failed_.load();
    std::vector<std::pair<dns::Name, uint32_t>> notify;
    if (!failed) {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& snap : group.snapshots) {
        auto st = states_.find(snap.key);
        if (st == states_.end() || generations_[snap.key] != snap.generation) continue;  // replaced since
        st->second.serial = snap.zone->serial();
        st->second.records = snap.zone->record_count();
        notify.emplace_back(snap.zone->origin(), st->second.serial);
        Publish(std::move(snap.zone));
      }
    }
    for (const auto& [name, serial] : notify) NotifyChanged(name, serial);
    // The answers these callbacks send to DNS clients leave together when the batch closes: one
    // sendmmsg, and one GSO send per client socket (a client with many updates in flight).
    dns::UdpSendBatch answers;
    for (size_t i = 0; i < group.edits.size(); ++i) {
      if (failed) group.results[i] = Status(Code::kIo, "the state database failed to sync; restart berthd");
      group.edits[i].done(std::move(group.results[i]));
    }
    const uint64_t answered = MonotonicNs();
    for (const auto& e : group.edits) change_seconds_.Observe(answered - e.queued_ns);
    {
      // Whatever the committer applied meanwhile makes the next group: one transaction, one fsync.
      std::lock_guard<std::mutex> lock(queue_mu_);
      syncing_ = false;
      queue_cv_.notify_one();
    }
  }
}

std::string ZoneService::MetricsText() const {
  return sync_seconds_.Render("berth_store_journal_sync_seconds",
                              "Time of each fsync of the state database's journal (one per group commit).") +
         change_seconds_.Render("berth_zone_change_seconds",
                                "Time from a dynamic change reaching the committer to its answer (applied, "
                                "journaled, fsynced and published).") +
         fmt::format("# HELP berth_store_journal_syncs_total Group commits synced to disk (changes share them).\n"
                     "# TYPE berth_store_journal_syncs_total counter\nberth_store_journal_syncs_total {}\n",
                     groups_synced_.load(std::memory_order_relaxed));
}

Result<std::vector<dns::Record>> ZoneService::Records(const dns::Name& name) const {
  auto zone = table_.Get()->Get(name);
  if (!zone) return NotFound("zone " + name.ToText() + " is not served here");
  return zone->Records();
}

std::vector<ZoneState> ZoneService::states() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ZoneState> out;
  for (const auto& [k, v] : states_) out.push_back(v);
  return out;
}

bool ZoneService::Ready() const {
  if (sync_failed_.load()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [k, v] : states_)
    if (!v.serving) return false;
  return true;
}

}  // namespace berth::daemon
