#include "daemon/zone_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <condition_variable>
#include <set>
#include <thread>

#include <sqlite3.h>

#include "dns/wire/types.h"

namespace berth::daemon {
namespace {

namespace fs = std::filesystem;

dns::Name N(std::string_view t) { return *dns::Name::FromText(t); }

std::string ZoneText(int serial, const std::string& extra = "") {
  return "$ORIGIN example.\n$TTL 300\n@ SOA ns hostmaster " + std::to_string(serial) +
         " 7200 900 1209600 60\n@ NS ns\nns A 192.0.2.1\n" + extra;
}

// Stands in for the journal's fsync: each sync waits until the test opens the gate.
class SyncGate {
 public:
  Status Sync() {
    std::unique_lock<std::mutex> lock(mu_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    return Status::Ok();
  }
  void WaitEntered(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return entered_ >= n; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int entered_ = 0;
  bool open_ = false;
};

class ZoneServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("berth-zs-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    file_ = (dir_ / "example.zone").string();
    Open();
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  void Open() {
    service_.reset();
    store_.reset();
    table_ = std::make_unique<dns::ZoneTable>();
    auto s = store::Store::Open((dir_ / "state").string());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    service_ = std::make_unique<ZoneService>(*store_, *table_, fold_every_, sync_);
  }
  void Write(const std::string& text) { std::ofstream(file_) << text; }
  // A service whose journal syncs wait on the returned gate, serving example. at serial 9.
  std::shared_ptr<SyncGate> OpenGated() {
    auto gate = std::make_shared<SyncGate>();
    sync_ = [gate] { return gate->Sync(); };
    Open();
    EXPECT_TRUE(service_->Import(N("example."), ZoneText(9)).ok());
    return gate;
  }
  uint32_t ServedSerial() {
    auto z = table_->Get()->Get(N("example."));
    return z ? z->serial() : 0;
  }

  fs::path dir_;
  std::string file_;
  size_t fold_every_ = ZoneService::kFoldEvery;
  SyncFn sync_;  // empty: the store's own journal sync
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<dns::ZoneTable> table_;
  std::unique_ptr<ZoneService> service_;
};

TEST_F(ZoneServiceTest, LoadsFilesAndKeepsServingOldVersionWhenReloadFails) {
  Write(ZoneText(1));
  std::vector<FileZone> zones = {{N("example."), file_}};
  ASSERT_TRUE(service_->LoadAll(zones).ok());
  EXPECT_EQ(ServedSerial(), 1u);
  EXPECT_TRUE(service_->Ready());

  Write(ZoneText(2, "bad A 10.0.0.300\n"));
  Status s = service_->Reload(zones);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("example.zone:6"), std::string::npos) << s.message();
  EXPECT_EQ(ServedSerial(), 1u);  // the previous version keeps serving
  EXPECT_FALSE(service_->states()[0].last_error.empty());

  Write(ZoneText(3, "www A 192.0.2.80\n"));
  ASSERT_TRUE(service_->Reload(zones).ok());
  EXPECT_EQ(ServedSerial(), 3u);
  EXPECT_TRUE(service_->states()[0].last_error.empty());
}

TEST_F(ZoneServiceTest, StoredCopyServesWhenTheFileBreaksAcrossRestarts) {
  Write(ZoneText(5));
  std::vector<FileZone> zones = {{N("example."), file_}};
  ASSERT_TRUE(service_->LoadAll(zones).ok());
  Write("garbage (\n");
  Open();
  EXPECT_FALSE(service_->LoadAll(zones).ok());
  EXPECT_EQ(ServedSerial(), 5u);
  EXPECT_TRUE(service_->Ready());
}

TEST_F(ZoneServiceTest, ARestartAnnouncesAFileZoneOnlyWhenItsSerialMoved) {
  Write(ZoneText(5));
  std::vector<FileZone> zones = {{N("example."), file_}};
  ASSERT_TRUE(service_->LoadAll(zones).ok());
  std::vector<uint32_t> announced;
  auto restart = [&] {
    Open();
    service_->SetChangeListener([&](const dns::Name&, uint32_t serial) { announced.push_back(serial); });
    return service_->LoadAll(zones);
  };
  ASSERT_TRUE(restart().ok());  // same file: no NOTIFY to secondaries
  EXPECT_EQ(ServedSerial(), 5u);
  EXPECT_TRUE(announced.empty());
  Write(ZoneText(6, "www A 192.0.2.80\n"));
  ASSERT_TRUE(restart().ok());
  EXPECT_EQ(ServedSerial(), 6u);
  EXPECT_EQ(announced, std::vector<uint32_t>{6});
  EXPECT_EQ(service_->Records(N("example."))->size(), 4u);
  EXPECT_EQ(service_->states()[0].records, 4u);
}

TEST_F(ZoneServiceTest, ImportsStoreZonesThatSurviveRestart) {
  ASSERT_TRUE(service_->Import(N("example."), ZoneText(9, "www A 192.0.2.80\n")).ok());
  EXPECT_EQ(ServedSerial(), 9u);
  Open();
  ASSERT_TRUE(service_->LoadAll({}).ok());
  EXPECT_EQ(ServedSerial(), 9u);
  auto records = service_->Records(N("example."));
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(records->size(), 4u);
  // A broken import changes nothing.
  EXPECT_FALSE(service_->Import(N("example."), ZoneText(10, "ns CNAME x\n")).ok());
  EXPECT_EQ(ServedSerial(), 9u);
  // $INCLUDE is refused for API text.
  EXPECT_FALSE(service_->Import(N("example."), ZoneText(11, "$INCLUDE /etc/passwd\n")).ok());
}

TEST_F(ZoneServiceTest, FileZonesRefuseImportAndLeaveWhenUnconfigured) {
  Write(ZoneText(1));
  ASSERT_TRUE(service_->LoadAll({{N("example."), file_}}).ok());
  Status s = service_->Import(N("example."), ZoneText(2));
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  ASSERT_TRUE(service_->Reload({}).ok());
  EXPECT_EQ(ServedSerial(), 0u);
  EXPECT_TRUE(service_->states().empty());
  Open();
  ASSERT_TRUE(service_->LoadAll({}).ok());
  EXPECT_EQ(ServedSerial(), 0u);
}

dns::Record A(std::string_view owner, uint8_t last, uint32_t ttl = 60) {
  return dns::Record{N(owner), dns::type::kA, dns::cls::kIN, ttl, std::string("\xc0\x00\x02", 3) + char(last)};
}

TEST_F(ZoneServiceTest, EditBumpsSerialPublishesAndJournals) {
  ASSERT_TRUE(service_->Import(N("example."), ZoneText(9)).ok());
  std::vector<std::pair<std::string, uint32_t>> notified;
  service_->SetChangeListener([&](const dns::Name& z, uint32_t serial) { notified.emplace_back(z.ToText(), serial); });
  auto out = service_->Edit(N("example."), [](dns::ZoneContent& c) {
    c.Add(A("www.example.", 80));
    return Status::Ok();
  });
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->changed);
  EXPECT_EQ(out->serial, 10u);
  EXPECT_EQ(ServedSerial(), 10u);  // visible as soon as Edit returns
  auto zone = table_->Get()->Get(N("example."));
  EXPECT_NE(zone->Find(N("www.example.").wire()), nullptr);
  ASSERT_EQ(notified.size(), 1u);
  EXPECT_EQ(notified[0].second, 10u);
  auto journal = service_->Journal(N("example."));
  ASSERT_TRUE(journal.ok());
  ASSERT_FALSE(journal->empty());
  EXPECT_EQ(journal->back().old_serial, 9u);
  EXPECT_EQ(journal->back().new_serial, 10u);
  EXPECT_EQ(journal->back().added.size(), 2u);  // the A record and the new SOA
  // A no-op edit keeps the serial and journals nothing.
  out = service_->Edit(N("example."), [](dns::ZoneContent& c) {
    c.Add(A("www.example.", 80));
    return Status::Ok();
  });
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->changed);
  EXPECT_EQ(out->serial, 10u);
  // The change survives a restart.
  Open();
  ASSERT_TRUE(service_->LoadAll({}).ok());
  EXPECT_EQ(ServedSerial(), 10u);
  EXPECT_EQ(service_->Records(N("example."))->size(), 4u);
}

TEST_F(ZoneServiceTest, FailedOrInvalidEditsChangeNothing) {
  ASSERT_TRUE(service_->Import(N("example."), ZoneText(9)).ok());
  auto out = service_->Edit(N("example."), [](dns::ZoneContent& c) {
    c.Add(A("www.example.", 80));
    return InvalidArgument("caller says no");
  });
  EXPECT_EQ(out.status().message(), "caller says no");
  out = service_->Edit(N("example."), [](dns::ZoneContent& c) {
    c.Add(A("ns.example.", 80));
    c.Add(dns::Record{N("ns.example."), dns::type::kCNAME, dns::cls::kIN, 60, std::string(N("x.example.").wire())});
    return Status::Ok();
  });
  EXPECT_EQ(out.status().code(), Code::kInvalidArgument);
  out = service_->Edit(N("nope."), [](dns::ZoneContent&) { return Status::Ok(); });
  EXPECT_EQ(out.status().code(), Code::kNotFound);
  EXPECT_EQ(ServedSerial(), 9u);
  EXPECT_EQ(service_->Records(N("example."))->size(), 3u);
  EXPECT_TRUE(service_->Journal(N("example."))->empty());
}

TEST_F(ZoneServiceTest, ConcurrentEditsAllLandInOrder) {
  ASSERT_TRUE(service_->Import(N("example."), ZoneText(1)).ok());
  constexpr int kThreads = 8, kEach = 25;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string owner = "h" + std::to_string(t) + "-" + std::to_string(i) + ".example.";
        auto out = service_->Edit(N("example."), [&](dns::ZoneContent& c) {
          c.Add(A(owner, static_cast<uint8_t>(i)));
          return Status::Ok();
        });
        if (out.ok() && out->changed) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kEach);
  EXPECT_EQ(ServedSerial(), 1u + kThreads * kEach);  // one serial per change
  EXPECT_EQ(service_->Journal(N("example."))->size(), static_cast<size_t>(kThreads * kEach));
  Open();
  ASSERT_TRUE(service_->LoadAll({}).ok());
  EXPECT_EQ(service_->Records(N("example."))->size(), 3u + kThreads * kEach);
}

