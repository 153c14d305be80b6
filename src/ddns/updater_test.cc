#include "ddns/updater.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "dns/wire/types.h"
#include "http/server.h"

namespace berth::ddns {
namespace {

using namespace std::chrono_literals;

// What the fake provider saw, shared with the test (the updater owns the provider).
struct Seen {
  std::mutex mu;
  std::vector<std::string> pushes;  // "name address"
  std::string held;                 // the address the "provider" holds
  std::atomic<bool> fail{false};
  size_t count() {
    std::lock_guard l(mu);
    return pushes.size();
  }
};

class FakeProvider : public Provider {
 public:
  explicit FakeProvider(std::shared_ptr<Seen> seen) : seen_(std::move(seen)) {}
  Result<Action> Push(const Desired& want) override {
    std::lock_guard l(seen_->mu);
    seen_->pushes.push_back(want.name.ToText() + " " + want.address.ToString());
    if (seen_->fail) return Unavailable("fake: 503 Service Unavailable (try later)");
    if (seen_->held == want.address.ToString()) return Action::kUnchanged;
    Action a = seen_->held.empty() ? Action::kCreated : Action::kUpdated;
    seen_->held = want.address.ToString();
    return a;
  }

 private:
  std::shared_ptr<Seen> seen_;
};

class UpdaterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("berth-ddns-" + std::to_string(getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    WriteAddress("198.51.100.7");
  }
  void TearDown() override {
    if (updater_) updater_->Stop();
    std::filesystem::remove_all(dir_);
  }
  void WriteAddress(const std::string& a) { std::ofstream(dir_ / "addr") << a << "\n"; }

  DdnsConfig Config(SourceConfig::Kind kind = SourceConfig::Kind::kCmd) {
    DdnsConfig c;
    c.interval = 1h;
    c.retry_base = 200ms;
    c.retry_max = 400ms;
    c.failure_threshold = 2;
    ProviderConfig p;
    p.name = "fake";
    p.type = ProviderType::kWebhook;
    c.providers.push_back(p);
    RecordConfig r;
    r.job = "home";
    r.provider = "fake";
    r.zone = dns::Name::FromText("example.test.").value();
    r.names = {dns::Name::FromText("home.example.test.").value(), dns::Name::FromText("nas.example.test.").value()};
    r.type = dns::type::kA;
    r.source.kind = kind;
    r.source.cmd = "cat " + (dir_ / "addr").string();
    c.records.push_back(r);
    return c;
  }
  UpdaterEnv Env() {
    UpdaterEnv env;
    env.make_provider = [seen = seen_](const ProviderConfig&) -> Result<std::unique_ptr<Provider>> {
      return std::unique_ptr<Provider>(std::make_unique<FakeProvider>(seen));
    };
    env.random = [] { return 0.5; };
    return env;
  }
  void Start(DdnsConfig c, UpdaterEnv env) {
    auto u = Updater::Make(std::move(c), std::move(env));
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    updater_ = std::move(*u);
    ASSERT_TRUE(updater_->Start().ok());
  }
  // Waits until pred() holds (or 5 s).
  template <class Pred>
  bool WaitFor(Pred pred, std::chrono::milliseconds limit = 5s) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }

  std::filesystem::path dir_;
  std::shared_ptr<Seen> seen_ = std::make_shared<Seen>();
  std::unique_ptr<Updater> updater_;
};

TEST_F(UpdaterTest, FirstRunPushesEveryNameThenRunNowChecksAgain) {
  Start(Config(), Env());
  ASSERT_TRUE(WaitFor([&] { return updater_->Jobs()[0].runs == 1 && seen_->count() == 2; }));
  JobStatus s = updater_->Jobs()[0];
  EXPECT_EQ(s.job, "home");
  EXPECT_EQ(s.type, "A");
  EXPECT_EQ(s.source, "cmd");
  ASSERT_TRUE(s.address);
  EXPECT_EQ(s.address->ToString(), "198.51.100.7");
  EXPECT_EQ(s.last_result, "home.example.test. created, nas.example.test. unchanged");
  EXPECT_TRUE(s.last_push);
  EXPECT_TRUE(s.last_error.empty());
  EXPECT_GT(s.next_run, std::chrono::system_clock::now() + 50min);  // the interval, not a retry

  // The address changes; a forced run notices at once.
  WriteAddress("198.51.100.8");
  auto r = updater_->RunNow("home");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->address->ToString(), "198.51.100.8");
  EXPECT_EQ(r->last_result, "home.example.test. updated, nas.example.test. unchanged");
  EXPECT_EQ(seen_->count(), 4u);
  // Unchanged, but forced: the provider is still asked.
  r = updater_->RunNow("home");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->last_result, "home.example.test. unchanged, nas.example.test. unchanged");
  EXPECT_EQ(seen_->count(), 6u);
  EXPECT_EQ(updater_->RunNow("nope").status().code(), Code::kNotFound);
}

