#include "dyndns/dyndns.h"

#include <algorithm>
#include <future>
#include <memory>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "dns/wire/types.h"
#include "http/auth.h"

namespace berth::dyndns {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (size_t start = 0;;) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? s.npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

std::vector<std::string_view> SplitCommas(std::string_view s) {
  std::vector<std::string_view> out = Split(s, ',');
  for (auto& item : out) item = Trim(item);
  return out;
}

bool IsUnicast(const IpAddress& a) {
  const auto& b = a.bytes();
  if (a.is_v4()) {
    bool unspecified = b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0;
    bool broadcast = b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255;
    return !unspecified && !broadcast && !(b[0] >= 224 && b[0] <= 239);
  }
  return b[0] != 0xff && std::any_of(b.begin(), b.end(), [](uint8_t x) { return x != 0; });
}

bool Trusted(const IpAddress& a, const std::vector<Cidr>& proxies) {
  return std::any_of(proxies.begin(), proxies.end(), [&](const Cidr& c) { return c.Contains(a); });
}

// The single value of `key`, nullopt when absent; kInvalidArgument when repeated, since two
// values would be ambiguous.
Result<std::optional<std::string>> SingleParam(const std::multimap<std::string, std::string>& query,
                                               const std::string& key) {
  auto [first, last] = query.equal_range(key);
  if (first == last) return std::optional<std::string>();
  if (std::next(first) != last) return InvalidArgument("parameter '" + key + "' given more than once");
  return std::optional<std::string>(first->second);
}

Status AddAddress(std::string_view text, std::string_view param, bool v6_only, UpdateRequest& out) {
  auto parsed = IpAddress::Parse(text);
  if (!parsed.ok()) return InvalidArgument(fmt::format("{} '{}' is not an IP address", param, text));
  IpAddress a = parsed->Unmapped();
  if (!IsUnicast(a)) return InvalidArgument(fmt::format("{} '{}' is not a unicast address", param, text));
  if (v6_only && a.is_v4()) return InvalidArgument(fmt::format("{} '{}' is not an IPv6 address", param, text));
  std::optional<IpAddress>& slot = a.is_v4() ? out.v4 : out.v6;
  if (slot && *slot != a)
    return InvalidArgument(fmt::format("two {} addresses given ({} and {})", a.is_v4() ? "IPv4" : "IPv6",
                                       slot->ToString(), a.ToString()));
  slot = a;
  return Status::Ok();
}

std::string AddressText(const UpdateRequest& u) {
  std::string out;
  if (u.v4) out = u.v4->ToString();
  if (u.v6) out += (out.empty() ? "" : ",") + u.v6->ToString();
  return out;
}

dns::Record AddressRecord(const dns::Name& owner, const IpAddress& a, uint32_t ttl) {
  dns::Record r;
  r.name = owner;
  r.type = a.is_v4() ? dns::type::kA : dns::type::kAAAA;
  r.ttl = ttl;
  r.rdata.assign(reinterpret_cast<const char*>(a.bytes().data()), a.size());
  return r;
}

// True when `host` is not authoritative data of the zone: at or below a delegation, or below a
// DNAME. Writing an address there would be occluded (or rejected by Zone::Build).
bool Occluded(const dns::ZoneContent& c, const dns::Name& host) {
  const dns::Name& apex = c.origin();
  for (dns::Name n = host; !(n == apex); n = n.Parent()) {
    if (c.HasRRset(n, dns::type::kNS)) return true;
    if (!(n == host) && c.HasRRset(n, dns::type::kDNAME)) return true;
    if (n.IsRoot()) return true;  // not inside the zone at all
  }
  return !(host == apex) && c.HasRRset(apex, dns::type::kDNAME);
}

http::Response Words(std::string_view word, size_t count) {
  std::string body;
  for (size_t i = 0; i < std::max<size_t>(count, 1); ++i) body.append(word).push_back('\n');
  return http::Response::Text(200, std::move(body));
}

http::Response BadAuth() {
  http::Response r = http::Response::Text(401, "badauth\n");
  r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"berth\"");
  return r;
}

