#include "dns/zonefile/zonefile.h"

#include <strings.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "dns/wire/types.h"
#include "dns/zonefile/lexer.h"
#include "dns/zonefile/rdata_text.h"

namespace berth::dns {
namespace {

namespace fs = std::filesystem;
using zonefile_internal::Entry;
using zonefile_internal::IsQuoted;
using zonefile_internal::Lexer;

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Puts "source:line: " in front of an error, keeping its code.
Status At(std::string_view source, size_t line, const Status& s) {
  return Status(s.code(), std::string(source) + ":" + std::to_string(line) + ": " + s.message());
}

// State shared by a file and everything it includes.
struct Context {
  const Name& zone;
  const ZoneFileOptions& opts;
  std::vector<Record> records;
  std::vector<std::string> open_files;  // canonical paths being read, outermost first
  size_t bytes_read = 0;
  std::optional<uint32_t> soa_minimum;
};

// Per-file state. An included file starts from a copy of its parent's; afterwards the parent
// keeps its own origin and owner (RFC 1035 §5.1) but takes over the TTL defaults, as BIND does.
struct FileState {
  Name origin;
  std::optional<Name> last_owner;
  std::optional<uint32_t> default_ttl;  // $TTL
  std::optional<uint32_t> last_ttl;     // the last TTL written on a record
};

// Reads a regular file of at most `budget` bytes.
Result<std::string> ReadFileLimited(const std::string& path, size_t budget) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT) return NotFound("cannot read " + Quote(path) + ": no such file");
    return IoError("cannot read " + Quote(path), err);
  }
  if (!S_ISREG(st.st_mode)) return InvalidArgument(Quote(path) + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > budget)
    return ResourceExhausted(Quote(path) + " is larger than the limit of " + std::to_string(budget) +
                             " bytes");
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return IoError("cannot open " + Quote(path), errno);
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t n = std::fread(data.data(), 1, data.size(), f);
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) return IoError("cannot read " + Quote(path), EIO);
  data.resize(n);  // the file may have shrunk meanwhile; it cannot have grown past `data`
  return data;
}

std::string CanonicalPath(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::path(path), ec);
  return ec ? path : p.string();
}

// Parses one file's text; `state` ends as the file left it.
Status ParseFile(Context& ctx, std::string_view text, const std::string& source,
                 const std::string& base_dir, FileState& state);

// Decodes the TTL of a record whose TTL was left out.
Result<uint32_t> DefaultTtl(const Context& ctx, const FileState& st) {
  if (st.default_ttl) return *st.default_ttl;
  if (st.last_ttl) return *st.last_ttl;
  if (ctx.soa_minimum) return *ctx.soa_minimum;
  return InvalidArgument("no TTL: give the record a TTL or add a $TTL line before it");
}

