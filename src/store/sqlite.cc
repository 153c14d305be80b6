#include "store/sqlite.h"

namespace berth::store {

Code CodeFor(int sqlite_rc) {
  switch (sqlite_rc & 0xFF) {
    case SQLITE_CONSTRAINT: return Code::kAlreadyExists;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Code::kUnavailable;
    case SQLITE_FULL: return Code::kResourceExhausted;
    default: return Code::kIo;
  }
}

Result<bool> Stmt::Step() {
  if (rc_ != SQLITE_OK) return conn_->Error(rc_);
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return conn_->Error(sqlite3_extended_errcode(sqlite3_db_handle(s_)));
}

}  // namespace berth::store