http::Response BadRequest(const Status& s) { return http::Response::Text(400, "badrequest: " + s.message() + "\n"); }

}  // namespace

Result<std::optional<IpAddress>> ClientAddress(std::string_view peer, std::string_view forwarded_for,
                                               const std::vector<Cidr>& trusted_proxies) {
  auto parsed = IpAddress::Parse(peer);
  if (!parsed.ok()) return std::optional<IpAddress>();  // a unix-socket peer has no address
  IpAddress client = parsed->Unmapped();
  if (forwarded_for.empty() || !Trusted(client, trusted_proxies)) return std::optional<IpAddress>(client);
  // Each proxy appends the address it saw: walk back from the right past our own proxies.
  auto hops = SplitCommas(forwarded_for);
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    auto hop = IpAddress::Parse(*it);
    if (!hop.ok()) return InvalidArgument(fmt::format("bad X-Forwarded-For entry '{}'", *it));
    client = hop->Unmapped();
    if (!Trusted(client, trusted_proxies)) break;
  }
  return std::optional<IpAddress>(client);
}

Result<UpdateRequest> ParseUpdateQuery(const std::multimap<std::string, std::string>& query,
                                       const std::optional<IpAddress>& client) {
  UpdateRequest out;
  ASSIGN_OR_RETURN(auto hostname, SingleParam(query, "hostname"));
  if (hostname && !hostname->empty())
    for (std::string_view h : SplitCommas(*hostname)) out.hosts.emplace_back(h);
  ASSIGN_OR_RETURN(auto myip, SingleParam(query, "myip"));
  ASSIGN_OR_RETURN(auto myipv6, SingleParam(query, "myipv6"));
  // An empty myip (ddclient sends "myip=" when it has no address) means "use my address".
  if (myip && !myip->empty())
    for (std::string_view a : SplitCommas(*myip)) RETURN_IF_ERROR(AddAddress(a, "myip", false, out));
  if (myipv6 && !myipv6->empty()) RETURN_IF_ERROR(AddAddress(Trim(*myipv6), "myipv6", true, out));
  if (!out.v4 && !out.v6) {
    if (!client) return InvalidArgument("no myip given and the client has no IP address");
    if (!IsUnicast(*client)) return InvalidArgument("no myip given and the client address is not unicast");
    (client->is_v4() ? out.v4 : out.v6) = *client;
  }
  return out;
}

Result<dns::Name> ParseHostname(std::string_view text) {
  std::string_view t = text;
  if (!t.empty() && t.back() == '.') t.remove_suffix(1);
  auto bad = [&](std::string_view why) {
    return InvalidArgument(fmt::format("'{}' is not a fully qualified host name: {}", text, why));
  };
  if (t.empty()) return bad("empty");
  if (t.size() > 253) return bad("longer than 253 characters");
  std::string lower;
  lower.reserve(t.size() + 1);
  size_t labels = 0;
  for (std::string_view label : Split(t, '.')) {
    if (label.empty()) return bad("empty label");
    if (label.size() > 63) return bad("label longer than 63 characters");
    if (label.front() == '-' || label.back() == '-') return bad("label starts or ends with '-'");
    for (char c : label) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return bad("only letters, digits and '-' are allowed");
      lower.push_back(static_cast<char>(dns::LowerByte(static_cast<uint8_t>(c))));
    }
    lower.push_back('.');
    ++labels;
  }
  if (labels < 2) return bad("needs at least two labels");
  return dns::Name::FromText(lower);
}

Service::Service(Options options, ZoneAccess& zones, const Authorizer& auth)
    : options_(std::make_shared<const Options>(options)),
      clock_(options.clock),
      zones_(zones),
      auth_(auth),
      changes_(options.per_user_changes),
      requests_(options.per_user_requests),
      bad_auth_(options.bad_auth_per_client) {}

