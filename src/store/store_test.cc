#include "store/store.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "dns/wire/types.h"
#include "store/change_codec.h"
#include "store/sqlite.h"

namespace berth::store {
namespace {

namespace fs = std::filesystem;
using dns::Name;
using dns::Record;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth-store-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = (fs::path(root_) / "state").string();
  }
  void TearDown() override { fs::remove_all(root_); }

  // The database file itself, behind the store's back (created if absent; the caller closes it).
  sqlite3* OpenRaw() {
    fs::create_directories(dir_);
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ + "/berth.db").c_str(), &db), SQLITE_OK);
    return db;
  }
  std::unique_ptr<Store> OpenStore() {
    auto s = Store::Open(dir_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  std::string root_, dir_;
};

Name N(const char* text) {
  auto n = Name::FromText(text);
  EXPECT_TRUE(n.ok()) << text;
  return *n;
}

Record A(const char* owner, uint8_t last, uint32_t ttl = 300) {
  return Record{N(owner), dns::type::kA, dns::cls::kIN, ttl, std::string("\xc0\x00\x02", 3) +
                                                                 static_cast<char>(last)};
}

void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

Record Soa(const char* zone, uint32_t serial) {
  std::string rdata(N("ns1.example.").wire());
  rdata += N("hostmaster.example.").wire();
  PutU32(rdata, serial);
  for (uint32_t v : {3600u, 600u, 86400u, 300u}) PutU32(rdata, v);
  return Record{N(zone), dns::type::kSOA, dns::cls::kIN, 3600, rdata};
}

TEST_F(StoreTest, OpenCreatesPrivateDirectoryAndDatabase) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  struct stat st;
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0750);
  EXPECT_EQ(store->path(), dir_ + "/berth.db");
  EXPECT_TRUE(fs::exists(store->path()));
  auto zones = store->ListZones();
  ASSERT_TRUE(zones.ok());
  EXPECT_TRUE(zones->empty());
}

TEST_F(StoreTest, CreateGetListAndRecordsKeepCase) {
  auto store = OpenStore();
  std::vector<Record> recs = {Soa("Example.COM.", 2026112201), A("WWW.Example.com.", 1),
                              A("mail.example.com.", 2)};
  ASSERT_TRUE(store->CreateZone(N("Example.COM."), ZoneSource::kFile, recs, "/etc/z").ok());
  ASSERT_TRUE(store->CreateZone(N("b.test."), ZoneSource::kStore, {}).ok());

  auto info = store->GetZone(N("example.com."));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->name.ToText(), "example.com.");
  EXPECT_EQ(info->source, ZoneSource::kFile);
  EXPECT_EQ(info->file, "/etc/z");
  EXPECT_EQ(info->serial, 2026112201u);
  EXPECT_GT(info->created_at, 0);

  auto got = store->ZoneRecords(N("EXAMPLE.com."));
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(*got, recs);
  EXPECT_EQ((*got)[1].name.ToText(), "WWW.Example.com.");  // owner case kept

  auto zones = store->ListZones();
  ASSERT_TRUE(zones.ok());
  ASSERT_EQ(zones->size(), 2u);
  EXPECT_EQ((*zones)[0].name.ToText(), "example.com.");
  EXPECT_EQ((*zones)[1].name.ToText(), "b.test.");
  EXPECT_EQ((*zones)[1].source, ZoneSource::kStore);
  EXPECT_EQ((*zones)[1].file, "");
}

TEST_F(StoreTest, ErrorsForMissingAndExistingZones) {
  auto store = OpenStore();
  EXPECT_EQ(store->GetZone(N("nope.")).status().code(), Code::kNotFound);
  EXPECT_EQ(store->ZoneRecords(N("nope.")).status().code(), Code::kNotFound);
  EXPECT_EQ(store->DeleteZone(N("nope.")).code(), Code::kNotFound);
  EXPECT_EQ(store->ApplyChange(N("nope."), {}, {}, 1).status().code(), Code::kNotFound);
  ASSERT_TRUE(store->CreateZone(N("a.test."), ZoneSource::kStore, {}).ok());
  Status again = store->CreateZone(N("A.TEST."), ZoneSource::kStore, {});
  EXPECT_EQ(again.code(), Code::kAlreadyExists);
  EXPECT_NE(again.message().find("a.test."), std::string::npos);
}

TEST_F(StoreTest, RejectsRecordsItCannotStore) {
  auto store = OpenStore();
  Record outside = A("www.other.", 1);
  Status s = store->CreateZone(N("a.test."), ZoneSource::kStore, {A("a.test.", 1), outside});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("www.other."), std::string::npos) << s.message();
  Record opt = A("a.test.", 1);
  opt.type = dns::type::kOPT;
  EXPECT_EQ(store->CreateZone(N("a.test."), ZoneSource::kStore, {opt}).code(),
            Code::kInvalidArgument);
  Record short_a = A("a.test.", 1);
  short_a.rdata = "ab";
  EXPECT_EQ(store->CreateZone(N("a.test."), ZoneSource::kStore, {short_a}).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(store->GetZone(N("a.test.")).status().code(), Code::kNotFound);
}

TEST_F(StoreTest, SurvivesReopen) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->CreateZone(N("a.test."), ZoneSource::kStore,
                                  {Soa("a.test.", 7), A("x.a.test.", 1)}).ok());
    ASSERT_TRUE(store->ApplyChange(N("a.test."), {A("x.a.test.", 1)}, {A("y.a.test.", 2)}, 8).ok());
  }
  auto store = OpenStore();
  auto recs = store->ZoneRecords(N("a.test."));
  ASSERT_TRUE(recs.ok());
  EXPECT_EQ(*recs, (std::vector<Record>{Soa("a.test.", 7), A("y.a.test.", 2)}));
  EXPECT_EQ(store->GetZone(N("a.test."))->serial, 8u);
  EXPECT_EQ(store->ZoneJournal(N("a.test."))->size(), 1u);
}

