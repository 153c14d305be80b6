#include "net/model/json_fields.h"

namespace berth::net {

Status JsonFields::Error(std::string_view field, std::string_view reason) const {
  return InvalidArgument(object_ + " field '" + std::string(field) + "': " + std::string(reason));
}

Result<std::string> JsonFields::String(const nlohmann::json& j, std::string_view field) const {
  if (!j.is_string()) return Error(field, "must be a string");
  return j.get<std::string>();
}

Result<bool> JsonFields::Bool(const nlohmann::json& j, std::string_view field) const {
  if (!j.is_boolean()) return Error(field, "must be true or false");
  return j.get<bool>();
}

Result<IpAddress> JsonFields::Ip(const nlohmann::json& j, std::string_view field,
                                 std::optional<IpAddress::Family> family) const {
  ASSIGN_OR_RETURN(std::string text, String(j, field));
  auto ip = IpAddress::Parse(text);
  if (!ip.ok()) return Error(field, ip.status().message());
  if (family && ip->family() != *family) {
    return Error(field, "'" + text + "' is not an " + (*family == IpAddress::Family::kV4 ? "IPv4" : "IPv6") + " address");
  }
  return *ip;
}

Result<Cidr> JsonFields::Prefix(const nlohmann::json& j, std::string_view field) const {
  ASSIGN_OR_RETURN(std::string text, String(j, field));
  auto c = Cidr::Parse(text);
  if (!c.ok()) return Error(field, c.status().message());
  auto ip = IpAddress::Parse(text.substr(0, text.find('/')));
  if (!ip.ok() || !(*ip == c->network()) || text.find('/') == std::string::npos) {
    return Error(field, "'" + text + "' is not a network prefix (did you mean " + c->ToString() + "?)");
  }
  return *c;
}

}  // namespace berth::net