void Service::Reconfigure(Options options) {
  changes_.SetLimit(options.per_user_changes);
  requests_.SetLimit(options.per_user_requests);
  bad_auth_.SetLimit(options.bad_auth_per_client);
  options_.Publish(std::make_shared<const Options>(std::move(options)));
}

Clock::time_point Service::Now() const { return clock_ ? clock_() : Clock::now(); }

struct Service::Host {
  std::string text;  // as sent
  dns::Name name;
  dns::Name zone;
  Outcome outcome = Outcome::kPending;
};

http::Response Service::Handle(const http::Request& req) {
  const std::shared_ptr<const Options> options = options_.Get();
  auto client = ClientAddress(req.remote_address, req.header("X-Forwarded-For"), options->trusted_proxies);
  if (!client.ok()) return BadRequest(client.status());
  std::string client_key = *client ? (*client)->ToString() : req.remote_address;
  // Missing credentials are the normal first step of clients that wait for the challenge:
  // they cost nothing. Wrong ones are counted per client address.
  auto creds = http::ParseBasicAuth(req.header("Authorization"));
  if (!creds) return BadAuth();
  Clock::time_point now = Now();
  std::string_view hostname = req.query_param("hostname");
  size_t lines = hostname.empty() ? 1 : std::min(SplitCommas(hostname).size(), options->max_hosts);
  if (!bad_auth_.Allowed(client_key, now)) {
    spdlog::warn("dyndns: {} is locked out after failed logins", client_key);
    return Words("abuse", lines);
  }
  auto user = auth_.Authenticate(creds->first, creds->second);
  if (!user) {
    (void)bad_auth_.Take(client_key, now);
    spdlog::warn("dyndns: bad credentials from {}", client_key);  // the name is not echoed: untrusted
    return BadAuth();
  }
  std::string_view system = req.query_param("system");
  if (!system.empty() && system != "dyndns" && system != "statdns" && system != "custom") return Words("badsys", 1);
  auto update = ParseUpdateQuery(req.query, *client);
  if (!update.ok()) return BadRequest(update.status());
  if (update->hosts.empty()) return Words("notfqdn", 1);
  if (update->hosts.size() > options->max_hosts) return Words("numhost", 1);
  if (!requests_.Take(*user, now) || !changes_.Allowed(*user, now)) {
    spdlog::warn("dyndns: user '{}' is over its update rate", *user);
    return Words("abuse", update->hosts.size());
  }

  std::vector<Host> hosts;
  for (const std::string& text : update->hosts) hosts.push_back(Host{text, dns::Name(), dns::Name()});
  if (Apply(*options, *user, *update, hosts)) (void)changes_.Take(*user, now);

  std::string address = AddressText(*update);
  std::string body;
  for (const Host& h : hosts) {
    switch (h.outcome) {
      case Outcome::kGood: body += "good " + address; break;
      case Outcome::kNochg: body += "nochg " + address; break;
      case Outcome::kNotFqdn: body += "notfqdn"; break;
      case Outcome::kNoHost: body += "nohost"; break;
      case Outcome::kDnsErr: body += "dnserr"; break;
      case Outcome::kPending:
      case Outcome::kInternal: body += "911"; break;
    }
    body += '\n';
  }
  return http::Response::Text(200, std::move(body));
}