// While one batch's fsync runs, the next is journaled; neither is served nor answered before
// the fsync returns, and answers keep their order (an edit that only read the first change is
// not answered before it).
TEST_F(ZoneServiceTest, AnswersWaitForTheFsyncOfEveryChangeBeforeThem) {
  auto gate = OpenGated();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> answered;
  auto answer = [&](std::string what) {
    std::lock_guard<std::mutex> lock(mu);
    answered.push_back(std::move(what));
    cv.notify_all();
  };
  service_->EditAsync(
      N("example."),
      [](dns::ZoneContent& c) {
        c.Add(A("www.example.", 80));
        return Status::Ok();
      },
      [&](Result<EditOutcome> r) { answer(r.ok() && r->changed ? "add" : "add: " + r.status().ToString()); });
  gate->WaitEntered(1);
  service_->EditAsync(
      N("example."),
      [](dns::ZoneContent& c) {
        return c.HasRRset(N("www.example."), dns::type::kA) ? Status::Ok() : NotFound("www.example. not there");
      },
      [&](Result<EditOutcome> r) { answer(r.ok() && !r->changed ? "read" : "read: " + r.status().ToString()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_TRUE(answered.empty());
  }
  EXPECT_EQ(ServedSerial(), 9u);  // journaled, not yet durable: not served
  gate->Open();
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return answered.size() == 2; }));
  EXPECT_EQ(answered, (std::vector<std::string>{"add", "read"}));
  EXPECT_EQ(ServedSerial(), 10u);
}

