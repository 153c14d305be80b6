// The `berth` command line: parses arguments and talks to berthd's HTTP API (a URL or the
// unix socket, from --api or BERTH_API). Single-threaded; one call per process.
#pragma once

#include <ostream>

namespace berth::cli {

// Runs one command and returns the process exit code: 0 success, 1 API or I/O error,
// 2 usage error, 3 a DNS query answered with a non-NOERROR rcode.
int Run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace berth::cli
