#include "cli/network_commands.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace berth::cli {

using nlohmann::json;

struct NetworkCommandArgs {
  // network create
  std::string driver = "bridge", gateway_flag, name;
  std::vector<std::string> subnets, gateways, ip_ranges, aux, options, labels;
  bool internal = false, attachable = false, ipv6 = false;
  // connect / disconnect / run
  std::string target, ip, ip6;
  std::vector<std::string> aliases;
  // run
  std::vector<std::string> networks, ports, expose, dns, command;
  bool publish_all = false, detach = false;
  int stop_timeout = 10;
};

namespace {

int Fail(Env& env, const std::string& msg, int code = 2) {
  env.err << "berth: " << msg << "\n";
  return code;
}

// "k=v" list → object; false (with a message) on an item without '='.
bool KeyValues(Env& env, const std::vector<std::string>& items, const char* flag, json* out) {
  *out = json::object();
  for (const std::string& kv : items) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      env.err << "berth: " << flag << " wants KEY=VALUE, got '" << kv << "'\n";
      return false;
    }
    (*out)[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return true;
}

int NetworkCreate(Env& env, NetworkCommandArgs& a) {
  json body = {{"name", a.name}, {"driver", a.driver}, {"internal", a.internal},
               {"attachable", a.attachable}, {"ipv6", a.ipv6}};
  // --gateway and --ip-range pair with --subnet by position, as in docker network create.
  if (a.gateways.size() > a.subnets.size() || a.ip_ranges.size() > a.subnets.size()) {
    return Fail(env, "each --gateway and --ip-range needs a --subnet");
  }
  json subnets = json::array();
  for (size_t i = 0; i < a.subnets.size(); ++i) {
    json s = {{"subnet", a.subnets[i]}};
    if (i < a.gateways.size()) s["gateway"] = a.gateways[i];
    if (i < a.ip_ranges.size()) s["ip_range"] = a.ip_ranges[i];
    subnets.push_back(s);
  }
  body["subnets"] = subnets;
  json aux, opts, labels;
  if (!KeyValues(env, a.aux, "--aux-address", &aux) || !KeyValues(env, a.options, "-o", &opts) ||
      !KeyValues(env, a.labels, "--label", &labels)) {
    return 2;
  }
  body["aux_addresses"] = aux;
  body["labels"] = labels;
  for (const auto& [key, value] : opts.items()) {
    const std::string v = value.get<std::string>();
    if (key == "mtu" || key == "com.docker.network.driver.mtu") {
      char* end = nullptr;
      long mtu = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0') return Fail(env, "-o mtu wants a number, got '" + v + "'");
      body["mtu"] = mtu;
    } else if (key == "parent") {
      body["parent"] = v;
    } else if (key == "icc" || key == "com.docker.network.bridge.enable_icc") {
      if (v != "true" && v != "false") return Fail(env, "-o icc wants true or false");
      body["icc"] = v == "true";
    } else {
      return Fail(env, "unknown driver option '" + key + "' (mtu, parent, icc)");
    }
  }
  int code = 0;
  auto n = CallJson(env, "POST", "/api/v1/networks", &code, body.dump());
  if (!n) return code;
  env.out << (env.json_output ? n->dump(2) : Str(*n, "Id")) << "\n";
  return 0;
}

int NetworkList(Env& env) {
  int code = 0;
  auto nets = CallJson(env, "GET", "/api/v1/networks", &code);
  if (!nets) return code;
  if (env.json_output) {
    env.out << nets->dump(2) << "\n";
    return 0;
  }
  env.out << fmt::format("{:<14} {:<20} {:<8} {:<20} {}\n", "NETWORK ID", "NAME", "DRIVER", "SUBNET", "ENDPOINTS");
  for (const auto& n : *nets) {
    std::string subnet;
    for (const auto& c : n["IPAM"]["Config"]) subnet += (subnet.empty() ? "" : ",") + Str(c, "Subnet");
    env.out << fmt::format("{:<14} {:<20} {:<8} {:<20} {}\n", Str(n, "Id").substr(0, 12), Str(n, "Name"),
                           Str(n, "Driver"), subnet, n["Containers"].size());
  }
  return 0;
}

int NetworkInspect(Env& env, const std::string& name) {
  int code = 0;
  auto n = CallJson(env, "GET", "/api/v1/networks/" + Encode(name), &code);
  if (!n) return code;
  env.out << json::array({*n}).dump(2) << "\n";
  return 0;
}

int NetworkRemove(Env& env, const std::string& name) {
  int code = 0;
  if (!Call(env, "DELETE", "/api/v1/networks/" + Encode(name), &code)) return code;
  env.out << name << "\n";
  return 0;
}

int NetworkPrune(Env& env) {
  int code = 0;
  auto r = CallJson(env, "POST", "/api/v1/networks/prune", &code, "{}");
  if (!r) return code;
  for (const auto& n : (*r)["removed"]) env.out << n.get<std::string>() << "\n";
  return 0;
}

json AttachJson(const NetworkCommandArgs& a, const std::string& network) {
  json j = {{"network", network}, {"aliases", a.aliases}};
  if (!a.ip.empty()) j["ip"] = a.ip;
  if (!a.ip6.empty()) j["ip6"] = a.ip6;
  return j;
}

int NetworkConnect(Env& env, const std::string& network, NetworkCommandArgs& a) {
  json body = AttachJson(a, network);
  body.erase("network");
  body["target"] = a.target;
  int code = 0;
  auto r = CallJson(env, "POST", "/api/v1/networks/" + Encode(network) + "/connect", &code, body.dump());
  if (!r) return code;
  if (env.json_output) env.out << r->dump(2) << "\n";
  return 0;
}

int NetworkDisconnect(Env& env, const std::string& network, const std::string& target) {
  int code = 0;
  return Call(env, "POST", "/api/v1/networks/" + Encode(network) + "/disconnect", &code,
              json{{"target", target}}.dump())
             ? 0
             : code;
}

std::string PortsText(const json& ep) {
  std::string out;
  for (const auto& p : ep["ports"]) {
    out += (out.empty() ? "" : ", ") + fmt::format("{}:{}->{}/{}", Str(p, "host_ip"), p.value("host_port", 0),
                                                    p.value("container_port", 0), Str(p, "protocol"));
  }
  return out;
}

int Ps(Env& env) {
  int code = 0;
  auto eps = CallJson(env, "GET", "/api/v1/endpoints", &code);
  if (!eps) return code;
  if (env.json_output) {
    env.out << eps->dump(2) << "\n";
    return 0;
  }
  env.out << fmt::format("{:<20} {:>8} {:<40} {}\n", "NAME", "PID", "NETWORKS", "PORTS");
  for (const auto& e : *eps) {
    std::string nets;
    for (const auto& n : e["networks"]) nets += (nets.empty() ? "" : " ") + Str(n, "network") + "=" + Str(n, "ip");
    env.out << fmt::format("{:<20} {:>8} {:<40} {}\n", Str(e, "name"), e.value("pid", 0), nets, PortsText(e));
  }
  return 0;
}

int Port(Env& env, const std::string& name) {
  int code = 0;
  auto e = CallJson(env, "GET", "/api/v1/endpoints/" + Encode(name), &code);
  if (!e) return code;
  for (const auto& p : (*e)["ports"]) {
    env.out << fmt::format("{}/{} -> {}:{}\n", p.value("container_port", 0), Str(p, "protocol"), Str(p, "host_ip"),
                           p.value("host_port", 0));
  }
  return 0;
}

int Stop(Env& env, const std::string& name, int timeout) {
  int code = 0;
  if (!Call(env, "POST", "/api/v1/endpoints/" + Encode(name) + "/stop?t=" + std::to_string(timeout), &code, "{}")) {
    return code;
  }
  env.out << name << "\n";
  return 0;
}

// The child side of run/exec: a private mount namespace (so the bind mounts of resolv.conf
// and hosts are seen by this process tree only), the endpoint's network namespace, exec.
[[noreturn]] void EnterAndExec(const std::string& netns, const std::string& resolv, const std::string& hosts,
                               const std::vector<std::string>& command) {
  auto die = [](const std::string& what) {
    fprintf(stderr, "berth: %s: %s\n", what.c_str(), strerror(errno));
    _exit(127);
  };
  if (!netns.empty()) {
    if (unshare(CLONE_NEWNS) != 0) die("unshare(CLONE_NEWNS)");
    if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) die("making / a slave mount");
    int fd = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) die("entering " + netns);
    close(fd);
    for (auto [src, dst] : {std::pair{resolv, "/etc/resolv.conf"}, std::pair{hosts, "/etc/hosts"}}) {
      if (!src.empty() && access(src.c_str(), R_OK) == 0 && mount(src.c_str(), dst, nullptr, MS_BIND, nullptr) != 0) {
        die(std::string("bind-mounting ") + dst);
      }
    }
  }
  std::vector<char*> argv;
  for (const auto& s : command) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  die("running " + command[0]);
}