bool Service::Apply(const Options& options, const std::string& user, const UpdateRequest& update,
                    std::vector<Host>& hosts) {
  std::vector<uint16_t> types;
  if (update.v4) types.push_back(dns::type::kA);
  if (update.v6) types.push_back(dns::type::kAAAA);

  // Hosts grouped by zone (lower-case origin text), so each zone gets one edit.
  std::map<std::string, std::vector<size_t>> by_zone;
  for (size_t i = 0; i < hosts.size(); ++i) {
    Host& h = hosts[i];
    auto name = ParseHostname(h.text);
    if (!name.ok()) {
      h.outcome = Outcome::kNotFqdn;
      continue;
    }
    h.name = *name;
    auto zone = zones_.FindZone(h.name);
    // dyn.com answers nohost for names the account does not own; a missing zone looks the same.
    if (!zone || !std::all_of(types.begin(), types.end(),
                              [&](uint16_t t) { return auth_.MayWrite(user, *zone, h.name, t); })) {
      h.outcome = Outcome::kNoHost;
      continue;
    }
    h.zone = *zone;
    by_zone[zone->Lowercased().ToText()].push_back(i);
  }

  // The edits run on the committer thread and may outlive this call (bounded wait), so they
  // own their inputs and results.
  struct ZoneEdit {
    dns::Name zone;
    std::vector<Host> hosts;
    std::promise<Result<daemon::EditOutcome>> done;
  };
  const uint32_t ttl = options.ttl;
  const std::optional<IpAddress> v4 = update.v4, v6 = update.v6;
  std::vector<std::pair<std::shared_ptr<ZoneEdit>, std::vector<size_t>>> edits;
  for (auto& [key, indexes] : by_zone) {
    auto edit = std::make_shared<ZoneEdit>();
    edit->zone = hosts[indexes.front()].zone;
    for (size_t i : indexes) edit->hosts.push_back(hosts[i]);
    edits.emplace_back(edit, indexes);
  }
  std::vector<std::future<Result<daemon::EditOutcome>>> futures;
  for (auto& [edit, indexes] : edits) {
    futures.push_back(edit->done.get_future());
    zones_.EditAsync(
        edit->zone,
        [edit = edit, ttl, v4, v6](dns::ZoneContent& content) -> Status {
          for (Host& h : edit->hosts) {
            if (Occluded(content, h.name) || content.HasRRset(h.name, dns::type::kCNAME)) {
              h.outcome = Outcome::kNoHost;
              continue;
            }
            bool changed = false;
            for (const auto& a : {v4, v6}) {
              if (!a) continue;
              dns::Record r = AddressRecord(h.name, *a, ttl);
              std::vector<dns::Record> current = content.RRset(h.name, r.type);
              if (current.size() == 1 && current[0].rdata == r.rdata) continue;
              content.ReplaceRRset(h.name, r.type, {r});
              changed = true;
            }
            h.outcome = changed ? Outcome::kGood : Outcome::kNochg;
          }
          return Status::Ok();
        },
        [edit = edit](Result<daemon::EditOutcome> result) { edit->done.set_value(std::move(result)); });
  }

  // Submitted together so the committer can make them durable in one batch.
  auto deadline = Clock::now() + options.commit_wait;
  for (size_t e = 0; e < edits.size(); ++e) {
    const auto& [edit, indexes] = edits[e];
    if (futures[e].wait_until(deadline) != std::future_status::ready) {
      spdlog::error("dyndns: zone {} did not commit within {}ms", edit->zone.ToText(),
                    options.commit_wait.count());
      for (size_t i : indexes) hosts[i].outcome = Outcome::kInternal;
      continue;
    }
    Result<daemon::EditOutcome> result = futures[e].get();
    if (!result.ok())
      spdlog::warn("dyndns: update of zone {} failed: {}", edit->zone.ToText(), result.status().ToString());
    for (size_t k = 0; k < indexes.size(); ++k) {
      Host& h = hosts[indexes[k]];
      h.outcome = edit->hosts[k].outcome;
      if (result.ok()) {
        if (h.outcome == Outcome::kGood)
          spdlog::info("dyndns: user '{}' set {} to {} (serial {})", user, h.name.ToText(), AddressText(update),
                       result->serial);
      } else if (result.status().code() == Code::kNotFound) {
        h.outcome = Outcome::kNoHost;  // the zone went away meanwhile
      } else if (h.outcome != Outcome::kNochg && h.outcome != Outcome::kNoHost) {
        h.outcome = Outcome::kDnsErr;  // rolled back whole: the change was not made
      }
    }
  }
  return std::any_of(hosts.begin(), hosts.end(), [](const Host& h) { return h.outcome == Outcome::kGood; });
}

}  // namespace berth::dyndns
