#include "http/server.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/client.h"
#include "http/json.h"
#include "http/test_util.h"

namespace berth::http {
namespace {

using testing::RawSocket;
using testing::TempDir;
using namespace std::chrono_literals;

// Routes shared by the tests: echo of what the handler saw, a small-limit upload, a thrower,
// and a slow handler that reports when it has started.
struct Fixture {
  std::promise<void> slow_started;
  std::atomic<bool> slow_finished{false};

  Router MakeRouter() {
    Router r;
    EXPECT_TRUE(r.Add("GET", "/echo/{name}", [](const Request& req) {
                   nlohmann::json j = {{"method", req.method}, {"path", req.path}, {"name", req.params.at("name")},
                                       {"q", std::string(req.query_param("q"))},
                                       {"x_test", std::string(req.header("x-TEST"))},
                                       {"remote", req.remote_address}};
                   Response resp = Response::Json(200, j);
                   resp.headers.emplace_back("X-Served-By", "berth-test");
                   return resp;
                 }).ok());
    EXPECT_TRUE(r.Add("POST", "/echo/{name}", [](const Request& req) {
                   Result<nlohmann::json> body = ParseJsonBody(req);
                   if (!body.ok()) return ErrorResponse(body.status());
                   return Response::Json(201, *body);
                 }).ok());
    EXPECT_TRUE(r.Add("PUT", "/small", [](const Request& req) { return Response::Text(200, req.body); },
                      RouteOptions{.max_body_bytes = 1024})
                    .ok());
    EXPECT_TRUE(r.Add("POST", "/upload", [](const Request& req) {
                   return Response::Text(200, std::to_string(req.body.size()));
                 }).ok());
    EXPECT_TRUE(r.Add("GET", "/throw", [](const Request&) -> Response { throw std::runtime_error("boom"); }).ok());
    EXPECT_TRUE(r.Add("GET", "/slow", [this](const Request&) {
                   slow_started.set_value();
                   std::this_thread::sleep_for(500ms);
                   slow_finished = true;
                   return Response::Text(200, "slow done");
                 }).ok());
    return r;
  }
};

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    socket_path_ = dir_.path() + "/run/berthd.sock";
    if (options.listeners.empty()) {
      options.listeners = {Listener::Tcp("127.0.0.1:0"), Listener::Unix(socket_path_)};
    }
    server_ = std::make_unique<Server>(fixture_.MakeRouter(), options);
    Status status = server_->Start();
    ASSERT_TRUE(status.ok()) << status.ToString();
    port_ = server_->listeners().at(0).port;
    ASSERT_NE(port_, 0);
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  TempDir dir_;
  Fixture fixture_;
  std::unique_ptr<Server> server_;
  std::string socket_path_;
  uint16_t port_ = 0;
};

TEST_F(ServerTest, ServesOverTcpAndUnixSocket) {
  StartServer();
  std::vector<BoundListener> bound = server_->listeners();
  ASSERT_EQ(bound.size(), 2u);
  EXPECT_EQ(bound[0].address, "127.0.0.1:" + std::to_string(port_));
  EXPECT_EQ(bound[1].kind, ListenerKind::kUnix);
  struct stat st;
  ASSERT_EQ(stat(socket_path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);

  for (const std::string& endpoint : {Url(), socket_path_}) {
    Client client(endpoint);
    Result<ClientResponse> r = client.Do("GET", "/echo/a%2Eb?q=x+y", "", {{"X-Test", "hello"}});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("content-type"), "application/json");
    EXPECT_EQ(r->header("x-served-by"), "berth-test");
    nlohmann::json j = nlohmann::json::parse(r->body);
    EXPECT_EQ(j["name"], "a.b");
    EXPECT_EQ(j["path"], "/echo/a.b");
    EXPECT_EQ(j["q"], "x y");
    EXPECT_EQ(j["x_test"], "hello");
    EXPECT_EQ(j["remote"], endpoint == socket_path_ ? "unix" : "127.0.0.1");
  }
}

TEST_F(ServerTest, JsonPostRoundTripsAndBadJsonIs400) {
  StartServer();
  Client client(Url());
  Result<ClientResponse> r = client.Do("POST", "/echo/x", R"({"kind":"Native"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(nlohmann::json::parse(r->body)["kind"], "Native");
  r = client.Do("POST", "/echo/x", "{nope");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(nlohmann::json::parse(r->body).contains("error"));
}

std::string RunCommand(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

TEST_F(ServerTest, CurlOverTcpAndUnixSocket) {
  StartServer();
  std::string out = RunCommand("curl -sS --max-time 10 -H 'X-Test: curl' '" + Url() + "/echo/viacurl?q=1'");
  ASSERT_FALSE(out.empty());
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  EXPECT_EQ(j["name"], "viacurl");
  EXPECT_EQ(j["x_test"], "curl");

  out = RunCommand("curl -sS --max-time 10 --unix-socket '" + socket_path_ + "' http://localhost/echo/sock");
  EXPECT_EQ(nlohmann::json::parse(out, nullptr, false)["remote"], "unix");

  // Several URLs on one curl invocation reuse the connection; the last checks 405 + Allow.
  out = RunCommand("curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{num_connects}\\n' '" + Url() +
                   "/echo/1' '" + Url() + "/echo/2' -o /dev/null");
  EXPECT_EQ(out, "200 1\n200 0\n");

  // A 2 MiB upload through curl's Expect: 100-continue path against a 1 KiB route is refused.
  std::string big = dir_.path() + "/big";
  std::ofstream(big) << std::string(2 << 20, 'x');
  out = RunCommand("curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -H 'Expect: 100-continue' -X PUT "
                   "--data-binary @" + big + " '" + Url() + "/small'");
  EXPECT_EQ(out, "413");
}

TEST_F(ServerTest, TlsListenerServesHttpsAndRefusesPlainText) {
  std::string cert = dir_.path() + "/cert.pem", key = dir_.path() + "/key.pem";
  RunCommand("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost "
             "-addext subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert + " 2>&1");
  ServerOptions options;
  options.listeners = {Listener::Tls("127.0.0.1:0", cert, key)};
  StartServer(options);
  EXPECT_EQ(server_->listeners()[0].kind, ListenerKind::kTls);
  std::string https = "https://127.0.0.1:" + std::to_string(port_);
  std::string out = RunCommand("curl -sS --max-time 10 --cacert " + cert + " '" + https + "/echo/tls'");
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  EXPECT_EQ(j["name"], "tls") << out;
  EXPECT_EQ(j["remote"], "127.0.0.1");
  // Two requests on one TLS connection.
  out = RunCommand("curl -sS --max-time 10 --cacert " + cert + " -o /dev/null -w '%{http_code} %{num_connects}\\n' '" +
                   https + "/echo/1' '" + https + "/echo/2' -o /dev/null");
  EXPECT_EQ(out, "200 1\n200 0\n");
  // Plain HTTP to the TLS port gets no HTTP answer.
  out = RunCommand("curl -sS --max-time 5 -o /dev/null -w '%{http_code}' 'http://127.0.0.1:" + std::to_string(port_) +
                   "/echo/x' 2>/dev/null");
  EXPECT_NE(out, "200");
}

TEST_F(ServerTest, ReloadTlsServesTheNewCertificateToNewConnections) {
  auto make_cert = [&](const std::string& name) {
    std::string cert = dir_.path() + "/" + name + ".pem", key = dir_.path() + "/" + name + ".key";
    RunCommand("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=" + name +
               " -addext subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert + " 2>&1");
    return std::pair{cert, key};
  };
  auto [old_cert, old_key] = make_cert("old");
  auto [new_cert, new_key] = make_cert("new");
  ServerOptions options;
  options.listeners = {Listener::Tls("127.0.0.1:0", old_cert, old_key), Listener::Tcp("127.0.0.1:0")};
  StartServer(options);
  std::string https = "https://127.0.0.1:" + std::to_string(port_) + "/echo/x";
  auto code_trusting = [&](const std::string& ca) {
    return RunCommand("curl -s --max-time 10 -o /dev/null -w '%{http_code}' --cacert " + ca + " '" + https + "'");
  };
  EXPECT_EQ(code_trusting(old_cert), "200");
  EXPECT_NE(code_trusting(new_cert), "200");

  ASSERT_TRUE(server_->ReloadTls(new_cert, new_key).ok());
  EXPECT_EQ(code_trusting(new_cert), "200");
  EXPECT_NE(code_trusting(old_cert), "200");

  // A key that does not match, or a missing file: refused, and the served certificate stays.
  Status s = server_->ReloadTls(new_cert, old_key);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  s = server_->ReloadTls(dir_.path() + "/missing.pem", new_key);
  EXPECT_NE(s.message().find("missing.pem"), std::string::npos) << s.ToString();
  EXPECT_EQ(code_trusting(new_cert), "200");
}

TEST(ServerTls, ReloadWithoutATlsListenerIsRefused) {
  ServerOptions options;
  options.listeners = {Listener::Tcp("127.0.0.1:0")};
  Server server(Router{}, options);
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(server.ReloadTls("a.pem", "b.pem").code(), Code::kFailedPrecondition);
}

TEST(ServerTls, BadCertificateOrKeyFailsStart) {
  TempDir dir;
  std::ofstream(dir.path() + "/junk.pem") << "not a certificate";
  for (auto [cert, key] : {std::pair<std::string, std::string>{dir.path() + "/none.pem", dir.path() + "/none.pem"},
                           {dir.path() + "/junk.pem", dir.path() + "/junk.pem"}}) {
    ServerOptions options;
    options.listeners = {Listener::Tls("127.0.0.1:0", cert, key)};
    Server server(Router{}, options);
    Status s = server.Start();
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find(cert), std::string::npos) << s.ToString();
  }
}

TEST_F(ServerTest, KeepAliveReusesOneConnection) {
  StartServer();
  Client client(Url());
  for (int i = 0; i < 5; ++i) {
    Result<ClientResponse> r = client.Do("GET", "/echo/" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(server_->stats().connections_accepted, 1u);
  EXPECT_EQ(server_->stats().requests, 5u);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  RawSocket s = RawSocket::Tcp(port_);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s.Send("GET /echo/one HTTP/1.1\r\nHost: x\r\n\r\n"
                     "POST /echo/two HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"a\":1}"
                     "GET /echo/three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string out = s.ReadAll();
  size_t one = out.find("\"one\"");
  size_t two = out.find("{\"a\":1}");
  size_t three = out.find("\"three\"");
  ASSERT_NE(one, std::string::npos) << out;
  ASSERT_NE(two, std::string::npos) << out;
  ASSERT_NE(three, std::string::npos) << out;
  EXPECT_LT(one, two);
  EXPECT_LT(two, three);
  EXPECT_EQ(RawSocket::Count(out, "HTTP/1.1 20"), 3);
}

TEST_F(ServerTest, RoutingErrors) {
  StartServer();
  Client client(Url());
  Result<ClientResponse> r = client.Do("GET", "/missing");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(nlohmann::json::parse(r->body)["error"], "no route for /missing");

  r = client.Do("DELETE", "/echo/x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->header("Allow"), "GET, HEAD, POST");

  r = client.Do("HEAD", "/echo/x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.empty());
  EXPECT_NE(r->header("Content-Length"), "0");

  r = client.Do("GET", "/throw");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  r = client.Do("GET", "/echo/still-alive");  // same connection survived all of the above
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(server_->stats().connections_accepted, 1u);
}

TEST_F(ServerTest, BodyLimits) {
  ServerOptions options;
  options.max_body_bytes = 64 * 1024;
  StartServer(options);
  Client client(Url());
  Result<ClientResponse> r = client.Do("POST", "/upload", std::string(64 * 1024, 'x'));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "65536");
  r = client.Do("POST", "/upload", std::string(64 * 1024 + 1, 'x'));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
  r = client.Do("PUT", "/small", std::string(1025, 'x'));  // the route's own, smaller limit
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);

  // Chunked bodies have no Content-Length up front; the limit still applies while reading.
  RawSocket s = RawSocket::Tcp(port_);
  std::string chunk(1000, 'y');
  std::string req = "PUT /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) req += "3e8\r\n" + chunk + "\r\n";
  req += "0\r\n\r\n";
  ASSERT_TRUE(s.Send(req));
  EXPECT_EQ(s.ReadAll().rfind("HTTP/1.1 413", 0), 0u);
}

TEST_F(ServerTest, MalformedRequestIs400AndServerKeepsServing) {
  StartServer();
  {
    RawSocket s = RawSocket::Tcp(port_);
    ASSERT_TRUE(s.Send("THIS IS NOT HTTP\r\n\r\n"));
    std::string out = s.ReadAll();
    EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  }
  {
    RawSocket s = RawSocket::Tcp(port_);
    ASSERT_TRUE(s.Send("GET noslash HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(s.ReadUntil("\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  }
  Client client(Url());
  Result<ClientResponse> r = client.Do("GET", "/echo/after");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, OversizedHeaderIs431) {
  StartServer();
  RawSocket s = RawSocket::Tcp(port_);
  ASSERT_TRUE(s.Send("GET /echo/x HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"));
  EXPECT_EQ(s.ReadAll().rfind("HTTP/1.1 431", 0), 0u);
}

TEST_F(ServerTest, ConcurrentClients) {
  ServerOptions options;
  options.io_threads = 2;
  StartServer(options);
  constexpr int kThreads = 8;
  constexpr int kRequests = 200;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Client client(t % 2 ? Url() : socket_path_);
      for (int i = 0; i < kRequests; ++i) {
        std::string name = std::to_string(t) + "-" + std::to_string(i);
        Result<ClientResponse> r = client.Do("GET", "/echo/" + name);
        if (r.ok() && r->status == 200 && nlohmann::json::parse(r->body)["name"] == name) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kRequests);
  EXPECT_EQ(server_->stats().requests, static_cast<uint64_t>(kThreads * kRequests));
}

TEST_F(ServerTest, StopLetsInFlightRequestFinish) {
  StartServer();
  RawSocket idle = RawSocket::Tcp(port_);  // an idle keep-alive connection must not delay Stop
  ASSERT_TRUE(idle.ok());
  auto answer = std::async(std::launch::async, [&] { return Client(Url()).Do("GET", "/slow"); });
  ASSERT_EQ(fixture_.slow_started.get_future().wait_for(5s), std::future_status::ready);
  auto t0 = std::chrono::steady_clock::now();
  server_->Stop(5s);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(fixture_.slow_finished.load());
  EXPECT_LT(took, 4s);
  Result<ClientResponse> r = answer.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "slow done");
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_EQ(idle.ReadAll(), "");  // closed without an answer
  EXPECT_FALSE(std::filesystem::exists(socket_path_));
  Result<ClientResponse> after = Client(Url()).Do("GET", "/echo/x");
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), Code::kUnavailable);
}

TEST_F(ServerTest, IdleConnectionsTimeOut) {
  ServerOptions options;
  options.idle_timeout = 200ms;
  StartServer(options);
  RawSocket s = RawSocket::Tcp(port_);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(s.ReadAll(), "");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST_F(ServerTest, MaxConnectionsAnswers503) {
  ServerOptions options;
  options.max_connections = 1;
  StartServer(options);
  Client first(Url());
  ASSERT_TRUE(first.Do("GET", "/echo/1").ok());  // keeps its connection open
  Result<ClientResponse> r = Client(Url()).Do("GET", "/echo/2");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(nlohmann::json::parse(r->body)["error"], "too many open connections");
  EXPECT_EQ(server_->stats().connections_rejected, 1u);
}

TEST(ServerStart, StaleSocketFileIsReplaced) {
  TempDir dir;
  std::string path = dir.path() + "/berthd.sock";
  {
    // A socket file whose server is gone: bound, then closed without unlinking.
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    close(fd);
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  ServerOptions options;
  options.listeners = {Listener::Unix(path)};
  Fixture f;
  Server server(f.MakeRouter(), options);
  Status status = server.Start();
  ASSERT_TRUE(status.ok()) << status.ToString();
  Result<ClientResponse> r = Client(path).Do("GET", "/echo/x");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);

  // A second server must not steal the live socket.
  Server second(f.MakeRouter(), options);
  EXPECT_EQ(second.Start().code(), Code::kAlreadyExists);
  EXPECT_TRUE(Client(path).Do("GET", "/echo/x").ok());
}

TEST(ServerStart, RefusesToReplaceARegularFile) {
  TempDir dir;
  std::string path = dir.path() + "/not-a-socket";
  std::ofstream(path) << "precious";
  ServerOptions options;
  options.listeners = {Listener::Unix(path)};
  Server server(Router(), options);
  EXPECT_EQ(server.Start().code(), Code::kAlreadyExists);
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
}

TEST(ServerStart, ReportsBadOptionsAndBusyPorts) {
  ServerOptions options;
  options.listeners = {Listener::Tcp("not-an-ip:80")};
  EXPECT_EQ(Server(Router(), options).Start().code(), Code::kInvalidArgument);
  options.listeners = {};
  EXPECT_EQ(Server(Router(), options).Start().code(), Code::kInvalidArgument);
  options.listeners = {Listener::Tcp("127.0.0.1:0")};
  options.io_threads = 0;
  EXPECT_EQ(Server(Router(), options).Start().code(), Code::kInvalidArgument);

  options.io_threads = 1;
  Server first(Router(), options);
  ASSERT_TRUE(first.Start().ok());
  EXPECT_EQ(first.Start().code(), Code::kFailedPrecondition);
  options.listeners = {Listener::Tcp("127.0.0.1:" + std::to_string(first.listeners()[0].port))};
  EXPECT_EQ(Server(Router(), options).Start().code(), Code::kIo);
}

TEST(ServerStart, ListensOnIpv6Loopback) {
  ServerOptions options;
  options.listeners = {Listener::Tcp("[::1]:0")};
  Server server(Router(), options);
  Status status = server.Start();
  if (!status.ok()) GTEST_SKIP() << "no IPv6 loopback: " << status.ToString();
  uint16_t port = server.listeners()[0].port;
  EXPECT_EQ(server.listeners()[0].address, "[::1]:" + std::to_string(port));
  Result<ClientResponse> r = Client("http://[::1]:" + std::to_string(port)).Do("GET", "/nothing");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 404);
}

}  // namespace
}  // namespace berth::http
