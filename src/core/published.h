// Published<T>: one immutable value that control threads replace and hot-path threads read
// without a lock. Each reader keeps a Published<T>::Reader, which holds its own reference and
// re-fetches (under the mutex) only when the version counter has moved: one atomic load per
// check. Published is thread-safe; a Reader belongs to one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

namespace berth {

template <typename T>
class Published {
 public:
  explicit Published(std::shared_ptr<const T> initial) : current_(std::move(initial)) {}

  std::shared_ptr<const T> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  // Bumped on every Publish/Update; readers compare it to decide whether to re-fetch.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  void Publish(std::shared_ptr<const T> value) {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = std::move(value);
    version_.fetch_add(1, std::memory_order_release);
  }
  // Read-modify-publish under one lock, so concurrent writers do not lose each other's
  // changes. `fn(const T&)` returns the new std::shared_ptr<const T>.
  template <typename Fn>
  void Update(Fn&& fn) {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = fn(*current_);
    version_.fetch_add(1, std::memory_order_release);
  }

  // A reader's cached reference: cheap to check on every batch of work.
  class Reader {
   public:
    explicit Reader(const Published& source) : source_(source) { Refresh(); }
    // Re-fetches the value if it has been published since the last call.
    const T& Refresh() {
      uint64_t v = source_.version();
      if (v != version_) {
        value_ = source_.Get();
        version_ = v;
      }
      return *value_;
    }
    // True (once) when the value changed since the last Refresh/Changed; then current() is new.
    bool Changed() {
      uint64_t before = version_;
      Refresh();
      return version_ != before;
    }
    const T& current() const { return *value_; }

   private:
    const Published& source_;
    std::shared_ptr<const T> value_;
    uint64_t version_ = 0;
  };

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const T> current_;
  std::atomic<uint64_t> version_{1};
};

}  // namespace berth
