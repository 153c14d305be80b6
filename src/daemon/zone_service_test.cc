#include "daemon/zone_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace berth::daemon {
namespace {

namespace fs = std::filesystem;

dns::Name N(std::string_view t) { return *dns::Name::FromText(t); }

std::string ZoneText(int serial, const std::string& extra = "") {
  return "$ORIGIN example.\n$TTL 300\n@ SOA ns hostmaster " + std::to_string(serial) +
         " 7200 900 1209600 60\n@ NS ns\nns A 192.0.2.1\n" + extra;
}

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
    service_ = std::make_unique<ZoneService>(*store_, *table_);
  }
  void Write(const std::string& text) { std::ofstream(file_) << text; }
  uint32_t ServedSerial() {
    auto z = table_->Get()->Get(N("example."));
    return z ? z->serial() : 0;
  }

  fs::path dir_;
  std::string file_;
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

}  // namespace
}  // namespace berth::daemon
