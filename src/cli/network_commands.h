// `berth network ...` and the endpoint commands (`berth run`, `ps`, `stop`, `exec`, `port`):
// registered on the CLI app, executed against berthd's /api/v1/networks and /api/v1/endpoints.
// `run` and `exec` start the command themselves, inside the endpoint's network namespace and a
// private mount namespace holding its resolv.conf and hosts. Single-threaded, like the CLI.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/api_call.h"

namespace berth::cli {

struct NetworkCommandArgs;  // the parsed flags; owned by the returned handle

// Adds the commands to `app`; a chosen command stores its runner in `action`. The returned
// handle owns the flag storage and must outlive app.parse() and `action`.
std::shared_ptr<NetworkCommandArgs> AddNetworkCommands(CLI::App& app, Env& env, std::function<int()>& action);
// The command of `run`/`exec` (the words after "--", which the caller keeps away from CLI11).
std::vector<std::string>& network_args_command(NetworkCommandArgs& args);

}  // namespace berth::cli