pid_t g_child = 0;
void Forward(int sig) {
  if (g_child > 0) kill(g_child, sig);
}

// Waits for the child, forwarding SIGINT/SIGTERM/SIGHUP to it; returns its exit code the
// way shells do (128 + signal for a killed child).
int WaitChild(pid_t child) {
  g_child = child;
  struct sigaction sa {};
  sa.sa_handler = Forward;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return 1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

int Exec(Env& env, const std::string& name, const std::vector<std::string>& command) {
  if (command.empty()) return Fail(env, "exec needs a command after --");
  int code = 0;
  auto e = CallJson(env, "GET", "/api/v1/endpoints/" + Encode(name), &code);
  if (!e) return code;
  pid_t child = fork();
  if (child < 0) return Fail(env, std::string("fork: ") + strerror(errno), 1);
  if (child == 0) EnterAndExec(Str(*e, "netns"), Str(*e, "resolv_conf"), Str(*e, "hosts"), command);
  return WaitChild(child);
}

int Run(Env& env, NetworkCommandArgs& a) {
  if (a.command.empty()) return Fail(env, "run needs a command after --");
  std::vector<std::string> nets = a.networks.empty() ? std::vector<std::string>{"bridge"} : a.networks;
  bool host_mode = nets.size() == 1 && nets[0] == "host";
  bool none_mode = nets.size() == 1 && nets[0] == "none";
  std::string container_mode = nets.size() == 1 && nets[0].rfind("container:", 0) == 0 ? nets[0].substr(10) : "";
  for (const auto& n : nets) {
    if (nets.size() > 1 && (n == "host" || n == "none" || n.rfind("container:", 0) == 0)) {
      return Fail(env, "--network " + n + " cannot be combined with other networks");
    }
  }
  if ((host_mode || none_mode || !container_mode.empty()) && (!a.ports.empty() || a.publish_all)) {
    return Fail(env, "-p/-P need a network (not --network " + nets[0] + ")");
  }
  if ((!a.ip.empty() || !a.ip6.empty()) && nets.size() != 1) return Fail(env, "--ip/--ip6 need exactly one --network");
  if (host_mode) {
    pid_t child = fork();
    if (child == 0) EnterAndExec("", "", "", a.command);
    return WaitChild(child);
  }
  if (!container_mode.empty()) return Exec(env, container_mode, a.command);

  std::string name = a.name.empty() ? "run-" + std::to_string(getpid()) : a.name;
  json body = {{"name", name}, {"networks", json::array()}, {"ports", json::array()}, {"dns", a.dns}};
  if (!none_mode) {
    for (const auto& n : nets) body["networks"].push_back(AttachJson(a, n));
  }
  for (const auto& p : a.ports) body["ports"].push_back(p);
  if (a.publish_all) {
    for (const auto& p : a.expose) body["ports"].push_back(p);  // CONTAINERPORT[/proto]: random host port
  }
  int code = 0;
  auto e = CallJson(env, "POST", "/api/v1/endpoints", &code, body.dump());
  if (!e) return code;
  pid_t child = fork();
  if (child < 0) {
    (void)Call(env, "DELETE", "/api/v1/endpoints/" + Encode(name), &code);
    return Fail(env, std::string("fork: ") + strerror(errno), 1);
  }
  if (child == 0) {
    if (a.detach) {
      // Detached: no terminal; output goes to the endpoint's directory, next to resolv.conf.
      setsid();
      std::string resolv = Str(*e, "resolv_conf");
      std::string log = resolv.substr(0, resolv.rfind('/') + 1) + "output.log";
      int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
      int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
      if (in >= 0) dup2(in, 0);
      if (out >= 0) {
        dup2(out, 1);
        dup2(out, 2);
      }
    }
    EnterAndExec(Str(*e, "netns"), Str(*e, "resolv_conf"), Str(*e, "hosts"), a.command);
  }
  // From here the daemon removes the endpoint when the command exits, even if we are killed.
  int pid_code = 0;
  bool watched = Call(env, "PUT", "/api/v1/endpoints/" + Encode(name) + "/pid", &pid_code,
                      json{{"pid", child}}.dump()).has_value();
  if (a.detach) {
    if (!watched) {
      (void)Call(env, "DELETE", "/api/v1/endpoints/" + Encode(name), &code);
      return 1;
    }
    env.out << name << "\n";
    return 0;
  }
  int status = WaitChild(child);
  int ignored = 0;
  std::ostringstream quiet;
  Env silent{env.api, env.token, false, quiet, quiet};
  (void)Call(silent, "DELETE", "/api/v1/endpoints/" + Encode(name), &ignored);  // 404: the daemon was first
  return status;
}

}  // namespace

