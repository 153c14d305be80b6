#include "store/store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "dns/wire/types.h"

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

TEST_F(StoreTest, ApplyChangeJournalsWhatWasStored) {
  auto store = OpenStore();
  ASSERT_TRUE(store->CreateZone(N("a.test."), ZoneSource::kStore,
                                {Soa("a.test.", 1), A("Host.a.test.", 1, 600)}).ok());
  // Removal matches regardless of TTL and owner case; the journal keeps the stored ones.
  auto serial = store->ApplyChange(N("a.test."), {A("host.A.test.", 1, 5)}, {A("h2.a.test.", 9)}, 2);
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
  // The removal and first add succeed inside the transaction, then the duplicate add fails.
  auto r = store->ApplyChange(N("a.test."), {A("x.a.test.", 1)},
                              {A("z.a.test.", 3), A("y.a.test.", 2)}, 2);
  EXPECT_EQ(r.status().code(), Code::kAlreadyExists);
  EXPECT_NE(r.status().message().find("y.a.test."), std::string::npos);
  // A removal of an absent record fails after an add succeeded.
  auto r2 = store->ApplyChange(N("a.test."), {A("y.a.test.", 2), A("gone.a.test.", 4)}, {}, 3);
  EXPECT_EQ(r2.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")), initial);
  EXPECT_EQ(store->GetZone(N("a.test."))->serial, 1u);
  EXPECT_TRUE(store->ZoneJournal(N("a.test."))->empty());
}

TEST_F(StoreTest, BatchIsolatesFailedChanges) {
  auto store = OpenStore();
  ASSERT_TRUE(store->CreateZone(N("a.test."), ZoneSource::kStore, {A("x.a.test.", 1)}).ok());
  std::vector<Change> batch = {
      {N("a.test."), {}, {A("b1.a.test.", 1)}, 2},
      {N("a.test."), {}, {A("b2.a.test.", 1), A("x.a.test.", 1)}, 3},  // duplicate: fails
      {N("missing."), {}, {}, 4},
      {N("a.test."), {A("b1.a.test.", 1)}, {A("b3.a.test.", 1)}, 5},
  };
  auto results = store->ApplyChanges(batch);
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  ASSERT_EQ(results->size(), 4u);
  EXPECT_EQ(*(*results)[0], 2u);
  EXPECT_EQ((*results)[1].status().code(), Code::kAlreadyExists);
  EXPECT_EQ((*results)[2].status().code(), Code::kNotFound);
  EXPECT_EQ(*(*results)[3], 5u);
  EXPECT_EQ(*store->ZoneRecords(N("a.test.")),
            (std::vector<Record>{A("x.a.test.", 1), A("b3.a.test.", 1)}));
  EXPECT_EQ(store->GetZone(N("a.test."))->serial, 5u);
  EXPECT_EQ(store->ZoneJournal(N("a.test."))->size(), 2u);
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
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/berth.db").c_str(), &db), SQLITE_OK);
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