// After a failed fsync nothing unsynced is served or acknowledged, every later change is
// refused, and the service reports itself not ready; a restart serves what the store holds.
TEST_F(ZoneServiceTest, AFailedFsyncPublishesNothingAndRefusesLaterChanges) {
  sync_ = [] { return Status(Code::kIo, "injected fsync failure"); };
  Open();
  ASSERT_TRUE(service_->Import(N("example."), ZoneText(9)).ok());
  EXPECT_TRUE(service_->Ready());
  auto add = [](dns::ZoneContent& c) {
    c.Add(A("www.example.", 80));
    return Status::Ok();
  };
  auto out = service_->Edit(N("example."), add);
  EXPECT_EQ(out.status().code(), Code::kIo);
  EXPECT_EQ(ServedSerial(), 9u);
  EXPECT_EQ(service_->Records(N("example."))->size(), 3u);
  EXPECT_FALSE(service_->Ready());
  out = service_->Edit(N("example."), [](dns::ZoneContent&) { return Status::Ok(); });
  EXPECT_EQ(out.status().code(), Code::kIo);
  EXPECT_NE(out.status().message().find("restart"), std::string::npos) << out.status().message();
  sync_ = {};
  Open();
  ASSERT_TRUE(service_->LoadAll({}).ok());
  EXPECT_TRUE(service_->Ready());
  ASSERT_TRUE(service_->Edit(N("example."), add).ok());
}