TEST_F(UpdaterTest, ReconfigureKeepsUnchangedJobsAndRunsNewOnes) {
  Start(Config(), Env());
  ASSERT_TRUE(WaitFor([&] { return updater_->Jobs()[0].runs == 1 && seen_->count() == 2; }));

  // The same job again: it keeps its status and, its address unchanged, asks no provider.
  ASSERT_TRUE(updater_->Reconfigure(Config()).ok());
  ASSERT_TRUE(WaitFor([&] {
    JobStatus j = updater_->Jobs()[0];
    return j.runs == 2 && j.last_result.find("provider not asked") != std::string::npos;
  }));
  EXPECT_EQ(seen_->count(), 2u);
  EXPECT_EQ(updater_->Jobs()[0].address->ToString(), "198.51.100.7");

  // A new job runs at once; a changed one starts afresh (and so checks its provider).
  DdnsConfig c = Config();
  c.records[0].ttl = 60;
  RecordConfig work = c.records[0];
  work.job = "work";
  work.names = {dns::Name::FromText("work.example.test.").value()};
  c.records.push_back(work);
  ASSERT_TRUE(updater_->Reconfigure(c).ok());
  ASSERT_EQ(updater_->Jobs().size(), 2u);
  // A run's result is written when it ends: wait for both.
  ASSERT_TRUE(WaitFor([&] {
    auto jobs = updater_->Jobs();
    return jobs[0].runs == 1 && !jobs[0].last_result.empty() && jobs[1].runs == 1 && !jobs[1].last_result.empty();
  }));
  EXPECT_EQ(seen_->count(), 5u);  // home and nas checked again, work pushed
  EXPECT_EQ(updater_->Jobs()[1].job, "work");

  // A config that does not build changes nothing: both jobs still run on request.
  DdnsConfig bad = c;
  bad.records[1].provider = "nope";
  EXPECT_EQ(updater_->Reconfigure(bad).code(), Code::kInvalidArgument);
  ASSERT_EQ(updater_->Jobs().size(), 2u);
  auto r = updater_->RunNow("work");
  ASSERT_TRUE(r.ok()) << r.status().ToString();

  // A stopped updater is reconfigured but not started.
  updater_->Stop();
  ASSERT_TRUE(updater_->Reconfigure(Config()).ok());
  EXPECT_EQ(updater_->RunNow("home").status().code(), Code::kFailedPrecondition);
}

TEST_F(UpdaterTest, UnchangedAddressIsRecheckedEveryNRuns) {
  DdnsConfig c = Config();
  c.interval = 30ms;
  c.recheck_every = 3;
  c.records[0].names.resize(1);
  Start(c, Env());
  ASSERT_TRUE(WaitFor([&] { return updater_->Jobs()[0].runs >= 10; }));
  updater_->Stop();
  uint64_t runs = updater_->Jobs()[0].runs;
  // Run 1 pushes (new address), then every third run checks: 1 + (runs - 1) / 3.
  EXPECT_EQ(seen_->count(), 1 + (runs - 1) / 3) << runs << " runs";
  // Someone changed the record at the provider: the next check repairs it.
  EXPECT_EQ(updater_->Jobs()[0].last_error, "");
}

