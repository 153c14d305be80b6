// berthd's side of the CNI plugin: carries out a parsed CNI request (ADD, DEL, CHECK, STATUS,
// GC, VERSION) on the network engine — networks made on first use, endpoints keyed by the
// container id, idempotent DEL, drift checks, garbage collection — and answers with the CNI
// result or error. Thread-safe: the engine serializes the changes.
#pragma once

#include <nlohmann/json.hpp>

#include "cni/request.h"
#include "net/engine/network_engine.h"

namespace berth::cni {

struct Reply {
  Error error;                  // error.ok(): `result` is what the plugin prints
  nlohmann::json result;        // ADD: the result; other commands: null (nothing to print)
};

class Service {
 public:
  // `engine` may be null: berthd runs without container networks, and every command but
  // VERSION fails with code 50.
  explicit Service(net::NetworkEngine* engine) : engine_(engine) {}

  Reply Handle(const Request& request);

 private:
  Reply Add(const Request& r);
  Reply Del(const Request& r);
  Reply Check(const Request& r);
  Reply Gc(const Request& r);
  Reply Status(const Request& r);
  // Creates the network from the config's ipam when it does not exist. `created` tells whether
  // this call made it (so a failed ADD can take it back).
  Error EnsureNetwork(const NetConf& conf, bool* created);

  net::NetworkEngine* engine_;
};

}  // namespace berth::cni
