#include "ddns/source.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "ddns/fetch.h"

extern char** environ;

namespace berth::ddns {
namespace {

constexpr size_t kMaxOutput = 64 * 1024;

std::string_view FamilyName(IpAddress::Family f) { return f == IpAddress::Family::kV4 ? "IPv4" : "IPv6"; }

bool InPrefix(const IpAddress& ip, std::string_view cidr) { return Cidr::Parse(cidr).value().Contains(ip); }

// The first string in `j` (depth-first, at most 8 levels) that is an address of `family`.
std::optional<IpAddress> FindInJson(const nlohmann::json& j, IpAddress::Family family, int depth) {
  if (depth > 8) return std::nullopt;
  if (j.is_string()) {
    auto ip = IpAddress::Parse(j.get_ref<const std::string&>());
    if (ip.ok() && ip->family() == family) return *ip;
    return std::nullopt;
  }
  if (j.is_object() || j.is_array()) {
    for (const auto& item : j) {
      if (auto found = FindInJson(item, family, depth + 1)) return found;
    }
  }
  return std::nullopt;
}

}  // namespace

bool IsGlobalUnicast(const IpAddress& ip, bool allow_private) {
  if (ip.is_v4()) {
    for (auto bad : {"0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4"})
      if (InPrefix(ip, bad)) return false;
    if (!allow_private)
      for (auto priv : {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"})
        if (InPrefix(ip, priv)) return false;
    return true;
  }
  for (auto bad : {"::/128", "::1/128", "fe80::/10", "ff00::/8", "::ffff:0:0/96"})
    if (InPrefix(ip, bad)) return false;
  if (!allow_private && InPrefix(ip, "fc00::/7")) return false;
  return true;
}

Result<IpAddress> PickInterfaceAddress(const std::vector<InterfaceAddress>& addresses, const SourceConfig& rule,
                                       IpAddress::Family family) {
  std::optional<std::regex> re;
  if (!rule.match.empty()) re.emplace(rule.match, std::regex::extended);  // validated by the config parser
  uint32_t seen = 0;
  for (const auto& a : addresses) {
    if (a.address.family() != family) continue;
    if (!rule.interface.empty() && a.interface != rule.interface) continue;
    if (a.temporary || a.deprecated || !a.universe_scope) continue;
    if (!IsGlobalUnicast(a.address, rule.allow_private)) continue;
    if (re && !std::regex_search(a.address.ToString(), *re)) continue;
    if (seen++ == rule.index) return a.address;
  }
  std::string where = rule.interface.empty() ? "any interface" : "interface " + rule.interface;
  return NotFound("no global " + std::string(FamilyName(family)) + " address on " + where +
                  (rule.match.empty() ? "" : " matching '" + rule.match + "'") +
                  (rule.index ? " at index " + std::to_string(rule.index) : ""));
}

Result<IpAddress> ParseAddressAnswer(std::string_view text, IpAddress::Family family) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  };
  std::string_view body = trim(text);
  if (auto ip = IpAddress::Parse(body); ip.ok() && ip->family() == family) return *ip;
  if (!body.empty() && (body.front() == '{' || body.front() == '[')) {
    nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded()) {
      if (auto ip = FindInJson(j, family, 0)) return *ip;
    }
  }
  // Words made of address characters, e.g. "Current IP Address: 198.51.100.7</body>".
  size_t i = 0;
  while (i < body.size()) {
    auto is_addr_char = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == '.' || c == ':'; };
    while (i < body.size() && !is_addr_char(body[i])) ++i;
    size_t start = i;
    while (i < body.size() && is_addr_char(body[i])) ++i;
    if (i - start >= 2 && i - start <= 45) {
      auto ip = IpAddress::Parse(body.substr(start, i - start));
      if (ip.ok() && ip->family() == family) return *ip;
    }
  }
  return NotFound("no " + std::string(FamilyName(family)) + " address in the answer");
}