// A zone deleted or replaced while an edit of it waits for its fsync stays as the delete or
// import left it: the older snapshot is not published over it.
TEST_F(ZoneServiceTest, AZoneReplacedWhileItsChangeSyncsIsNotOverwritten) {
  for (bool remove : {true, false}) {
    SCOPED_TRACE(remove ? "delete" : "import");
    auto gate = OpenGated();
    std::promise<Result<EditOutcome>> edited;
    service_->EditAsync(
        N("example."),
        [](dns::ZoneContent& c) {
          c.Add(A("www.example.", 80));
          return Status::Ok();
        },
        [&](Result<EditOutcome> r) { edited.set_value(std::move(r)); });
    gate->WaitEntered(1);
    if (remove) {
      ASSERT_TRUE(service_->Delete(N("example.")).ok());
    } else {
      ASSERT_TRUE(service_->Import(N("example."), ZoneText(20)).ok());
    }
    gate->Open();
    auto r = edited.get_future().get();
    EXPECT_TRUE(r.ok()) << r.status().ToString();  // it was journaled before the zone moved on
    EXPECT_EQ(ServedSerial(), remove ? 0u : 20u);
    if (!remove) {
      EXPECT_EQ(service_->Records(N("example."))->size(), 3u);
    }
    EXPECT_EQ(service_->states().size(), remove ? 0u : 1u);
    // The next edit starts from what is served.
    if (!remove) {
      auto out = service_->Edit(N("example."), [](dns::ZoneContent& c) {
        c.Add(A("next.example.", 1));
        return Status::Ok();
      });
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      EXPECT_EQ(out->serial, 21u);
      EXPECT_EQ(service_->Records(N("example."))->size(), 4u);
    }
    service_.reset();
    store_.reset();
    fs::remove_all(dir_ / "state");
  }
}