Status ParseRecord(Context& ctx, const Entry& e, FileState& st) {
  const auto& tokens = e.tokens;
  size_t i = 0;
  Name owner;
  if (e.blank_owner) {
    if (!st.last_owner) return InvalidArgument("line starts with a blank but there is no previous owner");
    owner = *st.last_owner;
  } else {
    if (IsQuoted(tokens[0])) return InvalidArgument("bad owner name " + std::string(tokens[0]));
    auto name = Name::FromText(tokens[0], &st.origin);
    if (!name.ok())
      return InvalidArgument("bad owner name " + Quote(tokens[0]) + ": " + name.status().message());
    owner = std::move(*name);
    i = 1;
  }
  // TTL and class, both optional, in either order (RFC 1035 §5.1).
  std::optional<uint32_t> ttl;
  std::optional<uint16_t> rrclass;
  for (int k = 0; k < 2 && i < tokens.size() && !IsQuoted(tokens[i]); ++k) {
    std::string_view tok = tokens[i];
    if (!rrclass && (rrclass = ClassFromText(tok))) {
      ++i;
    } else if (!ttl && tok[0] >= '0' && tok[0] <= '9') {
      ASSIGN_OR_RETURN(ttl, TtlFromText(tok));
      ++i;
    } else {
      break;
    }
  }
  if (i >= tokens.size()) return InvalidArgument("missing record type");
  auto rrtype = IsQuoted(tokens[i]) ? std::nullopt : TypeFromText(tokens[i]);
  if (!rrtype) return InvalidArgument("unknown record type " + Quote(tokens[i]));
  ++i;
  if (rrclass && *rrclass != cls::kIN)
    return InvalidArgument("class " + ClassToText(*rrclass) + " is not supported (only IN)");
  if (IsMetaType(*rrtype)) return InvalidArgument("type " + TypeToText(*rrtype) + " cannot appear in a zone");
  if (!owner.IsSubdomainOf(ctx.zone))
    return InvalidArgument("owner " + Quote(owner.ToText()) + " is outside the zone " +
                           Quote(ctx.zone.ToText()));
  std::vector<std::string_view> rdata_tokens(tokens.begin() + static_cast<ptrdiff_t>(i), tokens.end());
  ASSIGN_OR_RETURN(std::string rdata, RdataFromText(*rrtype, rdata_tokens, st.origin));
  if (*rrtype == type::kSOA && !ctx.soa_minimum) {
    std::string_view min = std::string_view(rdata).substr(rdata.size() - 4);
    ctx.soa_minimum = static_cast<uint32_t>(static_cast<uint8_t>(min[0]) << 24 |
                                            static_cast<uint8_t>(min[1]) << 16 |
                                            static_cast<uint8_t>(min[2]) << 8 | static_cast<uint8_t>(min[3]));
  }
  if (ttl) {
    st.last_ttl = ttl;
  } else {
    ASSIGN_OR_RETURN(ttl, DefaultTtl(ctx, st));
  }
  if (ctx.opts.max_records && ctx.records.size() >= ctx.opts.max_records)
    return ResourceExhausted("more than " + std::to_string(ctx.opts.max_records) + " records");
  st.last_owner = owner;
  ctx.records.push_back(Record{std::move(owner), *rrtype, cls::kIN, *ttl, std::move(rdata)});
  return Status::Ok();
}

Status ExpectArgs(const Entry& e, size_t min, size_t max) {
  size_t n = e.tokens.size() - 1;
  if (n < min || n > max)
    return InvalidArgument(std::string(e.tokens[0]) + " takes " +
                           (min == max ? std::to_string(min) : std::to_string(min) + " or " + std::to_string(max)) +
                           " argument" + (max == 1 ? "" : "s"));
  return Status::Ok();
}

// $ORIGIN and $TTL; $INCLUDE is handled by ParseFile because it reads another file.
Status ParseDirective(const Entry& e, FileState& st) {
  std::string_view d = e.tokens[0];
  if (EqualsIgnoreCase(d, "$ORIGIN")) {
    RETURN_IF_ERROR(ExpectArgs(e, 1, 1));
    auto name = IsQuoted(e.tokens[1]) ? Result<Name>(InvalidArgument("quoted name"))
                                      : Name::FromText(e.tokens[1], &st.origin);
    if (!name.ok()) return InvalidArgument("bad $ORIGIN " + Quote(e.tokens[1]) + ": " + name.status().message());
    st.origin = std::move(*name);
    return Status::Ok();
  }
  if (EqualsIgnoreCase(d, "$TTL")) {
    RETURN_IF_ERROR(ExpectArgs(e, 1, 1));
    ASSIGN_OR_RETURN(st.default_ttl, TtlFromText(e.tokens[1]));
    return Status::Ok();
  }
  if (EqualsIgnoreCase(d, "$GENERATE")) return InvalidArgument("$GENERATE is not supported");
  return InvalidArgument("unknown directive " + Quote(d));
}

// The file to include and the state it starts with; errors are about the $INCLUDE line.
struct IncludeTarget {
  std::string path;
  FileState state;
};