Result<std::string> RunCommand(const std::string& cmd, std::chrono::milliseconds timeout) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return IoError("pipe", errno);
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return IoError("pipe", errno);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Own process group, so a timeout kills the shell and whatever it started.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
    return IoError("starting command", rc);
  }
  std::string stdout_text, stderr_text;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int n = poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) break;
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t got = read(fds[k].fd, buf, sizeof buf);
      if (got <= 0) {
        fds[k].fd = -1;
        --open_fds;
        continue;
      }
      std::string& dst = k == 0 ? stdout_text : stderr_text;
      if (dst.size() < kMaxOutput) dst.append(buf, std::min<size_t>(static_cast<size_t>(got), kMaxOutput - dst.size()));
    }
  }
  close(out[0]);
  close(err[0]);
  if (timed_out) kill(-pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return DeadlineExceeded("command did not finish within " + std::to_string(timeout.count()) + " ms");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string first = stderr_text.substr(0, stderr_text.find('\n'));
    return Unavailable("command failed (" +
                       (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                          : "signal " + std::to_string(WTERMSIG(status))) +
                       ")" + (first.empty() ? "" : ": " + first));
  }
  return stdout_text;
}

namespace {

class CommandSource : public AddressSource {
 public:
  CommandSource(SourceConfig rule, IpAddress::Family family) : rule_(std::move(rule)), family_(family) {}
  Result<IpAddress> Detect() override {
    auto out = RunCommand(rule_.cmd, rule_.timeout);
    if (!out.ok()) return out.status().WithContext("address command");
    auto ip = ParseAddressAnswer(*out, family_);
    if (!ip.ok()) return ip.status().WithContext("address command output");
    return ip;
  }

 private:
  SourceConfig rule_;
  IpAddress::Family family_;
};

class UrlSource : public AddressSource {
 public:
  UrlSource(SourceConfig rule, IpAddress::Family family) : rule_(std::move(rule)), family_(family) {}
  // Each URL in order; the first usable answer wins, and all failures are reported together.
  Result<IpAddress> Detect() override {
    std::string errors;
    for (const auto& url : rule_.urls) {
      FetchRequest req;
      req.url = url;
      req.timeout = rule_.timeout;
      req.headers = {{"Accept", "text/plain, application/json"}};
      auto r = Fetch(req);
      Status why;
      if (!r.ok()) {
        why = r.status();
      } else if (r->status != 200) {
        why = Unavailable(RedactUrl(url) + " answered HTTP " + std::to_string(r->status));
      } else {
        auto ip = ParseAddressAnswer(r->body, family_);
        if (ip.ok() && IsGlobalUnicast(*ip, true)) return *ip;
        why = ip.ok() ? Unavailable(RedactUrl(url) + " answered a non-global address " + ip->ToString())
                      : ip.status().WithContext(RedactUrl(url));
      }
      spdlog::debug("ddns: address URL failed: {}", why.message());
      errors += (errors.empty() ? "" : "; ") + why.message();
    }
    return Unavailable("no address URL answered: " + errors);
  }

 private:
  SourceConfig rule_;
  IpAddress::Family family_;
};

class InterfaceSource : public AddressSource {
 public:
  InterfaceSource(SourceConfig rule, IpAddress::Family family, InterfaceAddresses list)
      : rule_(std::move(rule)), family_(family), list_(std::move(list)) {}
  Result<IpAddress> Detect() override {
    if (!list_) return Unavailable("interface addresses cannot be read on this build");
    ASSIGN_OR_RETURN(auto addresses, list_());
    return PickInterfaceAddress(addresses, rule_, family_);
  }
  bool follows_interfaces() const override { return true; }

 private:
  SourceConfig rule_;
  IpAddress::Family family_;
  InterfaceAddresses list_;
};

}  // namespace

std::unique_ptr<AddressSource> MakeSource(const SourceConfig& rule, IpAddress::Family family,
                                          InterfaceAddresses interfaces) {
  switch (rule.kind) {
    case SourceConfig::Kind::kCmd: return std::make_unique<CommandSource>(rule, family);
    case SourceConfig::Kind::kUrls: return std::make_unique<UrlSource>(rule, family);
    case SourceConfig::Kind::kInterface: return std::make_unique<InterfaceSource>(rule, family, std::move(interfaces));
  }
  return nullptr;
}

}  // namespace berth::ddns