TEST_F(StoreTest, CreateWithDuplicateWritesNothing) {
  auto store = OpenStore();
  Status s = store->CreateZone(N("a.test."), ZoneSource::kStore,
                               {A("x.a.test.", 1), A("X.a.test.", 1, 60)});
  EXPECT_EQ(s.code(), Code::kAlreadyExists) << s.ToString();
  EXPECT_EQ(store->GetZone(N("a.test.")).status().code(), Code::kNotFound);
}

TEST_F(StoreTest, ApplyChangeJournalsWhatItIsGiven) {
  auto store = OpenStore();
  ASSERT_TRUE(store->CreateZone(N("a.test."), ZoneSource::kStore,
                                {Soa("a.test.", 1), A("Host.a.test.", 1, 600)}).ok());
  // The caller passes removals as stored (TTL, owner case): that is what IXFR must replay.
  auto serial = store->ApplyChange(N("a.test."), {A("Host.a.test.", 1, 600)}, {A("h2.a.test.", 9)}, 2);
  ASSERT_TRUE(serial.ok()) << serial.status().ToString();
  EXPECT_EQ(*serial, 2u);
  auto journal = store->ZoneJournal(N("a.test."));
  ASSERT_TRUE(journal.ok());
  ASSERT_EQ(journal->size(), 1u);
  const JournalEntry& e = (*journal)[0];
  EXPECT_EQ(e.old_serial, 1u);
  EXPECT_EQ(e.new_serial, 2u);
  ASSERT_EQ(e.removed.size(), 1u);
  EXPECT_EQ(e.removed[0], A("Host.a.test.", 1, 600));
  EXPECT_EQ(e.removed[0].name.ToText(), "Host.a.test.");
  EXPECT_EQ(e.added, std::vector<Record>{A("h2.a.test.", 9)});
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")), (std::vector<Record>{Soa("a.test.", 1), A("h2.a.test.", 9)}));
}

// The integers `sql` selects (one column), read behind the store's back.
std::vector<int64_t> Ints(const std::string& db_path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::vector<int64_t> out;
  while (sqlite3_step(st) == SQLITE_ROW) out.push_back(sqlite3_column_int64(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// The number of journal entries not yet folded into the records table.
int64_t Unfolded(const std::string& db_path) {
  return Ints(db_path, "SELECT coalesce(sum(c.changes), 0) FROM zone_changes c JOIN zones z "
                       "ON c.zone_id = z.id AND c.id > z.applied_change_id").at(0);
}

TEST_F(StoreTest, JournaledChangesAreReadBeforeAndAfterFolding) {
  std::vector<Record> expect = {Soa("a.test.", 1), A("x.a.test.", 1), A("y.a.test.", 2)};
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->CreateZone(N("a.test."), ZoneSource::kStore, expect).ok());
    // x moves 1 -> 3 -> 4, y's TTL changes, z comes and goes, w comes.
    ASSERT_TRUE(store->ApplyChange(N("a.test."), {A("x.a.test.", 1)}, {A("x.a.test.", 3)}, 2).ok());
    ASSERT_TRUE(store->ApplyChange(N("a.test."), {A("x.a.test.", 3)}, {A("x.a.test.", 4), A("z.a.test.", 9)}, 3).ok());
    ASSERT_TRUE(store->ApplyChange(N("a.test."), {A("y.a.test.", 2), A("z.a.test.", 9)},
                                   {A("Y.a.test.", 2, 60), A("w.a.test.", 5)}, 4).ok());
    expect = {Soa("a.test.", 1), A("Y.a.test.", 2, 60), A("x.a.test.", 4), A("w.a.test.", 5)};
    EXPECT_EQ(*store->ZoneRecords(N("a.test.")), expect);
    EXPECT_EQ(Unfolded(store->path()), 3);
  }
  // Unfolded changes survive a restart (a kill -9 never lets berthd fold).
  auto store = OpenStore();
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")), expect);
  ASSERT_TRUE(store->Checkpoint(4, 0).ok());  // not due: 3 < 4
  EXPECT_EQ(Unfolded(store->path()), 3);
  ASSERT_TRUE(store->Checkpoint(3, 2).ok());
  EXPECT_EQ(Unfolded(store->path()), 0);
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")), expect);  // in place: rows keep their order
  auto journal = store->ZoneJournal(N("a.test."));
  ASSERT_EQ(journal->size(), 2u);  // trimmed to the newest 2 once folded
  EXPECT_EQ((*journal)[0].old_serial, 2u);
  EXPECT_EQ(store->GetZone(N("a.test."))->serial, 4u);
  // More changes after a fold are applied on top of it.
  ASSERT_TRUE(store->ApplyChange(N("a.test."), {A("w.a.test.", 5)}, {}, 5).ok());
  expect.pop_back();
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")), expect);
}

TEST_F(StoreTest, FoldingToleratesAJournalOutOfStepWithTheRecords) {
  auto store = OpenStore();
  ASSERT_TRUE(store->CreateZone(N("a.test."), ZoneSource::kStore, {A("x.a.test.", 1)}).ok());
  // Removing what is not there and adding what is: the journal's end state is what counts.
  ASSERT_TRUE(store->ApplyChange(N("a.test."), {A("gone.a.test.", 7)}, {A("x.a.test.", 1, 30)}, 2).ok());
  std::vector<Record> expect = {A("x.a.test.", 1, 30)};
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")), expect);
  ASSERT_TRUE(store->Checkpoint(1, 0).ok());
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")), expect);
}

TEST_F(StoreTest, TrimJournalKeepsTheNewestEntries) {
  auto store = OpenStore();
  ASSERT_TRUE(store->CreateZone(N("a.test."), ZoneSource::kStore, {Soa("a.test.", 1)}).ok());
  for (uint32_t i = 0; i < 5; ++i)
    ASSERT_TRUE(store->ApplyChange(N("a.test."), {}, {A("h.a.test.", static_cast<uint8_t>(i + 1))}, i + 2).ok());
  auto trimmed = store->TrimJournal(N("a.test."), 2);
  ASSERT_TRUE(trimmed.ok());
  EXPECT_EQ(*trimmed, 3u);
  auto journal = store->ZoneJournal(N("a.test."));
  ASSERT_EQ(journal->size(), 2u);
  EXPECT_EQ((*journal)[0].old_serial, 4u);
  EXPECT_EQ((*journal)[1].new_serial, 6u);
  EXPECT_EQ((*journal)[1].added.size(), 1u);
  EXPECT_EQ(store->TrimJournal(N("nope."), 2).status().code(), Code::kNotFound);
}

TEST_F(StoreTest, CredentialsPersistAndRefuseDuplicates) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->PutCredential({"token", "a", "sha256:00", "", "[]", 0}).ok());
    ASSERT_TRUE(store->PutCredential({"tsig_key", "k.", "c2VjcmV0", "hmac-sha256.", "[]", 7}).ok());
    EXPECT_EQ(store->PutCredential({"token", "a", "sha256:11", "", "[]", 0}).code(), Code::kAlreadyExists);
    EXPECT_EQ(store->PutCredential({"bogus", "a", "x", "", "[]", 0}).code(), Code::kInvalidArgument);
  }
  auto store = OpenStore();
  auto all = store->ListCredentials();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].kind, "token");
  EXPECT_GT((*all)[0].created_at, 0);
  EXPECT_EQ((*all)[1].algorithm, "hmac-sha256.");
  EXPECT_EQ((*all)[1].created_at, 7);
  EXPECT_TRUE(store->DeleteCredential("token", "a").ok());
  EXPECT_EQ(store->DeleteCredential("token", "a").code(), Code::kNotFound);
  EXPECT_EQ(store->ListCredentials()->size(), 1u);
}