TEST_F(UpdaterTest, FailuresBackOffAndNotifyOnce) {
  // A notification sink: a real HTTP server that records what it is sent.
  std::mutex mu;
  std::vector<std::string> hooks;
  http::Router router;
  ASSERT_TRUE(router.Add("POST", "/hook", [&](const http::Request& req) {
    std::lock_guard l(mu);
    hooks.push_back(std::string(req.query_param("e")) + " " + req.body);
    return http::Response::Text(200, "ok");
  }).ok());
  http::ServerOptions options;
  options.listeners = {http::Listener::Tcp("127.0.0.1:0")};
  http::Server server(std::move(router), options);
  ASSERT_TRUE(server.Start().ok());
  DdnsConfig c = Config();
  NotifyConfig n;
  n.request.url = "http://127.0.0.1:" + std::to_string(server.listeners()[0].port) + "/hook?e={{event}}";
  n.request.body = R"({"job":"{{job}}","address":"{{address}}","previous":"{{previous}}","error":"{{error|json}}","failures":{{failures}}})";
  c.notify.push_back(n);

  seen_->fail = true;
  Start(c, Env());
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return updater_->Jobs()[0].consecutive_failures >= 3; }));
  JobStatus s = updater_->Jobs()[0];
  EXPECT_EQ(s.last_error, "fake: 503 Service Unavailable (try later)");
  EXPECT_FALSE(s.address);
  // u = 0.5: retries after 100 ms -> floor 200 ms, then 200 ms: never a tight loop.
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 350ms);
  std::this_thread::sleep_for(500ms);
  EXPECT_LE(updater_->Jobs()[0].runs, 8u);

  seen_->fail = false;
  ASSERT_TRUE(WaitFor([&] { return updater_->Jobs()[0].consecutive_failures == 0; }));
  s = updater_->Jobs()[0];
  EXPECT_EQ(s.last_error, "");
  EXPECT_EQ(s.address->ToString(), "198.51.100.7");
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard l(mu);
    return hooks.size() >= 2;
  }));
  updater_->Stop();
  server.Stop();
  std::lock_guard l(mu);
  ASSERT_EQ(hooks.size(), 2u);  // one failure (at the threshold, not at every failure), one change
  EXPECT_EQ(hooks[0], R"x(failure {"job":"home","address":"","previous":"","error":"fake: 503 Service Unavailable (try later)","failures":2})x");
  EXPECT_EQ(hooks[1], R"(change {"job":"home","address":"198.51.100.7","previous":"","error":"","failures":0})");
}

TEST_F(UpdaterTest, InterfaceEventRunsTheJobWithinASecond) {
  std::mutex mu;
  std::vector<InterfaceAddress> list = {{"wan", IpAddress::Parse("203.0.113.1").value(), false, false, true}};
  std::function<void()> fire;
  UpdaterEnv env = Env();
  env.interfaces = [&]() -> Result<std::vector<InterfaceAddress>> {
    std::lock_guard l(mu);
    return list;
  };
  env.watch = [&](std::function<void()> cb) -> Result<std::shared_ptr<void>> {
    fire = std::move(cb);
    return std::shared_ptr<void>(std::make_shared<int>(0));
  };
  DdnsConfig c = Config(SourceConfig::Kind::kInterface);
  c.records[0].source.interface = "wan";
  Start(c, env);
  ASSERT_TRUE(fire);
  ASSERT_TRUE(WaitFor([&] { return updater_->Jobs()[0].address.has_value(); }));
  EXPECT_EQ(updater_->Jobs()[0].source, "interface wan");
  {
    std::lock_guard l(mu);
    list[0].address = IpAddress::Parse("203.0.113.2").value();
  }
  auto t0 = std::chrono::steady_clock::now();
  fire();
  ASSERT_TRUE(WaitFor([&] { return updater_->Jobs()[0].address->ToString() == "203.0.113.2"; }, 1s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  std::lock_guard l(seen_->mu);
  EXPECT_EQ(seen_->held, "203.0.113.2");
}

TEST_F(UpdaterTest, StopIsPromptAndRunNowNeedsAStartedUpdater) {
  auto u = Updater::Make(Config(), Env());
  ASSERT_TRUE(u.ok());
  EXPECT_EQ((*u)->RunNow("home").status().code(), Code::kFailedPrecondition);
  updater_ = std::move(*u);
  ASSERT_TRUE(updater_->Start().ok());
  EXPECT_EQ(updater_->Start().code(), Code::kFailedPrecondition);
  ASSERT_TRUE(WaitFor([&] { return updater_->Jobs()[0].runs == 1; }));
  auto t0 = std::chrono::steady_clock::now();
  updater_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  updater_->Stop();  // idempotent
}

}  // namespace
}  // namespace berth::ddns