// An edit applied while the previous group syncs waits to be journaled with the next group;
// if the zone is replaced meanwhile, the edit is refused and never reaches the journal.
TEST_F(ZoneServiceTest, AnEditNotYetJournaledWhenItsZoneIsReplacedIsRefused) {
  auto gate = OpenGated();
  std::promise<Result<EditOutcome>> first, second;
  std::promise<void> second_applied;
  service_->EditAsync(
      N("example."),
      [](dns::ZoneContent& c) {
        c.Add(A("one.example.", 1));
        return Status::Ok();
      },
      [&](Result<EditOutcome> r) { first.set_value(std::move(r)); });
  gate->WaitEntered(1);  // the first group is journaled and syncing
  service_->EditAsync(
      N("example."),
      [&](dns::ZoneContent& c) {
        c.Add(A("two.example.", 2));
        second_applied.set_value();
        return Status::Ok();
      },
      [&](Result<EditOutcome> r) { second.set_value(std::move(r)); });
  second_applied.get_future().wait();
  ASSERT_TRUE(service_->Import(N("example."), ZoneText(20)).ok());
  gate->Open();
  auto r1 = first.get_future().get();
  EXPECT_TRUE(r1.ok()) << r1.status().ToString();
  auto r2 = second.get_future().get();
  EXPECT_EQ(r2.status().code(), Code::kUnavailable) << r2.status().ToString();
  EXPECT_EQ(ServedSerial(), 20u);
  EXPECT_EQ(service_->Records(N("example."))->size(), 3u);
  auto journal = service_->Journal(N("example."));
  ASSERT_TRUE(journal.ok());
  for (const auto& e : *journal)
    for (const auto& rec : e.added) EXPECT_NE(rec.name, N("two.example."));
}

// A group whose store write fails is answered with an error and nothing of it is served; the
// group before it (syncing meanwhile) is served as acknowledged.
TEST_F(ZoneServiceTest, AFailedStoreWriteServesNothingOfItsGroup) {
  auto gate = OpenGated();
  std::promise<Result<EditOutcome>> first, second;
  auto add = [](std::string owner) {
    return [owner](dns::ZoneContent& c) {
      c.Add(A(owner, 1));
      return Status::Ok();
    };
  };
  service_->EditAsync(N("example."), add("one.example."), [&](Result<EditOutcome> r) { first.set_value(std::move(r)); });
  gate->WaitEntered(1);  // the first group is journaled and syncing
  // Behind the service's back the zone leaves the store, so the next group's write fails.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(store_->path().c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA foreign_keys=ON; DELETE FROM zones", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  service_->EditAsync(N("example."), add("two.example."), [&](Result<EditOutcome> r) { second.set_value(std::move(r)); });
  gate->Open();
  auto r1 = first.get_future().get();
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->serial, 10u);
  auto r2 = second.get_future().get();
  EXPECT_FALSE(r2.ok());
  EXPECT_EQ(ServedSerial(), 10u);  // the first change is served; the second never is
  auto zone = table_->Get()->Get(N("example."));
  ASSERT_NE(zone, nullptr);
  EXPECT_NE(zone->Find(N("one.example.").wire()), nullptr);
  EXPECT_EQ(zone->Find(N("two.example.").wire()), nullptr);
}

TEST_F(ZoneServiceTest, DynamicChangesToAFileZoneOutliveReloadUntilTheFileIsNewer) {
  Write(ZoneText(5));
  std::vector<FileZone> zones = {{N("example."), file_}};
  ASSERT_TRUE(service_->LoadAll(zones).ok());
  ASSERT_TRUE(service_->Edit(N("example."), [](dns::ZoneContent& c) {
    c.Add(A("dyn.example.", 7));
    return Status::Ok();
  }).ok());
  EXPECT_EQ(ServedSerial(), 6u);
  ASSERT_TRUE(service_->Reload(zones).ok());
  EXPECT_EQ(ServedSerial(), 6u);
  Open();
  ASSERT_TRUE(service_->LoadAll(zones).ok());
  EXPECT_EQ(ServedSerial(), 6u);
  EXPECT_EQ(service_->Records(N("example."))->size(), 4u);
  Write(ZoneText(7));
  ASSERT_TRUE(service_->Reload(zones).ok());
  EXPECT_EQ(ServedSerial(), 7u);
  EXPECT_EQ(service_->Records(N("example."))->size(), 3u);
}