TEST_F(StoreTest, FailedChangeIsAllOrNothing) {
  auto store = OpenStore();
  std::vector<Record> initial = {Soa("a.test.", 1), A("x.a.test.", 1), A("y.a.test.", 2)};
  ASSERT_TRUE(store->CreateZone(N("a.test."), ZoneSource::kStore, initial).ok());
  Record short_a = A("z.a.test.", 3);
  short_a.rdata = "ab";
  auto r = store->ApplyChange(N("a.test."), {A("x.a.test.", 1)}, {A("w.a.test.", 3), short_a}, 2);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("z.a.test."), std::string::npos) << r.status().message();
  auto r2 = store->ApplyChange(N("a.test."), {A("y.a.test.", 2)}, {A("w.elsewhere.", 4)}, 3);
  EXPECT_EQ(r2.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")), initial);
  EXPECT_EQ(store->GetZone(N("a.test."))->serial, 1u);
  EXPECT_TRUE(store->ZoneJournal(N("a.test."))->empty());
}

TEST_F(StoreTest, BatchIsolatesFailedChanges) {
  auto store = OpenStore();
  ASSERT_TRUE(store->CreateZone(N("a.test."), ZoneSource::kStore, {A("x.a.test.", 1)}).ok());
  Record opt = A("b2.a.test.", 1);
  opt.type = dns::type::kOPT;
  std::vector<Change> batch = {
      {N("a.test."), {}, {A("b1.a.test.", 1)}, 2},
      {N("a.test."), {}, {A("b2.a.test.", 1), opt}, 3},  // a meta type: fails
      {N("missing."), {}, {}, 4},
      {N("a.test."), {A("b1.a.test.", 1)}, {A("b3.a.test.", 1)}, 5},
  };
  auto results = store->ApplyChanges(batch);
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  ASSERT_EQ(results->size(), 4u);
  EXPECT_EQ(*(*results)[0], 2u);
  EXPECT_EQ((*results)[1].status().code(), Code::kInvalidArgument);
  EXPECT_EQ((*results)[2].status().code(), Code::kNotFound);
  EXPECT_EQ(*(*results)[3], 5u);
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")),
            (std::vector<Record>{A("x.a.test.", 1), A("b3.a.test.", 1)}));
  EXPECT_EQ(store->GetZone(N("a.test."))->serial, 5u);
  auto journal = store->ZoneJournal(N("a.test."));
  ASSERT_EQ(journal->size(), 2u);
  EXPECT_EQ((*journal)[1].old_serial, 2u);  // the failed change left no trace in the chain
}

// A group commit journals one row per zone, holding its changes in order; the journal still
// reads as one entry per change, and counts of unfolded changes survive a restart.
TEST_F(StoreTest, GroupCommitIsOneJournalRowPerZone) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->CreateZone(N("a.test."), ZoneSource::kStore, {Soa("a.test.", 1), A("x.a.test.", 1)}).ok());
    ASSERT_TRUE(store->CreateZone(N("b.test."), ZoneSource::kStore, {A("y.b.test.", 1)}).ok());
    std::vector<Change> batch = {
        {N("a.test."), {Soa("a.test.", 1), A("x.a.test.", 1)}, {Soa("a.test.", 2), A("x.a.test.", 2)}, 2},
        {N("B.test."), {}, {A("z.b.test.", 1)}, 7},
        {N("a.test."), {Soa("a.test.", 2), A("x.a.test.", 2)}, {Soa("a.test.", 3), A("x.a.test.", 3)}, 3},
        {N("a.test."), {Soa("a.test.", 3)}, {Soa("a.test.", 4), A("w.a.test.", 9)}, 4},
    };
    auto results = store->ApplyChanges(batch);
    ASSERT_TRUE(results.ok()) << results.status().ToString();
    for (const auto& r : *results) EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(Ints(store->path(), "SELECT changes FROM zone_changes ORDER BY zone_id"), (std::vector<int64_t>{3, 1}));
    EXPECT_EQ(Ints(store->path(), "SELECT id FROM zone_changes ORDER BY zone_id"), (std::vector<int64_t>{3, 1}));
  }
  auto store = OpenStore();
  auto journal = store->ZoneJournal(N("a.test."));
  ASSERT_TRUE(journal.ok()) << journal.status().ToString();
  ASSERT_EQ(journal->size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*journal)[i].old_serial, i + 1);
    EXPECT_EQ((*journal)[i].new_serial, i + 2);
    EXPECT_GT((*journal)[i].changed_at, 0);
  }
  EXPECT_EQ((*journal)[2].added, (std::vector<Record>{Soa("a.test.", 4), A("w.a.test.", 9)}));
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")), (std::vector<Record>{A("x.a.test.", 3), Soa("a.test.", 4), A("w.a.test.", 9)}));
  EXPECT_EQ(store->GetZone(N("a.test."))->serial, 4u);
  EXPECT_EQ(store->GetZone(N("b.test."))->serial, 7u);
  // Due counts changes, not rows: a.test. has 3 unfolded, b.test. 1.
  ASSERT_TRUE(store->Checkpoint(4, 0).ok());
  EXPECT_EQ(Unfolded(store->path()), 4);
  ASSERT_TRUE(store->Checkpoint(3, 0).ok());
  EXPECT_EQ(Unfolded(store->path()), 1);
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")), (std::vector<Record>{A("x.a.test.", 3), Soa("a.test.", 4), A("w.a.test.", 9)}));
  // Numbering goes on from the newest change.
  ASSERT_TRUE(store->ApplyChange(N("a.test."), {A("w.a.test.", 9)}, {}, 5).ok());
  EXPECT_EQ(Ints(store->path(), "SELECT id FROM zone_changes WHERE zone_id = 1 ORDER BY id"), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(store->ZoneJournal(N("a.test."))->size(), 4u);
}

