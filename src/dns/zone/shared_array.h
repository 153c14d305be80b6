// SharedArray<T>: an append-only array of trivially copyable items that successive Zone
// snapshots share. Each array value sees a prefix of a block; items inside a prefix someone
// can see are never written again, so readers need no lock. Extended() is thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <span>
#include <type_traits>

namespace berth::dns {

template <typename T>
class SharedArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  SharedArray() = default;
  // An unshared array with room for `capacity` items, to fill with push_back.
  static SharedArray WithCapacity(size_t capacity) {
    SharedArray a;
    a.block_ = std::make_shared<Block>(capacity);
    a.data_ = a.block_->items.get();
    return a;
  }

  const T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return block_ ? block_->capacity : 0; }
  // Only while the array is being built and not shared yet.
  void push_back(const T& item) { append(std::span<const T>(&item, 1)); }
  void append(std::span<const T> items) {
    std::copy(items.begin(), items.end(), block_->items.get() + size_);
    size_ += items.size();
    block_->claimed.store(size_, std::memory_order_relaxed);
  }

  // This array followed by `extra`. Written in place when this view ends where the block's
  // writes end (the newest snapshot) and the block has room: other views never look past their
  // own size. Otherwise the prefix moves to a block with 50% headroom, so appends stay
  // amortized O(extra).
  SharedArray Extended(std::span<const T> extra) const {
    if (extra.empty()) return *this;
    SharedArray out;
    size_t end = size_ + extra.size();
    size_t expected = size_;
    if (block_ && end <= block_->capacity && block_->claimed.compare_exchange_strong(expected, end)) {
      out.block_ = block_;
    } else {
      out.block_ = std::make_shared<Block>(std::max<size_t>(16, end + end / 2));
      std::copy_n(data_, size_, out.block_->items.get());
      out.block_->claimed.store(end, std::memory_order_relaxed);
    }
    std::copy(extra.begin(), extra.end(), out.block_->items.get() + size_);
    out.data_ = out.block_->items.get();
    out.size_ = end;
    return out;
  }

 private:
  struct Block {
    explicit Block(size_t cap) : items(std::make_unique_for_overwrite<T[]>(cap)), capacity(cap) {}
    std::unique_ptr<T[]> items;
    size_t capacity;
    std::atomic<size_t> claimed{0};  // items written by any view of this block
  };
  std::shared_ptr<Block> block_;
  const T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace berth::dns
