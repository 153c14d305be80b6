// Fuzzes the dyndns2 request parsers: the input is "X-Forwarded-For value\nrequest target".
// Both are parsed as the HTTP layer and the service would (ParseTarget, ClientAddress from a
// trusted proxy, ParseUpdateQuery, ParseHostname per host); whatever they accept must hold.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dyndns/dyndns.h"
#include "http/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace berth;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view xff = nl == in.npos ? std::string_view() : in.substr(0, nl);
  std::string_view target = nl == in.npos ? in : in.substr(nl + 1);

  static const std::vector<Cidr> proxies = {*Cidr::Parse("127.0.0.0/8"), *Cidr::Parse("::1/128")};
  auto client = dyndns::ClientAddress("127.0.0.1", xff, proxies);
  if (!client.ok()) return 0;
  if (!*client) __builtin_trap();  // a TCP peer always has an address

  auto t = http::ParseTarget(target);
  if (!t.ok()) return 0;
  auto update = dyndns::ParseUpdateQuery(t->query, *client);
  if (!update.ok()) return 0;
  if (!update->v4 && !update->v6) __builtin_trap();
  if (update->v4 && !update->v4->is_v4()) __builtin_trap();
  if (update->v6 && update->v6->is_v4()) __builtin_trap();
  for (const std::string& h : update->hosts) {
    auto name = dyndns::ParseHostname(h);
    if (!name.ok()) continue;
    if (name->LabelCount() < 2 || !(name->Lowercased().wire() == name->wire())) __builtin_trap();
    auto again = dyndns::ParseHostname(name->ToText());
    if (!again.ok() || !(*again == *name)) __builtin_trap();
  }
  return 0;
}
