// SQLite plumbing shared by the store's parts: a connection with its prepared-statement cache,
// statements with sticky bind errors, transactions rolled back unless committed, and the
// mapping of SQLite errors to Status codes. Internal to src/store. A Connection is not
// thread-safe: the Store hands each to one thread at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/status.h"
#include "store/store.h"

namespace berth::store {

inline constexpr int kBusyTimeoutMs = 5000;

// The Status code for a SQLite result code (constraint → kAlreadyExists, busy → kUnavailable).
Code CodeFor(int sqlite_rc);

inline int64_t NowSeconds() { return static_cast<int64_t>(std::time(nullptr)); }

// ---- Connection ----------------------------------------------------------------------------

// A prepared statement borrowed from a Connection's cache; reset when it goes out of scope so
// the next user starts clean. Bind errors are remembered and reported by Step().
class Stmt {
 public:
  Stmt(sqlite3_stmt* s, class Connection* c) : s_(s), conn_(c) {}
  Stmt(Stmt&& o) noexcept : s_(std::exchange(o.s_, nullptr)), conn_(o.conn_), rc_(o.rc_) {}
  Stmt(const Stmt&) = delete;
  ~Stmt() {
    if (s_ != nullptr) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }

  Stmt& Int(int i, int64_t v) { return Check(sqlite3_bind_int64(s_, i, v)); }
  Stmt& Text(int i, std::string_view v) {
    return Check(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  // TEXT, or NULL when empty (zones.file).
  Stmt& TextOrNull(int i, std::string_view v) {
    return v.empty() ? Check(sqlite3_bind_null(s_, i)) : Text(i, v);
  }
  Stmt& Blob(int i, std::string_view v) {
    return Check(sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  // True when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion, for statements without result rows.
  Status Run() {
    ASSIGN_OR_RETURN(bool row, Step());
    (void)row;
    return Status::Ok();
  }

  int64_t ColInt(int i) const { return sqlite3_column_int64(s_, i); }
  bool ColIsNull(int i) const { return sqlite3_column_type(s_, i) == SQLITE_NULL; }
  std::string ColText(int i) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, i));
    return p ? std::string(p, sqlite3_column_bytes(s_, i)) : std::string();
  }
  std::string ColBlob(int i) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, i));
    return p ? std::string(p, sqlite3_column_bytes(s_, i)) : std::string();
  }

 private:
  Stmt& Check(int rc) {
    if (rc != SQLITE_OK && rc_ == SQLITE_OK) rc_ = rc;
    return *this;
  }
  sqlite3_stmt* s_;
  class Connection* conn_;
  int rc_ = SQLITE_OK;
};

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, bool read_only) {
    // SQLite counts its heap under a global mutex by default: a lock and unlock around every
    // malloc and free of every statement. Nothing here reads the counts. Must precede
    // SQLite's initialization; a later call is refused and changes nothing.
    static const int memstatus_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)memstatus_off;
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_NOMUTEX |
                (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    auto conn = std::unique_ptr<Connection>(new Connection(db, path));
    if (rc != SQLITE_OK) {
      return Status(Code::kIo, "opening state database " + path + ": " +
                                   (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    if (!read_only) {
      // WAL lets readers run beside the writer; FULL fsyncs the WAL on every commit, so an
      // acknowledged change survives power loss.
      ASSIGN_OR_RETURN(std::string mode, conn->PragmaValue("PRAGMA journal_mode=WAL"));
      if (mode != "wal") {
        return Status(Code::kIo, "state database " + path + ": cannot enable WAL (mode " +
                                     mode + ")");
      }
      // Deleted rows (credentials) are overwritten with zeros, whatever SQLite was built with;
      // folds relax it for the journal (see AsFold in store.cc).
      RETURN_IF_ERROR(conn->Exec("PRAGMA secure_delete=ON"));
    }
    RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous=FULL"));
    RETURN_IF_ERROR(conn->Exec("PRAGMA foreign_keys=ON"));
    // Statement journals (a multi-row statement inside a transaction) and temporary b-trees are
    // scratch: keep them in memory instead of writing every touched page to a temp file.
    RETURN_IF_ERROR(conn->Exec("PRAGMA temp_store=MEMORY"));
    return conn;
  }

  ~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  // Runs fixed SQL text (pragmas, transaction control, DDL): never built from input.
  Status Exec(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return Status::Ok();
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return Status(CodeFor(rc), "state database " + path_ + ": " + msg);
  }

  Result<std::string> PragmaValue(const char* sql) {
    std::string value;
    char* err = nullptr;
    auto collect = [](void* out, int n, char** cols, char**) {
      if (n > 0 && cols[0]) *static_cast<std::string*>(out) = cols[0];
      return 0;
    };
    int rc = sqlite3_exec(db_, sql, collect, &value, &err);
    if (rc == SQLITE_OK) return value;
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return Status(CodeFor(rc), "opening state database " + path_ + ": " + msg);
  }

  // Runs fixed SQL text through the statement cache: for statements run often (transaction
  // control), which sqlite3_exec would parse again on every use. Not for PRAGMAs: many act when
  // prepared, not when run.
  Status Run(const char* sql) {
    ASSIGN_OR_RETURN(Stmt s, Prepare(sql));
    return s.Run();
  }

  // The statement for `sql`, prepared on first use and cached by the text's address (all SQL is
  // constants), so each statement is parsed once per connection.
  Result<Stmt> Prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      sqlite3_stmt* stmt = nullptr;
      int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) return Error(rc);
      it = cache_.emplace(sql, stmt).first;
    }
    return Stmt(it->second, this);
  }

  Status Error(int rc) const {
    return Status(CodeFor(rc), std::string(sqlite3_errmsg(db_)) + " (state database " + path_ +
                                   ")");
  }
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* handle() const { return db_; }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};


