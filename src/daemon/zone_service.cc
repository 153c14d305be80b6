#include "daemon/zone_service.h"

#include <malloc.h>

#include <set>

#include <spdlog/spdlog.h>

#include "dns/zonefile/zonefile.h"

namespace berth::daemon {
namespace {

std::string Key(const dns::Name& n) { return n.Lowercased().ToText(); }

}  // namespace

void ZoneService::Publish(std::shared_ptr<const dns::Zone> zone) {
  table_.Update([&](const dns::ZoneSet& set) { return set.With(zone); });
}

void ZoneService::Unpublish(const dns::Name& name) {
  table_.Update([&](const dns::ZoneSet& set) { return set.Without(name); });
}

Status ZoneService::LoadAll(const std::vector<FileZone>& file_zones) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(auto stored, store_.ListZones());
    std::set<std::string> configured;
    for (const auto& fz : file_zones) configured.insert(Key(fz.name));
    for (const auto& info : stored) {
      // A file zone dropped from the config is dropped from the store: no orphans.
      if (info.source == store::ZoneSource::kFile && !configured.count(Key(info.name))) {
        spdlog::info("zone {} is no longer configured; removing it from the store", info.name.ToText());
        RETURN_IF_ERROR(store_.DeleteZone(info.name));
        continue;
      }
      ZoneState& st = states_[Key(info.name)];
      st.name = info.name;
      st.source = std::string(store::ZoneSourceName(info.source));
      st.file = info.file;
      auto records = store_.ZoneRecords(info.name);
      if (!records.ok()) {
        st.last_error = records.status().ToString();
        continue;
      }
      auto zone = dns::Zone::Build(info.name, std::move(*records));
      if (!zone.ok()) {
        st.last_error = "stored copy: " + zone.status().message();
        spdlog::error("zone {}: {}", info.name.ToText(), st.last_error);
        continue;
      }
      st.serving = true;
      st.serial = (*zone)->serial();
      st.records = (*zone)->record_count();
      Publish(*zone);
    }
  }
  return Reload(file_zones);
}

Status ZoneService::LoadFileZone(const FileZone& fz) {
  ZoneState& st = states_[Key(fz.name)];
  st.name = fz.name;
  st.source = "file";
  st.file = fz.file;
  auto fail = [&](const Status& s) {
    st.last_error = s.message();
    spdlog::error("zone {} not reloaded{}: {}", fz.name.ToText(), st.serving ? " (previous version keeps serving)" : "",
                  s.message());
    return s.WithContext("zone " + fz.name.ToText());
  };
  auto records = dns::ParseZoneFile(fz.file, fz.name);
  if (!records.ok()) return fail(records.status());
  auto zone = dns::Zone::Build(fz.name, std::move(*records));
  if (!zone.ok()) return fail(zone.status().WithContext(fz.file));
  // The file is the source of truth for a file zone, so it is served at once; the copy in the
  // store is the fallback that keeps the zone serving if the file later breaks across a restart.
  bool changed = !st.serving || st.serial != (*zone)->serial() || st.records != (*zone)->record_count();
  st.serving = true;
  st.serial = (*zone)->serial();
  st.records = (*zone)->record_count();
  st.last_error.clear();
  Publish(*zone);
  if (changed) spdlog::info("zone {} loaded from {}: serial {}, {} records", fz.name.ToText(), fz.file, st.serial, st.records);
  if (Status s = store_.ReplaceZone(fz.name, store::ZoneSource::kFile, (*zone)->Records(), fz.file); !s.ok()) {
    st.last_error = "served, but not saved to the state database: " + s.message();
    spdlog::error("zone {}: {}", fz.name.ToText(), st.last_error);
    return s.WithContext("zone " + fz.name.ToText());
  }
  return Status::Ok();
}

Status ZoneService::Reload(const std::vector<FileZone>& file_zones) {
  std::lock_guard<std::mutex> lock(mu_);
  Status first;
  std::set<std::string> configured;
  for (const auto& fz : file_zones) {
    configured.insert(Key(fz.name));
    Status s = LoadFileZone(fz);
    if (!s.ok() && first.ok()) first = s;
  }
  // File zones removed from the config stop being served.
  for (auto it = states_.begin(); it != states_.end();) {
    if (it->second.source == "file" && !configured.count(it->first)) {
      spdlog::info("zone {} removed from the config; no longer served", it->second.name.ToText());
      Unpublish(it->second.name);
      if (Status s = store_.DeleteZone(it->second.name); !s.ok() && s.code() != Code::kNotFound && first.ok()) first = s;
      it = states_.erase(it);
    } else {
      ++it;
    }
  }
  // Parsing a large zone leaves freed heap behind; give it back so RSS reflects what serves.
  malloc_trim(0);
  return first;
}

Status ZoneService::Import(const dns::Name& name, std::string_view text) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = states_.find(Key(name));
  if (it != states_.end() && it->second.source == "file")
    return FailedPrecondition("zone " + name.ToText() + " is served from " + it->second.file +
                              "; edit that file and reload instead");
  dns::ZoneFileOptions opts;
  opts.allow_include = false;
  ASSIGN_OR_RETURN(auto records, dns::ParseZoneText(text, name, "import", opts));
  ASSIGN_OR_RETURN(auto zone, dns::Zone::Build(name, std::move(records)));
  RETURN_IF_ERROR(store_.ReplaceZone(name, store::ZoneSource::kStore, zone->Records()));
  ZoneState& st = states_[Key(name)];
  st.name = name;
  st.source = "store";
  st.file.clear();
  st.serving = true;
  st.serial = zone->serial();
  st.records = zone->record_count();
  st.last_error.clear();
  Publish(zone);
  spdlog::info("zone {} imported: serial {}, {} records", name.ToText(), st.serial, st.records);
  return Status::Ok();
}

Result<std::vector<dns::Record>> ZoneService::Records(const dns::Name& name) const {
  auto zone = table_.Get()->Get(name);
  if (!zone) return NotFound("zone " + name.ToText() + " is not served here");
  return zone->Records();
}

std::vector<ZoneState> ZoneService::states() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ZoneState> out;
  for (const auto& [k, v] : states_) out.push_back(v);
  return out;
}

bool ZoneService::Ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [k, v] : states_)
    if (!v.serving) return false;
  return true;
}

}  // namespace berth::daemon