std::vector<std::string>& network_args_command(NetworkCommandArgs& args) { return args.command; }

std::shared_ptr<NetworkCommandArgs> AddNetworkCommands(CLI::App& app, Env& env, std::function<int()>& action) {
  auto a = std::make_shared<NetworkCommandArgs>();
  NetworkCommandArgs& args = *a;

  auto* network = app.add_subcommand("network", "container networks (bridge, macvlan)");
  network->require_subcommand(1);
  auto* create = network->add_subcommand("create", "create a network");
  create->add_option("NAME", args.name, "network name")->required();
  create->add_option("-d,--driver", args.driver, "bridge or macvlan")->capture_default_str();
  create->add_option("--subnet", args.subnets, "subnet in CIDR form (repeatable: one IPv4, one IPv6)");
  create->add_option("--gateway", args.gateways, "gateway of the matching --subnet");
  create->add_option("--ip-range", args.ip_ranges, "allocate container addresses from this part of the matching --subnet");
  create->add_option("--aux-address", args.aux, "reserve NAME=IP (repeatable)");
  create->add_flag("--internal", args.internal, "no access to or from outside the network");
  create->add_flag("--attachable", args.attachable, "recorded for Docker compatibility");
  create->add_flag("--ipv6", args.ipv6, "dual stack (an IPv6 subnet is picked when none is given)");
  create->add_option("-o,--opt", args.options, "driver option: mtu=N, parent=IFACE (macvlan), icc=false");
  create->add_option("--label", args.labels, "KEY=VALUE (repeatable)");
  create->callback([&env, &action, &args] { action = [&env, &args] { return NetworkCreate(env, args); }; });
  network->add_subcommand("ls", "list networks")->callback([&env, &action] { action = [&env] { return NetworkList(env); }; });
  auto* inspect = network->add_subcommand("inspect", "show a network as JSON");
  inspect->add_option("NAME", args.name, "network")->required();
  inspect->callback([&env, &action, &args] { action = [&env, &args] { return NetworkInspect(env, args.name); }; });
  auto* rm = network->add_subcommand("rm", "remove a network without endpoints");
  rm->add_option("NAME", args.name, "network")->required();
  rm->callback([&env, &action, &args] { action = [&env, &args] { return NetworkRemove(env, args.name); }; });
  network->add_subcommand("prune", "remove every network without endpoints")->callback([&env, &action] {
    action = [&env] { return NetworkPrune(env); };
  });
  auto* connect = network->add_subcommand("connect", "attach an endpoint, a named netns or /proc/PID/ns/net");
  connect->add_option("NETWORK", args.name, "network")->required();
  connect->add_option("TARGET", args.target, "endpoint name, netns name or namespace path")->required();
  connect->add_option("--ip", args.ip, "IPv4 address");
  connect->add_option("--ip6", args.ip6, "IPv6 address");
  connect->add_option("--alias", args.aliases, "extra DNS name on this network (repeatable)");
  connect->callback([&env, &action, &args] { action = [&env, &args] { return NetworkConnect(env, args.name, args); }; });
  auto* disconnect = network->add_subcommand("disconnect", "detach an endpoint from a network");
  disconnect->add_option("NETWORK", args.name, "network")->required();
  disconnect->add_option("TARGET", args.target, "endpoint name")->required();
  disconnect->callback([&env, &action, &args] {
    action = [&env, &args] { return NetworkDisconnect(env, args.name, args.target); };
  });

  auto* run = app.add_subcommand("run", "run a command in a new network namespace attached to networks");
  run->add_option("--name", args.name, "endpoint name (default run-PID)");
  run->add_option("--network,--net", args.networks, "network to join (repeatable; host, none, container:NAME)");
  run->add_option("--ip", args.ip, "IPv4 address on the (single) network");
  run->add_option("--ip6", args.ip6, "IPv6 address on the (single) network");
  run->add_option("--alias", args.aliases, "extra DNS name (repeatable)");
  run->add_option("-p,--publish", args.ports, "[HOSTIP:][HOSTPORT:]CONTAINERPORT[/PROTO] (repeatable)");
  run->add_flag("-P,--publish-all", args.publish_all, "publish every --expose port on a random host port");
  run->add_option("--expose", args.expose, "CONTAINERPORT[/PROTO] that -P publishes (repeatable)");
  run->add_option("--dns", args.dns, "nameserver for the command's resolv.conf (repeatable)");
  run->add_flag("-d,--detach", args.detach, "run in the background and print the name");
  run->add_option("COMMAND", args.command, "command and arguments (after --)");
  run->callback([&env, &action, &args] { action = [&env, &args] { return Run(env, args); }; });
  app.add_subcommand("ps", "list endpoints")->callback([&env, &action] { action = [&env] { return Ps(env); }; });
  auto* stop = app.add_subcommand("stop", "stop an endpoint's process (SIGTERM, then SIGKILL) and remove it");
  stop->add_option("NAME", args.name, "endpoint")->required();
  stop->add_option("-t,--time", args.stop_timeout, "seconds to wait before SIGKILL")->capture_default_str();
  stop->callback([&env, &action, &args] { action = [&env, &args] { return Stop(env, args.name, args.stop_timeout); }; });
  auto* exec = app.add_subcommand("exec", "run a command inside an endpoint's namespace");
  exec->add_option("NAME", args.name, "endpoint")->required();
  exec->add_option("COMMAND", args.command, "command and arguments (after --)");
  exec->callback([&env, &action, &args] { action = [&env, &args] { return Exec(env, args.name, args.command); }; });
  auto* port = app.add_subcommand("port", "list an endpoint's published ports");
  port->add_option("NAME", args.name, "endpoint")->required();
  port->callback([&env, &action, &args] { action = [&env, &args] { return Port(env, args.name); }; });
  return a;
}

}  // namespace berth::cli