// A deferred commit is visible at once and durable after SyncJournal, which may run on another
// thread while the writer journals the next batch; the writer goes back to synced commits.
TEST_F(StoreTest, DeferredCommitsAreSyncedByTheJournalSync) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->CreateZone(N("a.test."), ZoneSource::kStore, {Soa("a.test.", 1)}).ok());
    std::atomic<bool> done{false};
    std::atomic<int> syncs{0};
    std::thread syncer([&] {
      while (!done) {
        Status s = store->SyncJournal();
        EXPECT_TRUE(s.ok()) << s.ToString();
        ++syncs;
      }
    });
    while (syncs.load() == 0) std::this_thread::yield();  // syncing before the writer starts
    for (uint32_t serial = 2; serial <= 50; ++serial) {
      std::vector<Change> batch = {{N("a.test."), {Soa("a.test.", serial - 1)}, {Soa("a.test.", serial)}, serial}};
      auto results = store->ApplyChanges(batch, Store::Durability::kDeferred);
      ASSERT_TRUE(results.ok()) << results.status().ToString();
      EXPECT_EQ(store->GetZone(N("a.test."))->serial, serial);
    }
    done = true;
    syncer.join();
    ASSERT_TRUE(store->SyncJournal().ok());
    // A synced commit after deferred ones.
    ASSERT_TRUE(store->ApplyChange(N("a.test."), {}, {A("x.a.test.", 1)}, 51).ok());
  }
  auto store = OpenStore();
  EXPECT_EQ(store->GetZone(N("a.test."))->serial, 51u);
  EXPECT_EQ(store->ZoneJournal(N("a.test."))->size(), 50u);
}

// The sync follows the WAL file by path and says which file failed.
TEST_F(StoreTest, JournalSyncNamesTheFileItCannotSync) {
  auto store = OpenStore();
  ASSERT_TRUE(store->CreateZone(N("a.test."), ZoneSource::kStore, {Soa("a.test.", 1)}).ok());
  ASSERT_TRUE(store->SyncJournal().ok());
  ASSERT_EQ(::unlink((store->path() + "-wal").c_str()), 0);
  Status s = store->SyncJournal();
  EXPECT_EQ(s.code(), Code::kIo);
  EXPECT_NE(s.message().find(store->path() + "-wal"), std::string::npos) << s.message();
}

// Trimming keeps exactly the newest entries even when the oldest kept one shares its group
// commit's row with older ones.
TEST_F(StoreTest, TrimSplitsAGroupRowToKeepExactlyTheNewest) {
  auto store = OpenStore();
  ASSERT_TRUE(store->CreateZone(N("a.test."), ZoneSource::kStore, {Soa("a.test.", 1)}).ok());
  std::vector<Change> batch;
  for (uint32_t i = 0; i < 5; ++i) batch.push_back({N("a.test."), {}, {A("h.a.test.", static_cast<uint8_t>(i + 1))}, i + 2});
  ASSERT_TRUE(store->ApplyChanges(batch).ok());
  auto trimmed = store->TrimJournal(N("a.test."), 7);
  ASSERT_TRUE(trimmed.ok());
  EXPECT_EQ(*trimmed, 0u);
  trimmed = store->TrimJournal(N("a.test."), 2);
  ASSERT_TRUE(trimmed.ok()) << trimmed.status().ToString();
  EXPECT_EQ(*trimmed, 3u);
  auto journal = store->ZoneJournal(N("a.test."));
  ASSERT_EQ(journal->size(), 2u);
  EXPECT_EQ((*journal)[0].old_serial, 4u);
  EXPECT_EQ((*journal)[0].added, std::vector<Record>{A("h.a.test.", 4)});
  EXPECT_EQ((*journal)[1].new_serial, 6u);
  EXPECT_EQ(Ints(store->path(), "SELECT changes FROM zone_changes"), std::vector<int64_t>{2});
  EXPECT_EQ(Ints(store->path(), "SELECT old_serial FROM zone_changes"), std::vector<int64_t>{4});
  EXPECT_EQ(store->ZoneRecords(N("a.test."))->size(), 6u);  // the records do not move
  // Another group, then a trim across both rows.
  batch.clear();
  for (uint32_t i = 5; i < 8; ++i) batch.push_back({N("a.test."), {}, {A("h.a.test.", static_cast<uint8_t>(i + 1))}, i + 2});
  ASSERT_TRUE(store->ApplyChanges(batch).ok());
  ASSERT_TRUE(store->Checkpoint(1, 1).ok());
  journal = store->ZoneJournal(N("a.test."));
  ASSERT_EQ(journal->size(), 1u);
  EXPECT_EQ((*journal)[0].old_serial, 8u);
  EXPECT_EQ((*journal)[0].new_serial, 9u);
  EXPECT_EQ(Unfolded(store->path()), 0);
  EXPECT_EQ(store->ZoneRecords(N("a.test."))->size(), 9u);
}