// Calls `fn()` (returning Status) once per result row of `s`, stopping at the first error.
template <typename Fn>
Status ForEachRow(Stmt& s, Fn&& fn) {
  for (;;) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::Ok();
    RETURN_IF_ERROR(fn());
  }
}

// A transaction rolled back unless Commit() succeeds. Writers take the write lock up front
// (BEGIN IMMEDIATE) so they never fail half-way on a lock upgrade.
class Transaction {
 public:
  static Result<Transaction> Begin(Connection& conn, bool write) {
    RETURN_IF_ERROR(conn.Run(write ? kBeginWrite : kBeginRead));
    return Transaction(&conn);
  }
  Transaction(Transaction&& o) noexcept : conn_(std::exchange(o.conn_, nullptr)) {}
  Transaction(const Transaction&) = delete;
  ~Transaction() {
    if (conn_ != nullptr) (void)conn_->Run(kRollback);
  }
  Status Commit() {
    Status s = conn_->Run(kCommit);
    if (s.ok()) conn_ = nullptr;
    return s;
  }

 private:
  static constexpr char kBeginWrite[] = "BEGIN IMMEDIATE";
  static constexpr char kBeginRead[] = "BEGIN";
  static constexpr char kCommit[] = "COMMIT";
  static constexpr char kRollback[] = "ROLLBACK";
  explicit Transaction(Connection* conn) : conn_(conn) {}
  Connection* conn_;
};

// Idle reader connections kept for reuse.
inline constexpr size_t kMaxIdleReaders = 8;

// A reader connection borrowed from the pool and returned to it on destruction.
class Store::ReaderLease {
 public:
  ReaderLease(Store* store, std::unique_ptr<Connection> conn)
      : store_(store), conn_(std::move(conn)) {}
  ReaderLease(ReaderLease&&) noexcept = default;
  ~ReaderLease() {
    if (!conn_) return;
    std::lock_guard lock(store_->pool_mu_);
    if (store_->readers_.size() < kMaxIdleReaders) store_->readers_.push_back(std::move(conn_));
  }
  Connection& operator*() { return *conn_; }

 private:
  Store* store_;
  std::unique_ptr<Connection> conn_;
};

}  // namespace berth::store