TEST_F(ZoneServiceTest, CreateAndDeleteStoreZones) {
  auto records = dns::ZoneContent(N("example."), {}).Records();
  EXPECT_FALSE(service_->Create(N("example."), records).ok());  // no SOA
  ASSERT_TRUE(service_->Import(N("example."), ZoneText(1)).ok());
  auto zone_records = *service_->Records(N("example."));
  EXPECT_EQ(service_->Create(N("example."), zone_records).code(), Code::kAlreadyExists);
  std::vector<dns::Record> other;
  for (auto r : zone_records) {
    auto rel = r.name.ReplaceSuffix(N("example."), N("other."));
    r.name = *rel;
    if (r.type == dns::type::kA || r.type == dns::type::kSOA) other.push_back(r);
  }
  ASSERT_TRUE(service_->Create(N("other."), other).ok());
  EXPECT_NE(table_->Get()->Get(N("other.")), nullptr);
  ASSERT_TRUE(service_->Delete(N("other.")).ok());
  EXPECT_EQ(table_->Get()->Get(N("other.")), nullptr);
  EXPECT_EQ(service_->Delete(N("other.")).code(), Code::kNotFound);
  Open();
  ASSERT_TRUE(service_->LoadAll({}).ok());
  EXPECT_EQ(table_->Get()->Get(N("other.")), nullptr);
}

}  // namespace
}  // namespace berth::daemon

namespace berth::daemon {
namespace {

// The records table itself, behind the store's back: (owner, type, ttl, rdata) per row, and
// how many journal entries it does not hold yet.
struct RawZone {
  std::multiset<std::tuple<std::string, int, int, std::string>> rows;
  int64_t unfolded = 0;
};
RawZone ReadRaw(const std::string& db_path) {
  RawZone out;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT name, type, ttl, rdata FROM records", -1, &st, nullptr), SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char* rdata = static_cast<const char*>(sqlite3_column_blob(st, 3));
    out.rows.emplace(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), sqlite3_column_int(st, 1),
                     sqlite3_column_int(st, 2), std::string(rdata ? rdata : "", sqlite3_column_bytes(st, 3)));
  }
  sqlite3_finalize(st);
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM zone_changes c JOIN zones z ON c.zone_id = z.id "
                                   "AND c.id > z.applied_change_id", -1, &st, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
  out.unfolded = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

TEST_F(ZoneServiceTest, JournalIsFoldedFromTheChangedRRsetsEveryFewChanges) {
  fold_every_ = 4;
  Open();
  ASSERT_TRUE(service_->Import(N("example."), ZoneText(1)).ok());
  // Hosts come, move, change TTL and go; every 4th change folds the journal.
  for (int i = 0; i < 22; ++i) {
    std::string owner = "h" + std::to_string(i % 3) + ".example.";
    auto out = service_->Edit(N("example."), [&](dns::ZoneContent& c) {
      c.RemoveRRset(N(owner), dns::type::kA);
      if (i % 5 != 4) c.Add(A(owner, static_cast<uint8_t>(i), 60 + i));
      return Status::Ok();
    });
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    // A fold runs after its batch is answered; a no-op edit is answered after that fold.
    ASSERT_TRUE(service_->Edit(N("example."), [](dns::ZoneContent&) { return Status::Ok(); }).ok());
    RawZone raw = ReadRaw(store_->path());
    EXPECT_EQ(raw.unfolded, (i + 1) % 4) << i;
    if (raw.unfolded != 0) continue;
    // Folded: the table holds exactly what is served.
    std::multiset<std::tuple<std::string, int, int, std::string>> served;
    auto records = service_->Records(N("example."));
    ASSERT_TRUE(records.ok());
    for (const auto& r : *records)
      served.emplace(r.name.Lowercased().ToText(), r.type, static_cast<int>(r.ttl), r.rdata);
    EXPECT_EQ(raw.rows, served) << i;
  }
  // The journal keeps serving IXFR history, and a restart serves the same zone.
  EXPECT_EQ(service_->Journal(N("example."))->size(), 22u);
  auto before = *service_->Records(N("example."));
  Open();
  ASSERT_TRUE(service_->LoadAll({}).ok());
  EXPECT_EQ(*service_->Records(N("example.")), before);
  EXPECT_EQ(ReadRaw(store_->path()).unfolded, 0);
}

}  // namespace
}  // namespace berth::daemon