// FoldRRsets rewrites the records table from the RRsets' current state, reusing rows: a record
// that replaced another takes its row.
TEST_F(StoreTest, FoldRRsetsRewritesRowsInPlace) {
  auto store = OpenStore();
  ASSERT_TRUE(store->CreateZone(N("a.test."), ZoneSource::kStore,
                                {Soa("a.test.", 1), A("a.a.test.", 1), A("b.a.test.", 2), A("b.a.test.", 3), A("c.a.test.", 4)}).ok());
  auto ids = [&] { return Ints(store->path(), "SELECT id FROM records ORDER BY id"); };
  std::vector<int64_t> before = ids();
  // a moves; b loses 3 and its TTL changes; c goes; d comes.
  ASSERT_TRUE(store->ApplyChange(N("a.test."), {Soa("a.test.", 1), A("a.a.test.", 1)}, {Soa("a.test.", 2), A("a.a.test.", 5)}, 2).ok());
  ASSERT_TRUE(store->ApplyChange(N("a.test."), {Soa("a.test.", 2), A("b.a.test.", 2), A("b.a.test.", 3), A("c.a.test.", 4)},
                                 {Soa("a.test.", 3), A("B.a.test.", 2, 60), A("d.a.test.", 6)}, 3).ok());
  std::vector<Record> expect = {Soa("a.test.", 3), A("a.a.test.", 5), A("B.a.test.", 2, 60), A("d.a.test.", 6)};
  std::vector<Store::RRsetRecords> rrsets = {
      {N("a.test."), dns::type::kSOA, {Soa("a.test.", 3)}},
      {N("a.a.test."), dns::type::kA, {A("a.a.test.", 5)}},
      {N("b.a.test."), dns::type::kA, {A("B.a.test.", 2, 60)}},
      {N("c.a.test."), dns::type::kA, {}},
      {N("d.a.test."), dns::type::kA, {A("d.a.test.", 6)}},
  };
  // A record outside its RRset is refused before anything is written.
  std::vector<Store::RRsetRecords> wrong = {{N("a.a.test."), dns::type::kA, {A("e.a.test.", 5)}}};
  EXPECT_EQ(store->FoldRRsets(N("a.test."), wrong, 1).code(), Code::kInvalidArgument);
  EXPECT_EQ(Unfolded(store->path()), 2);

  ASSERT_TRUE(store->FoldRRsets(N("a.test."), rrsets, 1).ok());
  EXPECT_EQ(Unfolded(store->path()), 0);
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")), expect);  // table order: rows kept their places
  std::vector<int64_t> after = ids();
  ASSERT_EQ(after.size(), 4u);
  EXPECT_EQ(after, std::vector<int64_t>(before.begin(), before.begin() + 4));  // c's row went, d took 3's
  EXPECT_EQ(store->ZoneJournal(N("a.test."))->size(), 1u);
  // Folding again with nothing new changes nothing.
  ASSERT_TRUE(store->FoldRRsets(N("a.test."), rrsets, 1).ok());
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")), expect);
  EXPECT_EQ(store->FoldRRsets(N("nope."), {}, 1).code(), Code::kNotFound);
}

// The statement cache: each SQL text is prepared once per connection, however often it runs,
// transaction control included.
TEST_F(StoreTest, ConnectionPreparesEachStatementOnce) {
  fs::create_directories(dir_);
  auto conn = Connection::Open(dir_ + "/cache.db", /*read_only=*/false);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  Connection& c = **conn;
  ASSERT_TRUE(c.Exec("CREATE TABLE t(x INTEGER)").ok());
  static constexpr char kInsert[] = "INSERT INTO t(x) VALUES (?1)";
  auto prepared = [&] {
    int n = 0;
    for (sqlite3_stmt* st = sqlite3_next_stmt(c.handle(), nullptr); st != nullptr; st = sqlite3_next_stmt(c.handle(), st)) ++n;
    return n;
  };
  for (int i = 0; i < 50; ++i) {
    auto tx = Transaction::Begin(c, /*write=*/true);
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    auto s = c.Prepare(kInsert);
    ASSERT_TRUE(s.ok());
    s->Int(1, i);
    ASSERT_TRUE(s->Run().ok());
    if (i % 2 == 0) {
      ASSERT_TRUE(tx->Commit().ok());
    }  // odd ones roll back
  }
  EXPECT_EQ(prepared(), 4);  // BEGIN IMMEDIATE, INSERT, COMMIT, ROLLBACK
  auto count = c.Prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(count.ok());
  ASSERT_TRUE(*count->Step());
  EXPECT_EQ(count->ColInt(0), 25);
}

