// Typed reads of one JSON object's fields for the API parsers of src/net, with errors that
// name the object and the field ("network field 'subnets[0].gateway': ..."). Pure functions
// over values: thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/net_address.h"
#include "core/status.h"

namespace berth::net {

class JsonFields {
 public:
  // `object` starts every message: "network", "endpoint".
  explicit JsonFields(std::string_view object) : object_(object) {}

  // kInvalidArgument "<object> field '<field>': <reason>".
  Status Error(std::string_view field, std::string_view reason) const;
  Result<std::string> String(const nlohmann::json& j, std::string_view field) const;
  Result<bool> Bool(const nlohmann::json& j, std::string_view field) const;
  // An address, of `family` when given.
  Result<IpAddress> Ip(const nlohmann::json& j, std::string_view field,
                       std::optional<IpAddress::Family> family = {}) const;
  // A prefix whose host bits are zero: "10.1.2.3/24" is refused rather than silently becoming
  // 10.1.2.0/24, since the operator probably meant something else.
  Result<Cidr> Prefix(const nlohmann::json& j, std::string_view field) const;

 private:
  std::string object_;
};

}  // namespace berth::net
