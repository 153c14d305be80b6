// The dyndns2 door (`GET /nic/update?hostname=h1,h2&myip=ADDR`, as ddclient, inadyn and home
// routers speak it): parses the request, checks credentials and scopes through an Authorizer,
// rate-limits, and makes each host's A/AAAA RRset hold exactly the given address through a
// ZoneAccess (daemon::ZoneService in berthd), answering one dyndns2 word per host.
// Thread-safe: Service::Handle may run on any number of HTTP threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/net_address.h"
#include "core/status.h"
#include "daemon/zone_service.h"
#include "dns/wire/name.h"
#include "core/published.h"
#include "dyndns/options.h"
#include "dyndns/rate_limiter.h"
#include "http/message.h"

namespace berth::dyndns {

// A parsed update: the host names as sent (validated one by one later, so each gets its own
// answer) and the address of each family to publish.
struct UpdateRequest {
  std::vector<std::string> hosts;
  std::optional<IpAddress> v4;
  std::optional<IpAddress> v6;
};

// The client's address: the TCP peer (IPv4-mapped addresses unmapped) or, when the peer is a
// trusted proxy, the rightmost X-Forwarded-For entry that is not one. nullopt for a unix-socket
// peer. kInvalidArgument for a malformed X-Forwarded-For from a trusted proxy.
Result<std::optional<IpAddress>> ClientAddress(std::string_view peer, std::string_view forwarded_for,
                                               const std::vector<Cidr>& trusted_proxies);

// Parses the query of an update: `hostname` (comma-separated), `myip` (one address, or
// "v4,v6"), `myipv6`; when neither address parameter is given the client's address is used, in
// its own family. Other parameters (system, wildcard, mx, backmx, offline, ...) are ignored.
// kInvalidArgument: a repeated parameter, a malformed or non-unicast address, two addresses
// of one family, an address of the wrong family in myipv6, no address and no client address.
Result<UpdateRequest> ParseUpdateQuery(const std::multimap<std::string, std::string>& query,
                                       const std::optional<IpAddress>& client);

// A host name as dyndns2 clients send it ("h1.example.com", final dot optional): at least two
// letter-digit-hyphen labels; returned lower-cased and absolute. kInvalidArgument otherwise.
Result<dns::Name> ParseHostname(std::string_view text);

// Who may update what. berthd implements it over the auth module's users and scopes.
class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // The user's id when `password` is right for `user`, else nullopt (compare secrets in
  // constant time).
  virtual std::optional<std::string> Authenticate(std::string_view user,
                                                  std::string_view password) const = 0;
  // True when `user` may replace the `type` RRset at `owner` in `zone`.
  virtual bool MayWrite(const std::string& user, const dns::Name& zone, const dns::Name& owner,
                        uint16_t type) const = 0;
};

// The zones the door writes to. berthd implements it over ZoneTable + ZoneService.
class ZoneAccess {
 public:
  virtual ~ZoneAccess() = default;
  // The origin of the served zone holding `host` (longest suffix), or nullopt.
  virtual std::optional<dns::Name> FindZone(const dns::Name& host) const = 0;
  // daemon::ZoneService::EditAsync: runs `edit` on the zone's content, commits, then `done`.
  virtual void EditAsync(const dns::Name& zone, daemon::EditFn edit, daemon::EditDone done) = 0;
};

class Service {
 public:
  // `zones` and `auth` must outlive the service.
  Service(Options options, ZoneAccess& zones, const Authorizer& auth);

  // Answers one /nic/update (or /v3/update) request: 200 text/plain with one word per host
  // (`good ADDR`, `nochg ADDR`, `notfqdn`, `nohost`, `dnserr`, `911`), or one word for the
  // whole request (`numhost`, `badsys`, `abuse` per host); 401 `badauth` with a Basic
  // challenge for missing or wrong credentials; 400 `badrequest: reason` for a malformed query.
  http::Response Handle(const http::Request& request);
  // Replaces the settings (berthd's SIGHUP); requests already running finish under the old
  // ones. Users keep what is left in their rate-limit buckets, capped at the new bursts. The
  // clock stays the one given at construction.
  void Reconfigure(Options options);
  std::shared_ptr<const Options> options() const { return options_.Get(); }

 private:
  enum class Outcome { kPending, kGood, kNochg, kNotFqdn, kNoHost, kDnsErr, kInternal };
  struct Host;
  Clock::time_point Now() const;
  // Fills each host's outcome; true when any host changed.
  bool Apply(const Options& options, const std::string& user, const UpdateRequest& update,
             std::vector<Host>& hosts);

  Published<Options> options_;
  const std::function<Clock::time_point()> clock_;
  ZoneAccess& zones_;
  const Authorizer& auth_;
  RateLimiter changes_;
  RateLimiter requests_;
  RateLimiter bad_auth_;
};

}  // namespace berth::dyndns