// A database written by a berthd before schema version 4 (journal records one row each).
TEST_F(StoreTest, MigratesAVersion3Journal) {
  sqlite3* db = OpenRaw();
  const char* v3 = R"(
    CREATE TABLE schema_version(version INTEGER NOT NULL);
    INSERT INTO schema_version VALUES (1), (2), (3);
    CREATE TABLE zones(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
      file TEXT, serial INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
    CREATE TABLE records(id INTEGER PRIMARY KEY, zone_id INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
      name TEXT NOT NULL, owner_wire BLOB NOT NULL, type INTEGER NOT NULL, class INTEGER NOT NULL DEFAULT 1,
      ttl INTEGER NOT NULL, rdata BLOB NOT NULL, UNIQUE (zone_id, name, type, class, rdata));
    CREATE TABLE zone_changes(id INTEGER PRIMARY KEY, zone_id INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
      old_serial INTEGER NOT NULL, new_serial INTEGER NOT NULL, changed_at INTEGER NOT NULL);
    CREATE INDEX zone_changes_zone ON zone_changes(zone_id, id);
    CREATE TABLE zone_change_records(id INTEGER PRIMARY KEY,
      change_id INTEGER NOT NULL REFERENCES zone_changes(id) ON DELETE CASCADE,
      op INTEGER NOT NULL, owner_wire BLOB NOT NULL, type INTEGER NOT NULL, class INTEGER NOT NULL,
      ttl INTEGER NOT NULL, rdata BLOB NOT NULL);
    CREATE INDEX zone_change_records_change ON zone_change_records(change_id);
    CREATE TABLE credentials(kind TEXT NOT NULL, name TEXT NOT NULL, secret TEXT NOT NULL,
      algorithm TEXT NOT NULL DEFAULT '', scope TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (kind, name));
    INSERT INTO zones VALUES (1, 'a.test.', 'store', NULL, 2, 0, 0);
    INSERT INTO records VALUES (1, 1, 'y.a.test.', x'01790161047465737400', 1, 1, 300, x'c0000202');
    INSERT INTO zone_changes VALUES (1, 1, 1, 2, 0);
    INSERT INTO zone_change_records VALUES (1, 1, 0, x'01780161047465737400', 1, 1, 300, x'c0000201');
    INSERT INTO zone_change_records VALUES (2, 1, 1, x'01790161047465737400', 1, 1, 300, x'c0000202');
  )";
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, v3, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_close(db);
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")), std::vector<Record>{A("y.a.test.", 2)});
  EXPECT_EQ(Unfolded(store->path()), 0);  // what version 3 journaled was already in records
  auto journal = store->ZoneJournal(N("a.test."));
  ASSERT_TRUE(journal.ok()) << journal.status().ToString();
  ASSERT_EQ(journal->size(), 1u);
  EXPECT_EQ((*journal)[0].removed, std::vector<Record>{A("x.a.test.", 1)});
  EXPECT_EQ((*journal)[0].added, std::vector<Record>{A("y.a.test.", 2)});
  // The store carries on from there.
  ASSERT_TRUE(store->ApplyChange(N("a.test."), {A("y.a.test.", 2)}, {A("z.a.test.", 3)}, 3).ok());
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")), std::vector<Record>{A("z.a.test.", 3)});
}

