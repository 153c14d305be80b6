// Fuzzes what the DDNS updater reads from untrusted peers: "what is my IP" answers and command
// output (ddns/source.h ParseAddressAnswer, plain text, JSON or HTML), for both families.
// Whatever it accepts must be an address of the family asked for, found in the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ddns/source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace berth;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (auto family : {IpAddress::Family::kV4, IpAddress::Family::kV6}) {
    auto ip = ddns::ParseAddressAnswer(in, family);
    if (!ip.ok()) continue;
    if (ip->family() != family) __builtin_trap();
    // JSON may escape characters, so only plain-text finds are checked against the input.
    if (in.find('{') == std::string_view::npos && in.find('[') == std::string_view::npos &&
        in.find(ip->ToString()) == std::string_view::npos && family == IpAddress::Family::kV4) {
      __builtin_trap();
    }
  }
  return 0;
}
