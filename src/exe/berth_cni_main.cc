// berth-cni: the CNI plugin that gives containers of any CNI runtime (Podman, containerd,
// Kubernetes) berth networks. The work is berthd's; this process only carries the request.
#include <unistd.h>

#include <iostream>
#include <iterator>
#include <map>
#include <string>

#include "cni/plugin.h"

extern char** environ;

int main() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string::npos && kv.compare(0, 4, "CNI_") == 0) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  // VERSION may come without stdin; everything else carries the network configuration.
  std::string config;
  if (!isatty(STDIN_FILENO)) config.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  return berth::cni::RunPlugin(env, config, std::cout);
}