Result<IncludeTarget> ResolveInclude(const Context& ctx, const Entry& e, const FileState& st,
                                     const std::string& base_dir) {
  if (!ctx.opts.allow_include) return InvalidArgument("$INCLUDE is not allowed here");
  RETURN_IF_ERROR(ExpectArgs(e, 1, 2));
  if (ctx.open_files.size() > static_cast<size_t>(ctx.opts.max_include_depth))
    return InvalidArgument("$INCLUDE nested deeper than " + std::to_string(ctx.opts.max_include_depth));
  ASSIGN_OR_RETURN(std::string file, CharStringFromText(e.tokens[1], 4096));
  if (file.empty() || file.find('\0') != std::string::npos)
    return InvalidArgument("bad $INCLUDE file name " + Quote(e.tokens[1]));
  fs::path p(file);
  if (p.is_relative() && !base_dir.empty()) p = fs::path(base_dir) / p;
  IncludeTarget target{p.string(), st};
  target.state.last_owner.reset();
  if (e.tokens.size() == 3) {
    auto name = IsQuoted(e.tokens[2]) ? Result<Name>(InvalidArgument("quoted name"))
                                      : Name::FromText(e.tokens[2], &st.origin);
    if (!name.ok())
      return InvalidArgument("bad $INCLUDE origin " + Quote(e.tokens[2]) + ": " + name.status().message());
    target.state.origin = std::move(*name);
  }
  std::string canonical = CanonicalPath(target.path);
  for (const auto& open : ctx.open_files)
    if (open == canonical) return InvalidArgument("$INCLUDE loop: " + Quote(target.path) + " is already being read");
  return target;
}

Status ParseFile(Context& ctx, std::string_view text, const std::string& source,
                 const std::string& base_dir, FileState& state) {
  Lexer lexer(text);
  Entry e;
  while (true) {
    auto got = lexer.Next(&e);
    if (!got.ok()) return At(source, lexer.error_line(), got.status());
    if (!*got) return Status::Ok();
    bool directive = !e.blank_owner && e.tokens[0].front() == '$';
    if (!directive) {
      if (Status s = ParseRecord(ctx, e, state); !s.ok()) return At(source, e.line, s);
      continue;
    }
    if (!EqualsIgnoreCase(e.tokens[0], "$INCLUDE")) {
      if (Status s = ParseDirective(e, state); !s.ok()) return At(source, e.line, s);
      continue;
    }
    auto target = ResolveInclude(ctx, e, state, base_dir);
    if (!target.ok()) return At(source, e.line, target.status());
    auto data = ReadFileLimited(target->path, ctx.opts.max_bytes - ctx.bytes_read);
    if (!data.ok()) return At(source, e.line, data.status());
    ctx.bytes_read += data->size();
    ctx.open_files.push_back(CanonicalPath(target->path));
    FileState& child = target->state;
    Status s = ParseFile(ctx, *data, target->path, fs::path(target->path).parent_path().string(), child);
    ctx.open_files.pop_back();
    if (!s.ok())
      return Status(s.code(), s.message() + " (included from " + source + ":" + std::to_string(e.line) + ")");
    state.default_ttl = child.default_ttl;
    state.last_ttl = child.last_ttl;
  }
}

Result<std::vector<Record>> ParseTop(std::string_view text, const Name& origin, const std::string& source,
                                     const std::string& base_dir, const ZoneFileOptions& opts) {
  if (text.size() > opts.max_bytes)
    return ResourceExhausted(source + ": larger than the limit of " + std::to_string(opts.max_bytes) + " bytes");
  Context ctx{origin, opts, {}, {CanonicalPath(source)}, text.size(), std::nullopt};
  FileState state{origin, {}, {}, {}};
  RETURN_IF_ERROR(ParseFile(ctx, text, source, base_dir, state));
  return std::move(ctx.records);
}

}  // namespace

Result<std::vector<Record>> ParseZoneText(std::string_view text, const Name& origin,
                                          std::string_view source_name, const ZoneFileOptions& opts) {
  std::string source(source_name);
  std::string base_dir = opts.include_dir.empty() ? fs::path(source).parent_path().string() : opts.include_dir;
  return ParseTop(text, origin, source, base_dir, opts);
}

Result<std::vector<Record>> ParseZoneFile(const std::string& path, const Name& origin,
                                          const ZoneFileOptions& opts) {
  ASSIGN_OR_RETURN(std::string text, ReadFileLimited(path, opts.max_bytes));
  return ParseTop(text, origin, path, fs::path(path).parent_path().string(), opts);
}

std::string WriteZoneText(const Name& origin, const std::vector<Record>& records) {
  std::string out = "$ORIGIN " + origin.ToText() + "\n";
  for (int pass = 0; pass < 2; ++pass) {
    for (const Record& r : records) {
      if ((r.type == type::kSOA) != (pass == 0)) continue;
      out += RecordToText(r);
      out += '\n';
    }
  }
  return out;
}

}  // namespace berth::dns