// A database written by a berthd of schema version 4: one journal row per change, numbered by a
// rowid that all zones share, some of them folded.
TEST_F(StoreTest, MigratesAVersion4Journal) {
  sqlite3* db = OpenRaw();
  const char* v4 = R"(
    CREATE TABLE schema_version(version INTEGER NOT NULL);
    INSERT INTO schema_version VALUES (1), (2), (3), (4);
    CREATE TABLE zones(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
      file TEXT, serial INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
      applied_change_id INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE records(id INTEGER PRIMARY KEY, zone_id INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
      name TEXT NOT NULL, owner_wire BLOB NOT NULL, type INTEGER NOT NULL, class INTEGER NOT NULL DEFAULT 1,
      ttl INTEGER NOT NULL, rdata BLOB NOT NULL, UNIQUE (zone_id, name, type, class, rdata));
    CREATE TABLE zone_changes(id INTEGER PRIMARY KEY, zone_id INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
      old_serial INTEGER NOT NULL, new_serial INTEGER NOT NULL, changed_at INTEGER NOT NULL, diff BLOB);
    CREATE INDEX zone_changes_zone ON zone_changes(zone_id, id);
    CREATE TABLE credentials(kind TEXT NOT NULL, name TEXT NOT NULL, secret TEXT NOT NULL,
      algorithm TEXT NOT NULL DEFAULT '', scope TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (kind, name));
    -- a.test.: x moved 1 -> 2 (change 1, folded), 2 -> 3 (change 3, folded), 3 -> 4 (change 4, not yet).
    -- b.test.: y came (change 2, not yet).
    INSERT INTO zones VALUES (1, 'a.test.', 'store', NULL, 4, 0, 0, 3), (2, 'b.test.', 'store', NULL, 2, 0, 0, 0);
    INSERT INTO records VALUES (1, 1, 'x.a.test.', x'01780161047465737400', 1, 1, 300, x'c0000203');
  )";
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, v4, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  struct Row { int id, zone; uint32_t old_serial; std::vector<Record> removed, added; };
  std::vector<Row> rows = {{1, 1, 1, {A("x.a.test.", 1)}, {A("x.a.test.", 2)}},
                           {2, 2, 1, {}, {A("y.b.test.", 1)}},
                           {3, 1, 2, {A("x.a.test.", 2)}, {A("x.a.test.", 3)}},
                           {4, 1, 3, {A("x.a.test.", 3)}, {A("x.a.test.", 4)}}};
  for (const Row& r : rows) {
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO zone_changes VALUES (?1, ?2, ?3, ?4, 0, ?5)", -1, &st, nullptr), SQLITE_OK);
    std::string diff = EncodeChange(r.removed, r.added);
    sqlite3_bind_int(st, 1, r.id);
    sqlite3_bind_int(st, 2, r.zone);
    sqlite3_bind_int(st, 3, static_cast<int>(r.old_serial));
    sqlite3_bind_int(st, 4, static_cast<int>(r.old_serial + 1));
    sqlite3_bind_blob(st, 5, diff.data(), static_cast<int>(diff.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);

  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Ints(store->path(), "SELECT max(version) FROM schema_version"), std::vector<int64_t>{Store::kSchemaVersion});
  // Each zone's changes are numbered from 1; a.test.'s two folded ones stay folded.
  EXPECT_EQ(Ints(store->path(), "SELECT id FROM zone_changes ORDER BY zone_id, id"), (std::vector<int64_t>{1, 2, 3, 1}));
  EXPECT_EQ(Ints(store->path(), "SELECT applied_change_id FROM zones ORDER BY id"), (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(Unfolded(store->path()), 2);
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")), std::vector<Record>{A("x.a.test.", 4)});
  EXPECT_EQ(*store->ZoneRecords(N("b.test.")), std::vector<Record>{A("y.b.test.", 1)});
  auto journal = store->ZoneJournal(N("a.test."));
  ASSERT_TRUE(journal.ok()) << journal.status().ToString();
  ASSERT_EQ(journal->size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*journal)[i].old_serial, i + 1);
    EXPECT_EQ((*journal)[i].removed, std::vector<Record>{A("x.a.test.", static_cast<uint8_t>(i + 1))});
    EXPECT_EQ((*journal)[i].added, std::vector<Record>{A("x.a.test.", static_cast<uint8_t>(i + 2))});
  }
  // The store carries on from there.
  ASSERT_TRUE(store->ApplyChange(N("a.test."), {A("x.a.test.", 4)}, {A("x.a.test.", 5)}, 5).ok());
  EXPECT_EQ(Ints(store->path(), "SELECT id FROM zone_changes WHERE zone_id = 1 ORDER BY id"), (std::vector<int64_t>{1, 2, 3, 4}));
  ASSERT_TRUE(store->Checkpoint(1, 2).ok());
  EXPECT_EQ(Unfolded(store->path()), 0);
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")), std::vector<Record>{A("x.a.test.", 5)});
  EXPECT_EQ(store->ZoneJournal(N("a.test."))->size(), 2u);
  EXPECT_EQ(store->ZoneJournal(N("b.test."))->size(), 1u);
}

TEST_F(StoreTest, ReplaceZoneCreatesThenJournalsTheDiff) {
  auto store = OpenStore();
  ASSERT_TRUE(store->ReplaceZone(N("a.test."), ZoneSource::kFile,
                                 {Soa("a.test.", 1), A("x.a.test.", 1), A("x.a.test.", 1),
                                  A("y.a.test.", 2)},
                                 "/z1").ok());
  EXPECT_EQ(store->ZoneRecords(N("a.test."))->size(), 3u);  // duplicate merged
  EXPECT_TRUE(store->ZoneJournal(N("a.test."))->empty());   // creation is not a change

  std::vector<Record> next = {Soa("a.test.", 2), A("x.a.test.", 1, 60), A("z.a.test.", 3)};
  ASSERT_TRUE(store->ReplaceZone(N("a.test."), ZoneSource::kStore, next).ok());
  auto recs = store->ZoneRecords(N("a.test."));
  std::sort(recs->begin(), recs->end(), [](const Record& a, const Record& b) {
    return std::tie(a.name, a.type, a.rdata) < std::tie(b.name, b.type, b.rdata);
  });
  EXPECT_EQ(*recs, (std::vector<Record>{Soa("a.test.", 2), A("x.a.test.", 1, 60),
                                        A("z.a.test.", 3)}));
  auto info = store->GetZone(N("a.test."));
  EXPECT_EQ(info->serial, 2u);
  EXPECT_EQ(info->source, ZoneSource::kStore);
  EXPECT_EQ(info->file, "");
  auto journal = store->ZoneJournal(N("a.test."));
  ASSERT_EQ(journal->size(), 1u);
  const JournalEntry& e = (*journal)[0];
  EXPECT_EQ(e.old_serial, 1u);
  EXPECT_EQ(e.new_serial, 2u);
  // Removed: old SOA, x (TTL changed), y. Added: new SOA, x with TTL 60, z.
  EXPECT_EQ(e.removed.size(), 3u);
  EXPECT_EQ(e.added.size(), 3u);

  // Same contents again: no journal entry.
  ASSERT_TRUE(store->ReplaceZone(N("a.test."), ZoneSource::kStore, next).ok());
  EXPECT_EQ(store->ZoneJournal(N("a.test."))->size(), 1u);
}

TEST_F(StoreTest, ReplaceZoneWithUnchangedContentsSkipsTheDiffUntilAChange) {
  auto store = OpenStore();
  const std::vector<Record> file = {Soa("a.test.", 1), A("x.a.test.", 1)};
  ASSERT_TRUE(store->ReplaceZone(N("a.test."), ZoneSource::kFile, file, "/z").ok());
  // A record removed behind the store's back stays removed by a replace with the same
  // contents: proof that the replace compared digests and read no records.
  sqlite3* db = OpenRaw();
  ASSERT_EQ(sqlite3_exec(db, "DELETE FROM records WHERE type = 1", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  ASSERT_TRUE(store->ReplaceZone(N("a.test."), ZoneSource::kFile, file, "/z").ok());
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")), (std::vector<Record>{Soa("a.test.", 1)}));
  // Another file name is another content: a full replace, which restores the record.
  ASSERT_TRUE(store->ReplaceZone(N("a.test."), ZoneSource::kFile, file, "/z2").ok());
  EXPECT_EQ(store->GetZone(N("a.test."))->file, "/z2");
  EXPECT_EQ(store->ZoneRecords(N("a.test."))->size(), 2u);

  // A change since the last replace, journaled or folded, makes the next replace diff again.
  ASSERT_TRUE(store->ApplyChange(N("a.test."), {}, {A("y.a.test.", 2)}, 1).ok());
  ASSERT_TRUE(store->ReplaceZone(N("a.test."), ZoneSource::kFile, file, "/z2").ok());
  EXPECT_EQ(store->ZoneRecords(N("a.test.")).value(), file);
  ASSERT_TRUE(store->ApplyChange(N("a.test."), {}, {A("y.a.test.", 3)}, 1).ok());
  ASSERT_TRUE(store->Checkpoint(1, 10).ok());
  EXPECT_EQ(Unfolded(store->path()), 0);
  ASSERT_TRUE(store->ReplaceZone(N("a.test."), ZoneSource::kFile, file, "/z2").ok());
  EXPECT_EQ(store->ZoneRecords(N("a.test.")).value(), file);
  // And a change undone by hand is still a change: the replace after it diffs (finding nothing).
  ASSERT_TRUE(store->ApplyChange(N("a.test."), {}, {A("y.a.test.", 4)}, 1).ok());
  ASSERT_TRUE(store->ApplyChange(N("a.test."), {A("y.a.test.", 4)}, {}, 1).ok());
  const size_t journal = store->ZoneJournal(N("a.test."))->size();
  ASSERT_TRUE(store->ReplaceZone(N("a.test."), ZoneSource::kFile, file, "/z2").ok());
  EXPECT_EQ(store->ZoneRecords(N("a.test.")).value(), file);
  EXPECT_EQ(store->ZoneJournal(N("a.test."))->size(), journal);
}

TEST_F(StoreTest, ReplaceZoneWithBadRecordChangesNothing) {
  auto store = OpenStore();
  std::vector<Record> initial = {A("x.a.test.", 1)};
  ASSERT_TRUE(store->ReplaceZone(N("a.test."), ZoneSource::kStore, initial).ok());
  Status s = store->ReplaceZone(N("a.test."), ZoneSource::kStore,
                                {A("y.a.test.", 1), A("x.elsewhere.", 1)});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")), initial);
}

TEST_F(StoreTest, DeleteCascadesToRecordsAndJournal) {
  auto store = OpenStore();
  ASSERT_TRUE(store->CreateZone(N("a.test."), ZoneSource::kStore, {A("x.a.test.", 1)}).ok());
  ASSERT_TRUE(store->ApplyChange(N("a.test."), {}, {A("y.a.test.", 1)}, 2).ok());
  ASSERT_TRUE(store->DeleteZone(N("A.test.")).ok());
  EXPECT_EQ(store->GetZone(N("a.test.")).status().code(), Code::kNotFound);
  ASSERT_TRUE(store->CreateZone(N("a.test."), ZoneSource::kStore, {}).ok());
  EXPECT_TRUE(store->ZoneRecords(N("a.test."))->empty());
  EXPECT_TRUE(store->ZoneJournal(N("a.test."))->empty());
}

TEST_F(StoreTest, ReadersSeeConsistentSnapshotsWhileWriting) {
  auto store = OpenStore();
  std::vector<Record> initial;
  for (int i = 0; i < 50; ++i) initial.push_back(A("h.a.test.", static_cast<uint8_t>(i)));
  ASSERT_TRUE(store->CreateZone(N("a.test."), ZoneSource::kStore, initial).ok());
  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        auto recs = store->ZoneRecords(N("a.test."));
        // Every change swaps one record for another: a torn read would show 49 or 51.
        if (!recs.ok() || recs->size() != 50) bad.fetch_add(1);
        reads.fetch_add(1);
      }
    });
  }
  // Slot j always holds an octet congruent to j mod 50, so the 50 records stay distinct.
  std::vector<uint8_t> current(50);
  for (int j = 0; j < 50; ++j) current[j] = static_cast<uint8_t>(j);
  Status write_status;
  for (int i = 0; i < 200 && write_status.ok(); ++i) {
    uint8_t& slot = current[i % 50];
    uint8_t next = static_cast<uint8_t>(slot + 50 < 250 ? slot + 50 : slot - 200);
    write_status = store->ApplyChange(N("a.test."), {A("h.a.test.", slot)},
                                      {A("h.a.test.", next)}, i + 1).status();
    slot = next;
    // Fold now and then, so readers also meet a records table being brought up to date.
    if (write_status.ok() && i % 17 == 16) write_status = store->Checkpoint(10, 30);
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_TRUE(write_status.ok()) << write_status.ToString();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(store->GetZone(N("a.test."))->serial, 200u);
}

