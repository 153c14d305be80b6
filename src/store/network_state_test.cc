#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "store/store.h"

namespace berth::store {
namespace {

namespace fs = std::filesystem;

class NetworkStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth-netstate-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto s = Store::Open(dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    auto s = Store::Open(dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }

  static StoredNetwork Net(const std::string& name, char id) {
    return {std::string(64, id), name, "br-" + std::string(12, id), R"({"name":")" + name + R"("})", 0};
  }
  static StoredEndpoint Ep(const std::string& name, const std::string& network, const std::string& ip) {
    StoredEndpoint e;
    e.name = name;
    e.netns = "/run/netns/" + name;
    e.owned = true;
    e.spec = "{}";
    e.attachments.push_back({network, "eth0", "veth-" + name, "02:42:0a:00:00:02", ip, "", {"web", "www"}});
    return e;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(NetworkStateTest, NetworksPersistAndNamesAreUnique) {
  ASSERT_TRUE(store_->CreateNetwork(Net("web", 'a')).ok());
  ASSERT_TRUE(store_->CreateNetwork(Net("db", 'b')).ok());
  EXPECT_EQ(store_->CreateNetwork(Net("web", 'c')).code(), Code::kAlreadyExists);
  Reopen();
  auto nets = store_->ListNetworks();
  ASSERT_TRUE(nets.ok());
  ASSERT_EQ(nets->size(), 2u);
  EXPECT_EQ((*nets)[0].name, "db");
  EXPECT_EQ((*nets)[1].bridge, "br-aaaaaaaaaaaa");
  EXPECT_GT((*nets)[1].created_at, 0);
  EXPECT_TRUE(store_->DeleteNetwork("db").ok());
  EXPECT_EQ(store_->DeleteNetwork("db").code(), Code::kNotFound);
}

TEST_F(NetworkStateTest, EndpointsRoundTripWithAttachmentsAndPorts) {
  ASSERT_TRUE(store_->CreateNetwork(Net("web", 'a')).ok());
  ASSERT_TRUE(store_->CreateNetwork(Net("db", 'b')).ok());
  StoredEndpoint e = Ep("c1", std::string(64, 'a'), "10.0.0.2");
  e.ports.push_back({"tcp", "", 8080, "10.0.0.2", 80});
  e.ports.push_back({"udp", "127.0.0.1", 5353, "10.0.0.2", 53});
  ASSERT_TRUE(store_->CreateEndpoint(e).ok());
  ASSERT_TRUE(store_->AddAttachment("c1", {std::string(64, 'b'), "eth1", "veth-c1b", "02:42:0a:01:00:02",
                                           "10.1.0.2", "fd00::2", {}}).ok());
  Reopen();
  auto eps = store_->ListEndpoints();
  ASSERT_TRUE(eps.ok()) << eps.status().ToString();
  ASSERT_EQ(eps->size(), 1u);
  const StoredEndpoint& got = (*eps)[0];
  EXPECT_EQ(got.netns, "/run/netns/c1");
  EXPECT_TRUE(got.owned);
  ASSERT_EQ(got.attachments.size(), 2u);
  EXPECT_EQ(got.attachments[0].aliases, (std::vector<std::string>{"web", "www"}));
  EXPECT_EQ(got.attachments[1].ipv6, "fd00::2");
  ASSERT_EQ(got.ports.size(), 2u);
  EXPECT_EQ(got.ports[0].host_port, 8080);
  EXPECT_EQ(got.ports[1].host_ip, "127.0.0.1");
  // A network with endpoints cannot go; after the endpoint is gone it can.
  EXPECT_EQ(store_->DeleteNetwork("web").code(), Code::kFailedPrecondition);
  ASSERT_TRUE(store_->DeleteEndpoint("c1").ok());
  EXPECT_EQ(store_->DeleteEndpoint("c1").code(), Code::kNotFound);
  EXPECT_TRUE(store_->DeleteNetwork("web").ok());
}

TEST_F(NetworkStateTest, TakenAddressOrPortRefusesTheWholeEndpoint) {
  ASSERT_TRUE(store_->CreateNetwork(Net("web", 'a')).ok());
  StoredEndpoint first = Ep("c1", std::string(64, 'a'), "10.0.0.2");
  first.ports.push_back({"tcp", "", 8080, "10.0.0.2", 80});
  ASSERT_TRUE(store_->CreateEndpoint(first).ok());

  Status dup_ip = store_->CreateEndpoint(Ep("c2", std::string(64, 'a'), "10.0.0.2"));
  EXPECT_EQ(dup_ip.code(), Code::kAlreadyExists);
  EXPECT_NE(dup_ip.message().find("10.0.0.2"), std::string::npos) << dup_ip.message();

  StoredEndpoint dup_port = Ep("c3", std::string(64, 'a'), "10.0.0.3");
  dup_port.ports.push_back({"tcp", "", 8080, "10.0.0.3", 80});
  Status st = store_->CreateEndpoint(dup_port);
  EXPECT_EQ(st.code(), Code::kAlreadyExists);
  EXPECT_NE(st.message().find("8080"), std::string::npos) << st.message();

  EXPECT_EQ(store_->CreateEndpoint(Ep("c4", std::string(64, 'z'), "10.0.0.4")).code(), Code::kNotFound);
  auto eps = store_->ListEndpoints();
  ASSERT_TRUE(eps.ok());
  EXPECT_EQ(eps->size(), 1u);  // nothing of c2, c3, c4 was written
}

TEST_F(NetworkStateTest, RemoveAttachmentDropsItsPortsAndFreesTheAddress) {
  ASSERT_TRUE(store_->CreateNetwork(Net("web", 'a')).ok());
  StoredEndpoint e = Ep("c1", std::string(64, 'a'), "10.0.0.2");
  e.ports.push_back({"tcp", "", 8080, "10.0.0.2", 80});
  ASSERT_TRUE(store_->CreateEndpoint(e).ok());
  ASSERT_TRUE(store_->RemoveAttachment("c1", std::string(64, 'a')).ok());
  EXPECT_EQ(store_->RemoveAttachment("c1", std::string(64, 'a')).code(), Code::kNotFound);
  auto eps = store_->ListEndpoints();
  ASSERT_TRUE(eps.ok());
  EXPECT_TRUE((*eps)[0].attachments.empty());
  EXPECT_TRUE((*eps)[0].ports.empty());
  EXPECT_TRUE(store_->CreateEndpoint(Ep("c2", std::string(64, 'a'), "10.0.0.2")).ok());
}

TEST_F(NetworkStateTest, ConcurrentRequestsNeverShareAnAddress) {
  ASSERT_TRUE(store_->CreateNetwork(Net("web", 'a')).ok());
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        // Every thread asks for the same 20 addresses: each must go to exactly one endpoint.
        auto e = Ep("t" + std::to_string(t) + "-" + std::to_string(i), std::string(64, 'a'),
                    "10.0.0." + std::to_string(10 + i));
        if (store_->CreateEndpoint(e).ok()) created++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(created.load(), 20);
}

}  // namespace
}  // namespace berth::store
