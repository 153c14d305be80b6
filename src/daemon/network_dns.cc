#include "daemon/network_dns.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <shared_mutex>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "dns/wire/message.h"
#include "dns/wire/types.h"

namespace berth::daemon {

namespace {

// Docker's embedded DNS answers container names with this TTL.
constexpr uint32_t kNameTtl = 600;

struct NameTable {
  std::unordered_map<std::string, std::vector<IpAddress>> forward;  // lower-case name -> addresses
  std::unordered_map<std::string, std::string> reverse;             // "d.c.b.a.in-addr.arpa" -> name
};

// "4.3.2.1.in-addr.arpa" for 1.2.3.4.
std::string ReverseName(const IpAddress& ip) {
  const auto& b = ip.bytes();
  return std::to_string(b[3]) + "." + std::to_string(b[2]) + "." + std::to_string(b[1]) + "." +
         std::to_string(b[0]) + ".in-addr.arpa";
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

class NetworkDns::Resolver : public dns::Recursor {
 public:
  Resolver(dns::Recursor* upstream, uint16_t edns_size) : upstream_(upstream), edns_size_(edns_size) {}
  void SetEdnsSize(uint16_t size) { edns_size_.store(size, std::memory_order_relaxed); }

  void Add(const std::vector<net::NetworkName>& names) {
    std::unique_lock lock(mu_);
    for (const auto& n : names) {
      auto& list = table_.forward[n.name];
      list.insert(list.end(), n.addresses.begin(), n.addresses.end());
      for (const IpAddress& ip : n.addresses) {
        if (ip.is_v4()) table_.reverse.emplace(ReverseName(ip), n.name);  // the first name wins
      }
    }
  }

  void Remove(const std::vector<net::NetworkName>& names) {
    std::unique_lock lock(mu_);
    for (const auto& n : names) {
      auto it = table_.forward.find(n.name);
      if (it != table_.forward.end()) {
        for (const IpAddress& ip : n.addresses) {
          auto pos = std::find(it->second.begin(), it->second.end(), ip);
          if (pos != it->second.end()) it->second.erase(pos);
        }
        if (it->second.empty()) table_.forward.erase(it);
      }
      for (const IpAddress& ip : n.addresses) {
        if (!ip.is_v4()) continue;
        auto r = table_.reverse.find(ReverseName(ip));
        if (r != table_.reverse.end() && r->second == n.name) table_.reverse.erase(r);
      }
    }
  }

  size_t FromCache(const dns::ParsedQuery& q, const uint8_t* query, size_t len, uint16_t max_size, uint8_t* out,
                   size_t out_cap) override {
    auto qname = dns::Name::FromWire(q.qname_wire());
    if (!qname.ok()) return 0;
    std::string text = Lower(qname->ToText());
    if (!text.empty() && text.back() == '.') text.pop_back();
    std::vector<dns::Record> answers;
    bool known = false;
    std::shared_lock lock(mu_);
    if (auto it = table_.forward.find(text); it != table_.forward.end()) {
      known = true;
      for (const IpAddress& ip : it->second) {
        uint16_t type = ip.is_v4() ? dns::type::kA : dns::type::kAAAA;
        if (q.qtype != type && q.qtype != dns::type::kANY) continue;
        answers.push_back({*qname, type, dns::cls::kIN, kNameTtl,
                           std::string(reinterpret_cast<const char*>(ip.bytes().data()), ip.size())});
      }
    } else if (auto rit = table_.reverse.find(text); rit != table_.reverse.end()) {
      known = true;
      if (q.qtype == dns::type::kPTR || q.qtype == dns::type::kANY) {
        auto target = dns::Name::FromText(rit->second + ".");
        if (target.ok()) answers.push_back({*qname, dns::type::kPTR, dns::cls::kIN, kNameTtl, std::string(target->wire())});
      }
    }
    // A single-label name that is not on this network is nobody's: never ask upstream (a
    // container name of another network must not resolve, and must not leak out).
    lock.unlock();
    bool single_label = !text.empty() && text.find('.') == std::string::npos;
    if (!known && !single_label) return upstream_ ? upstream_->FromCache(q, query, len, max_size, out, out_cap) : 0;

    auto parsed = dns::Message::Parse(query, len);
    if (!parsed.ok()) return 0;
    dns::Message resp;
    resp.id = parsed->id;
    resp.flags = static_cast<uint16_t>(dns::flag::kQR | dns::flag::kAA | dns::flag::kRA | (parsed->flags & dns::flag::kRD));
    resp.set_opcode(0);
    resp.questions = parsed->questions;
    resp.answers = std::move(answers);
    resp.set_rcode(known ? dns::rcode::kNoError : dns::rcode::kNXDomain);
    if (parsed->edns) {
      dns::Edns e;
      e.udp_size = edns_size_.load(std::memory_order_relaxed);
      resp.edns = e;
    }
    std::string wire = resp.Build(max_size);
    if (wire.size() > out_cap) return 0;
    std::memcpy(out, wire.data(), wire.size());
    return wire.size();
  }

  void Resolve(const dns::ParsedQuery& q, const uint8_t* query, size_t len, uint16_t max_size,
               std::function<void(std::string response)> done) override {
    if (upstream_ == nullptr) {
      done("");
      return;
    }
    upstream_->Resolve(q, query, len, max_size, std::move(done));
  }

 private:
  dns::Recursor* upstream_;
  std::atomic<uint16_t> edns_size_;
  std::shared_mutex mu_;
  NameTable table_;
};

struct NetworkDns::PerNetwork {
  std::unique_ptr<Resolver> resolver;
  dns::DnsMetrics metrics;
  std::unique_ptr<dns::DnsServer> server;
};

NetworkDns::NetworkDns(const dns::ZoneTable& zones, dns::Recursor* upstream, uint16_t edns_udp_size)
    : zones_(zones), upstream_(upstream), edns_udp_size_(edns_udp_size) {}

void NetworkDns::SetEdnsUdpSize(uint16_t size) {
  std::lock_guard lock(mu_);
  edns_udp_size_ = size;
  for (auto& [id, per] : networks_) {
    per->resolver->SetEdnsSize(size);
    if (!per->server) continue;
    dns::DnsServerTuning t = per->server->tuning();
    t.edns_udp_size = size;
    per->server->Retune(std::move(t));
  }
}

NetworkDns::~NetworkDns() { Stop(); }

void NetworkDns::NetworkUp(const net::Network& network) {
  std::lock_guard lock(mu_);
  if (networks_.count(network.id)) return;
  auto per = std::make_unique<PerNetwork>();
  per->resolver = std::make_unique<Resolver>(upstream_, edns_udp_size_);
  dns::DnsServerOptions opts;
  for (const auto& s : network.spec.subnets) {
    if (s.gateway) opts.listen.push_back(SocketAddress(*s.gateway, 53));
    opts.tuning.allow_recursion.push_back(s.subnet);
  }
  opts.workers = 1;
  opts.tuning.edns_udp_size = edns_udp_size_;
  opts.tuning.udp_coalesce = std::chrono::microseconds(0);
  opts.tuning.tcp_coalesce = std::chrono::microseconds(0);
  per->server = std::make_unique<dns::DnsServer>(opts, zones_, per->resolver.get(), &per->metrics);
  if (Status s = per->server->Start(); !s.ok()) {
    spdlog::warn("network {}: no DNS on its gateway: {}", network.spec.name, s.message());
    per->server.reset();
  } else {
    spdlog::info("network {}: DNS on {}", network.spec.name, opts.listen.empty() ? "" : opts.listen[0].ToString());
  }
  networks_[network.id] = std::move(per);
}

void NetworkDns::NetworkDown(const net::Network& network) {
  std::unique_ptr<PerNetwork> gone;
  {
    std::lock_guard lock(mu_);
    auto it = networks_.find(network.id);
    if (it == networks_.end()) return;
    gone = std::move(it->second);
    networks_.erase(it);
  }
  if (gone->server) gone->server->Stop(std::chrono::milliseconds(0));
}

void NetworkDns::NamesAdded(const net::Network& network, const std::vector<net::NetworkName>& names) {
  std::lock_guard lock(mu_);
  auto it = networks_.find(network.id);
  if (it != networks_.end()) it->second->resolver->Add(names);
}

void NetworkDns::NamesRemoved(const net::Network& network, const std::vector<net::NetworkName>& names) {
  std::lock_guard lock(mu_);
  auto it = networks_.find(network.id);
  if (it != networks_.end()) it->second->resolver->Remove(names);
}

void NetworkDns::Stop() {
  std::map<std::string, std::unique_ptr<PerNetwork>> all;
  {
    std::lock_guard lock(mu_);
    all.swap(networks_);
  }
  for (auto& [id, per] : all) {
    if (per->server) per->server->Stop(std::chrono::milliseconds(0));
  }
}

}  // namespace berth::daemon
