#include "cli/cli.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/api_call.h"
#include "cli/network_commands.h"
#include "http/client.h"

namespace berth::cli {
namespace {

using nlohmann::json;

int ZoneList(Env& env) {
  int code = 0;
  auto zones = CallJson(env, "GET", "/api/v1/zones", &code);
  if (!zones) return code;
  if (env.json_output) {
    env.out << zones->dump(2) << "\n";
    return 0;
  }
  env.out << fmt::format("{:<32} {:<6} {:>12} {:>9}  {}\n", "ZONE", "SOURCE", "SERIAL", "RECORDS", "STATUS");
  for (const auto& z : *zones) {
    std::string status = z.value("serving", false) ? "serving" : "not serving";
    if (!Str(z, "last_error").empty()) status += " (last load failed: " + Str(z, "last_error") + ")";
    env.out << fmt::format("{:<32} {:<6} {:>12} {:>9}  {}\n", Str(z, "name"), Str(z, "source"),
                           z.value("serial", 0u), z.value("records", 0u), status);
  }
  return 0;
}

int ZoneShow(Env& env, const std::string& zone) {
  int code = 0;
  auto z = CallJson(env, "GET", "/api/v1/zones/" + Encode(zone), &code);
  if (!z) return code;
  if (env.json_output) {
    env.out << z->dump(2) << "\n";
    return 0;
  }
  env.out << fmt::format("; zone {} (source {}{}), serial {}\n", Str(*z, "name"), Str(*z, "source"),
                         Str(*z, "file").empty() ? "" : " " + Str(*z, "file"), z->value("serial", 0u));
  for (const auto& set : (*z)["rrsets"])
    for (const auto& rec : set["records"])
      env.out << fmt::format("{}\t{}\tIN\t{}\t{}\n", Str(set, "name"), set.value("ttl", 0u), Str(set, "type"),
                             Str(rec, "content"));
  return 0;
}

int ZoneImport(Env& env, const std::string& zone, const std::string& file) {
  std::string text;
  if (file == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    text = ss.str();
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      env.err << "berth: cannot read " << file << "\n";
      return 1;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  int code = 0;
  auto body = Call(env, "PUT", "/api/v1/zones/" + Encode(zone) + "/zonefile", &code, text, "text/dns");
  if (!body) return code;
  auto z = json::parse(*body, nullptr, false);
  if (env.json_output || z.is_discarded()) {
    env.out << *body << "\n";
  } else {
    env.out << fmt::format("imported {}: serial {}, {} records\n", Str(z, "name"), z.value("serial", 0u),
                           z.value("records", 0u));
  }
  return 0;
}

int ZoneExport(Env& env, const std::string& zone) {
  int code = 0;
  auto body = Call(env, "GET", "/api/v1/zones/" + Encode(zone) + "/export", &code);
  if (!body) return code;
  env.out << *body;
  return 0;
}

// A record name as typed: "@" is the apex, a name without a final dot is relative to the zone.
std::string OwnerName(const std::string& zone, const std::string& name) {
  std::string z = zone.empty() || zone.back() == '.' ? zone : zone + ".";
  if (name == "@" || name.empty()) return z;
  if (name.back() == '.') return name;
  return name + "." + z;
}

int RecordList(Env& env, const std::string& zone) {
  int code = 0;
  auto z = CallJson(env, "GET", "/api/v1/zones/" + Encode(zone), &code);
  if (!z) return code;
  if (env.json_output) {
    env.out << (*z)["rrsets"].dump(2) << "\n";
    return 0;
  }
  env.out << fmt::format("{:<40} {:<6} {:>7}  {}\n", "NAME", "TYPE", "TTL", "CONTENT");
  for (const auto& set : (*z)["rrsets"])
    for (const auto& rec : set["records"])
      env.out << fmt::format("{:<40} {:<6} {:>7}  {}\n", Str(set, "name"), Str(set, "type"), set.value("ttl", 0u),
                             Str(rec, "content"));
  return 0;
}

// One PATCH with one rrset: REPLACE with `values`, or DELETE when `values` is null.
int RecordChange(Env& env, const std::string& zone, const std::string& name, const std::string& type,
                 const std::vector<std::string>* values, uint32_t ttl) {
  std::string upper = type;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  json rrset = {{"name", OwnerName(zone, name)}, {"type", upper}, {"changetype", values ? "REPLACE" : "DELETE"}};
  if (values) {
    rrset["ttl"] = ttl;
    rrset["records"] = json::array();
    for (const auto& v : *values) rrset["records"].push_back({{"content", v}, {"disabled", false}});
  }
  int code = 0;
  json body = {{"rrsets", json::array({rrset})}};
  if (!Call(env, "PATCH", "/api/v1/zones/" + Encode(zone), &code, body.dump())) return code;
  env.out << fmt::format("{} {} {}\n", values ? "set" : "removed", Str(rrset, "name"), upper);
  return 0;
}

int ZoneCreate(Env& env, const std::string& zone, const std::vector<std::string>& nameservers) {
  json body = {{"name", zone.empty() || zone.back() == '.' ? zone : zone + "."}, {"kind", "Native"},
               {"nameservers", nameservers}};
  for (auto& ns : body["nameservers"])
    if (std::string n = ns.get<std::string>(); !n.empty() && n.back() != '.') ns = n + ".";
  int code = 0;
  auto z = CallJson(env, "POST", "/api/v1/zones", &code, body.dump());
  if (!z) return code;
  if (env.json_output) {
    env.out << z->dump(2) << "\n";
  } else {
    env.out << fmt::format("created {}: serial {}\n", Str(*z, "name"), z->value("serial", 0u));
  }
  return 0;
}

int ZoneRemove(Env& env, const std::string& zone) {
  int code = 0;
  if (!Call(env, "DELETE", "/api/v1/zones/" + Encode(zone), &code)) return code;
  env.out << "deleted " << zone << "\n";
  return 0;
}

// One DDNS job per line (or block): what it follows, its address and how the last run went.
void PrintDdnsJob(Env& env, const json& j) {
  auto text = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string("-"); };
  std::string names;
  if (j.contains("names") && j["names"].is_array())
    for (const auto& n : j["names"]) names += (names.empty() ? "" : ",") + n.get<std::string>();
  env.out << fmt::format("{:<20} {:<5} {:<18} {:<40} {:<11} {}\n", text("job"), text("type"), text("provider"), text("address"),
                         j.value("consecutive_failures", 0) ? "FAILING" : "ok", names);
  env.out << fmt::format("    source {}, last run {}, last push {}, next run {}\n", text("source"), text("last_run"),
                         text("last_push"), text("next_run"));
  if (!text("last_result").empty() && text("last_result") != "-") env.out << "    result: " << text("last_result") << "\n";
  if (text("last_error") != "-") env.out << "    error: " << text("last_error") << "\n";
}

int DdnsStatus(Env& env) {
  int code = 0;
  auto r = CallJson(env, "GET", "/api/v1/ddns", &code);
  if (!r) return code;
  if (env.json_output) {
    env.out << r->dump(2) << "\n";
    return 0;
  }
  env.out << fmt::format("{:<20} {:<5} {:<18} {:<40} {:<11} {}\n", "JOB", "TYPE", "PROVIDER", "ADDRESS", "STATUS", "NAMES");
  for (const auto& j : (*r)["jobs"]) PrintDdnsJob(env, j);
  return 0;
}

int DdnsRun(Env& env, const std::string& job) {
  int code = 0;
  auto r = CallJson(env, "POST", "/api/v1/ddns/" + Encode(job) + "/run", &code);
  if (!r) return code;
  if (env.json_output) {
    env.out << r->dump(2) << "\n";
    return 0;
  }
  PrintDdnsJob(env, *r);
  return r->value("consecutive_failures", 0) ? 1 : 0;
}

int Query(Env& env, const std::string& name, const std::string& type) {
  int code = 0;
  auto r = CallJson(env, "GET", "/api/v1/query?name=" + Encode(name) + "&type=" + Encode(type), &code);
  if (!r) return code;
  if (env.json_output) {
    env.out << r->dump(2) << "\n";
    return 0;
  }
  std::string flags;
  for (const auto& f : (*r)["flags"]) flags += (flags.empty() ? "" : " ") + f.get<std::string>();
  env.out << fmt::format(";; {} {}: status {}, flags: {}\n", Str(*r, "name"), Str(*r, "type"), Str(*r, "rcode"), flags);
  for (const char* section : {"answer", "authority", "additional"}) {
    if ((*r)[section].empty()) continue;
    env.out << fmt::format("\n;; {} SECTION:\n", section);
    for (const auto& rec : (*r)[section])
      env.out << fmt::format("{}\t{}\tIN\t{}\t{}\n", Str(rec, "name"), rec.value("ttl", 0u), Str(rec, "type"),
                             Str(rec, "content"));
  }
  return Str(*r, "rcode") == "NOERROR" ? 0 : 3;  // like `host`: a negative answer is not success
}

}  // namespace

int Run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"berth: the command line of berthd (networks, names, addresses)", "berth"};
  app.require_subcommand(1);
  const char* env_api = std::getenv("BERTH_API");
  const char* env_token = std::getenv("BERTH_TOKEN");
  Env env{env_api && *env_api ? env_api : kDefaultApi, env_token ? env_token : "", false, out, err};
  app.add_option("--api", env.api, "berthd API: a URL (http://127.0.0.1:8053) or a unix socket path (env BERTH_API)")
      ->capture_default_str();
  app.add_flag("--json", env.json_output, "print the API's JSON instead of text");
  app.add_option("--token", env.token, "API token for a TCP endpoint (env BERTH_TOKEN); not needed on the socket");

  std::function<int()> action;
  auto* zone = app.add_subcommand("zone", "authoritative zones");
  zone->require_subcommand(1);
  zone->add_subcommand("ls", "list zones")->callback([&] { action = [&] { return ZoneList(env); }; });
  std::string zone_name, file, qname, qtype = "A";
  auto* show = zone->add_subcommand("show", "show a zone's records");
  show->add_option("ZONE", zone_name, "zone name")->required();
  show->callback([&] { action = [&] { return ZoneShow(env, zone_name); }; });
  auto* import = zone->add_subcommand("import", "create or replace a zone from a master file ('-' = stdin)");
  import->add_option("ZONE", zone_name, "zone name")->required();
  import->add_option("FILE", file, "RFC 1035 master file")->required();
  import->callback([&] { action = [&] { return ZoneImport(env, zone_name, file); }; });
  auto* export_cmd = zone->add_subcommand("export", "print a zone as a master file");
  export_cmd->add_option("ZONE", zone_name, "zone name")->required();
  export_cmd->callback([&] { action = [&] { return ZoneExport(env, zone_name); }; });
  std::vector<std::string> nameservers;
  auto* create = zone->add_subcommand("create", "create an empty zone kept in berthd's store");
  create->add_option("ZONE", zone_name, "zone name")->required();
  create->add_option("--ns", nameservers, "a nameserver of the zone (repeatable; the first is the SOA MNAME)");
  create->callback([&] { action = [&] { return ZoneCreate(env, zone_name, nameservers); }; });
  auto* zone_rm = zone->add_subcommand("rm", "delete a zone kept in berthd's store");
  zone_rm->add_option("ZONE", zone_name, "zone name")->required();
  zone_rm->callback([&] { action = [&] { return ZoneRemove(env, zone_name); }; });

  auto* record = app.add_subcommand("record", "records of a zone");
  record->require_subcommand(1);
  std::string rname, rtype;
  std::vector<std::string> values;
  uint32_t ttl = 300;
  auto* rls = record->add_subcommand("ls", "list a zone's records");
  rls->add_option("ZONE", zone_name, "zone name")->required();
  rls->callback([&] { action = [&] { return RecordList(env, zone_name); }; });
  auto* rset = record->add_subcommand("set", "replace the records of NAME TYPE with VALUE...");
  rset->add_option("ZONE", zone_name, "zone name")->required();
  rset->add_option("NAME", rname, "owner: relative to the zone, '@' for the apex, or absolute with a final dot")->required();
  rset->add_option("TYPE", rtype, "record type")->required();
  rset->add_option("VALUE", values, "record data in presentation format, one argument per record")->required();
  rset->add_option("--ttl", ttl, "TTL in seconds")->capture_default_str();
  rset->callback([&] { action = [&] { return RecordChange(env, zone_name, rname, rtype, &values, ttl); }; });
  auto* rrm = record->add_subcommand("rm", "delete the records of NAME TYPE");
  rrm->add_option("ZONE", zone_name, "zone name")->required();
  rrm->add_option("NAME", rname, "owner (as for set)")->required();
  rrm->add_option("TYPE", rtype, "record type")->required();
  rrm->callback([&] { action = [&] { return RecordChange(env, zone_name, rname, rtype, nullptr, 0); }; });

  auto network_args = AddNetworkCommands(app, env, action);

  std::string ddns_job;
  auto* ddns = app.add_subcommand("ddns", "the DDNS updater (this host's public address at DNS providers)");
  ddns->require_subcommand(1);
  ddns->add_subcommand("status", "list DDNS jobs: address, last push, last error, next run")->callback([&] {
    action = [&] { return DdnsStatus(env); };
  });
  auto* ddns_run = ddns->add_subcommand("run", "run a DDNS job now, checking the provider");
  ddns_run->add_option("JOB", ddns_job, "job name (see ddns status)")->required();
  ddns_run->callback([&] { action = [&] { return DdnsRun(env, ddns_job); }; });

  auto* query = app.add_subcommand("query", "ask berthd a DNS question (answered as a loopback client would be)");
  query->add_option("NAME", qname, "domain name")->required();
  query->add_option("TYPE", qtype, "record type (default A)");
  query->callback([&] { action = [&] { return Query(env, qname, qtype); }; });

  // Everything after the first "--" is the command of `run`/`exec`, never options of ours
  // (CLI11 would still read "-c" of `sh -c` as a flag).
  int parsed_argc = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      parsed_argc = i;
      for (int k = i + 1; k < argc; ++k) network_args_command(*network_args).push_back(argv[k]);
      break;
    }
  }
  try {
    app.parse(parsed_argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }
  return action ? action() : 2;
}

}  // namespace berth::cli
