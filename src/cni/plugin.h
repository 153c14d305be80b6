// The berth-cni plugin's whole run: parse the CNI request, answer VERSION itself, hand every
// other command to berthd over its unix socket (POST /api/v1/cni) and print what the spec
// wants on stdout — the result, nothing, or the error object — returning the exit code.
// Single-threaded (one run per process).
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <string_view>

namespace berth::cni {

// `env`: the process environment (only CNI_* keys matter); `config`: all of stdin.
int RunPlugin(const std::map<std::string, std::string>& env, std::string_view config, std::ostream& out);

}  // namespace berth::cni
