#include "api/dyndns_routes.h"

#include <memory>

namespace berth::api {
namespace {

class PolicyAuthorizer : public dyndns::Authorizer {
 public:
  explicit PolicyAuthorizer(const auth::AuthPolicy* policy) : policy_(policy) {}
  std::optional<std::string> Authenticate(std::string_view user, std::string_view password) const override {
    if (!policy_) return std::nullopt;
    auto who = policy_->AuthenticateUser(user, password);
    if (!who.ok()) return std::nullopt;
    return who->name;
  }
  bool MayWrite(const std::string& user, const dns::Name& zone, const dns::Name& owner,
                uint16_t type) const override {
    return policy_ && policy_->MayWrite(auth::Principal::User(user), zone, owner, type);
  }

 private:
  const auth::AuthPolicy* policy_;
};

class ServedZones : public dyndns::ZoneAccess {
 public:
  ServedZones(daemon::ZoneService& zones, const dns::ZoneTable& table) : zones_(zones), table_(table) {}
  std::optional<dns::Name> FindZone(const dns::Name& host) const override {
    auto set = table_.Get();
    const dns::Zone* zone = set->FindZone(host.Lowercased().wire());
    if (!zone) return std::nullopt;
    return zone->origin();
  }
  void EditAsync(const dns::Name& zone, daemon::EditFn edit, daemon::EditDone done) override {
    zones_.EditAsync(zone, std::move(edit), std::move(done));
  }

 private:
  daemon::ZoneService& zones_;
  const dns::ZoneTable& table_;
};

// The service with the adapters it refers to, kept alive together.
struct DyndnsDoor {
  DyndnsDoor(daemon::ZoneService& zones, const dns::ZoneTable& table, const auth::AuthPolicy* policy,
             dyndns::Options options)
      : authorizer(policy), served(zones, table), service(std::move(options), served, authorizer) {}
  PolicyAuthorizer authorizer;
  ServedZones served;
  dyndns::Service service;
};

}  // namespace

std::shared_ptr<dyndns::Service> MakeDyndnsService(daemon::ZoneService& zones, const dns::ZoneTable& table,
                                                   const auth::AuthPolicy* auth, dyndns::Options options) {
  auto door = std::make_shared<DyndnsDoor>(zones, table, auth, std::move(options));
  return std::shared_ptr<dyndns::Service>(door, &door->service);  // keeps the adapters alive too
}

Status RegisterDyndnsRoutes(http::Router& router, std::shared_ptr<dyndns::Service> service) {
  auto handler = [service](const http::Request& req) {
    // The router answers HEAD through GET routes; this GET changes DNS, so HEAD must not.
    if (req.method == "HEAD") {
      http::Response r = http::Response::Text(405, "");
      r.headers.emplace_back("Allow", "GET");
      return r;
    }
    return service->Handle(req);
  };
  // /v3/update is dyn.com's newer path for the same protocol; some routers use it.
  for (const char* path : {"/nic/update", "/v3/update"}) RETURN_IF_ERROR(router.Add("GET", path, handler));
  return Status::Ok();
}

}  // namespace berth::api