TEST_F(StoreTest, CorruptDatabaseGivesClearError) {
  fs::create_directories(dir_);
  std::ofstream(dir_ + "/berth.db") << std::string(8192, 'x');
  auto s = Store::Open(dir_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kIo);
  EXPECT_NE(s.status().message().find(dir_ + "/berth.db"), std::string::npos)
      << s.status().message();
  EXPECT_NE(s.status().message().find("not a database"), std::string::npos)
      << s.status().message();
}

TEST_F(StoreTest, UnusableStateDirGivesClearError) {
  std::string file = root_ + "/plain-file";
  std::ofstream(file) << "x";
  auto under_file = Store::Open(file + "/state");
  ASSERT_FALSE(under_file.ok());
  EXPECT_EQ(under_file.status().code(), Code::kIo);
  EXPECT_NE(under_file.status().message().find(file + "/state"), std::string::npos)
      << under_file.status().message();
  auto is_file = Store::Open(file);
  ASSERT_FALSE(is_file.ok());
  EXPECT_NE(is_file.status().message().find("not a directory"), std::string::npos);
  // A directory where the database file should be.
  fs::create_directories(dir_ + "/berth.db");
  auto db_is_dir = Store::Open(dir_);
  ASSERT_FALSE(db_is_dir.ok());
  EXPECT_NE(db_is_dir.status().message().find(dir_ + "/berth.db"), std::string::npos)
      << db_is_dir.status().message();
}

TEST_F(StoreTest, RefusesNewerSchema) {
  { ASSERT_NE(OpenStore(), nullptr); }
  sqlite3* db = OpenRaw();
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_version VALUES (99)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = Store::Open(dir_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("99"), std::string::npos);
}

TEST_F(StoreTest, HundredThousandRecords) {
  auto store = OpenStore();
  std::vector<Record> recs;
  recs.reserve(100000);
  for (int i = 0; i < 100000; ++i) {
    std::string owner = "h" + std::to_string(i) + ".big.test.";
    recs.push_back(A(owner.c_str(), static_cast<uint8_t>(i)));
  }
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(store->ReplaceZone(N("big.test."), ZoneSource::kStore, recs).ok());
  auto inserted = std::chrono::steady_clock::now();
  auto back = store->ZoneRecords(N("big.test."));
  auto read = std::chrono::steady_clock::now();
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->size(), 100000u);
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  std::printf("100k records: insert %lld ms, read %lld ms\n",
              static_cast<long long>(ms(inserted - start)),
              static_cast<long long>(ms(read - inserted)));
  EXPECT_LT(ms(inserted - start), 30000);
}

}  // namespace
}  // namespace berth::store
