// DBIter: user-visible iteration over internal entries.
//
// The internal iterator yields, per user key, its versions newest first. The
// DB iterator shows, per user key, the newest version with sequence <=
// sequence_, unless that version hides the key (a deletion).
//
// Two modes:
//   kForward: iter_ is positioned at the entry being shown; key() and value()
//             come from iter_.
//   kReverse: iter_ is positioned just before every entry of the key being
//             shown (or is not valid when that key is the first); the key and
//             value are copied into saved_key_ / saved_value_.
#include "db/db_iter.h"

#include <cassert>
#include <string>

#include "db/read_hooks.h"
#include "util/logging.h"

namespace ldb {

namespace {

// Thread-compatible.
class DBIter final : public Iterator {
 public:
  // `ucmp` must outlive the iterator.
  // With apply_hooks, the comparator's ShouldDrop / ShouldDropMaybe at
  // now_seconds hide keys too (see IsHidden).
  DBIter(const Comparator* ucmp, std::unique_ptr<Iterator> iter,
         SequenceNumber sequence, bool apply_hooks, uint64_t now_seconds)
      : ucmp_(ucmp),
        iter_(std::move(iter)),
        sequence_(sequence),
        apply_hooks_(apply_hooks),
        now_seconds_(now_seconds) {}

  bool Valid() const override { return valid_; }
  Slice key() const override {
    assert(valid_);
    return direction_ == Direction::kForward ? ExtractUserKey(iter_->key())
                                             : Slice(saved_key_);
  }
  Slice value() const override {
    assert(valid_);
    return direction_ == Direction::kForward ? iter_->value()
                                             : Slice(saved_value_);
  }
  Status status() const override {
    if (!status_.ok()) {
      return status_;
    }
    return iter_->status();
  }

  void Next() override;
  void Prev() override;
  void Seek(const Slice& target) override;
  void SeekToFirst() override;
  void SeekToLast() override;

 private:
  enum class Direction { kForward, kReverse };

  // THE place that decides whether an entry visible at sequence_ makes its
  // user key invisible (and hides every older version of it): a deletion,
  // or a value the comparator reclaims (ShouldDrop) or declares expired
  // (ShouldDropMaybe) at now_seconds_. Callers only ask about the newest
  // visible entry of a key, so an older version never resurfaces.
  bool IsHidden(const ParsedInternalKey& ikey) const {
    if (!apply_hooks_) return ikey.type == kTypeDeletion;
    return EntryHidesKey(ucmp_, ikey.type, ikey.user_key, ikey.sequence,
                         now_seconds_);
  }

  // Parses iter_->key(). On damage records Corruption, invalidates the
  // iterator and returns false.
  bool ParseKey(ParsedInternalKey* ikey);

  // REQUIRES: iter_->Valid(), direction_ == kForward. Moves iter_ forward to
  // the first entry to show. With `skipping`, entries of user keys <= *skip
  // are passed over. May use *skip as scratch.
  void FindNextUserEntry(bool skipping, std::string* skip);
  // REQUIRES: direction_ == kReverse. Moves iter_ back past the entries of
  // the previous key to show, saving that key and value.
  void FindPrevUserEntry();

  void Invalidate() {
    valid_ = false;
    saved_key_.clear();
    ClearSavedValue();
  }
  void ClearSavedValue() {
    if (saved_value_.capacity() > 1048576) {
      std::string empty;
      saved_value_.swap(empty);  // do not keep a huge buffer alive
    } else {
      saved_value_.clear();
    }
  }
  // A sticky error (corruption) keeps the iterator invalid.
  bool Failed() const { return !status_.ok(); }

  // Constant after construction.
  const Comparator* const ucmp_;
  const std::unique_ptr<Iterator> iter_;
  const SequenceNumber sequence_;
  const bool apply_hooks_;
  const uint64_t now_seconds_;

  Status status_;
  std::string saved_key_;    // see the file comment; scratch in kForward
  std::string saved_value_;  // kReverse only
  Direction direction_ = Direction::kForward;
  bool valid_ = false;
};

bool DBIter::ParseKey(ParsedInternalKey* ikey) {
  if (ParseInternalKey(iter_->key(), ikey)) {
    return true;
  }
  status_ = Status::Corruption("corrupted internal key in DBIter",
                               EscapeString(iter_->key()));
  Invalidate();
  return false;
}

void DBIter::FindNextUserEntry(bool skipping, std::string* skip) {
  assert(iter_->Valid());
  assert(direction_ == Direction::kForward);
  do {
    ParsedInternalKey ikey;
    if (!ParseKey(&ikey)) {
      return;
    }
    if (ikey.sequence <= sequence_) {
      if (IsHidden(ikey)) {
        // Everything older for this user key is shadowed.
        skip->assign(ikey.user_key.data(), ikey.user_key.size());
        skipping = true;
      } else if (skipping && ucmp_->Compare(ikey.user_key, *skip) <= 0) {
        // An older version of a key already shown or hidden.
      } else {
        valid_ = true;
        saved_key_.clear();
        return;
      }
    }
    iter_->Next();
  } while (iter_->Valid());
  Invalidate();
}

void DBIter::FindPrevUserEntry() {
  assert(direction_ == Direction::kReverse);
  // Walking backwards meets each user key's versions oldest first; the last
  // visible one seen before moving to a smaller key decides.
  bool have_value = false;
  while (iter_->Valid()) {
    ParsedInternalKey ikey;
    if (!ParseKey(&ikey)) {
      return;
    }
    if (ikey.sequence <= sequence_) {
      if (have_value && ucmp_->Compare(ikey.user_key, saved_key_) < 0) {
        break;  // saved_key_ is the answer; iter_ is just before it
      }
      if (IsHidden(ikey)) {
        have_value = false;
        saved_key_.clear();
        ClearSavedValue();
      } else {
        have_value = true;
        saved_key_.assign(ikey.user_key.data(), ikey.user_key.size());
        const Slice v = iter_->value();
        if (saved_value_.capacity() > v.size() + 1048576) {
          std::string empty;
          saved_value_.swap(empty);
        }
        saved_value_.assign(v.data(), v.size());
      }
    }
    iter_->Prev();
  }
  if (!have_value) {
    Invalidate();
    direction_ = Direction::kForward;
    return;
  }
  valid_ = true;
}

void DBIter::Next() {
  assert(valid_);
  if (direction_ == Direction::kReverse) {
    direction_ = Direction::kForward;
    // iter_ is just before the entries of saved_key_, the key shown; step
    // onto them and let FindNextUserEntry skip past them.
    if (!iter_->Valid()) {
      iter_->SeekToFirst();
    } else {
      iter_->Next();
    }
    ClearSavedValue();
  } else {
    // Remember the key shown so its older versions are skipped.
    const Slice user_key = ExtractUserKey(iter_->key());
    saved_key_.assign(user_key.data(), user_key.size());
    iter_->Next();
  }
  if (!iter_->Valid()) {
    Invalidate();
    return;
  }
  FindNextUserEntry(true, &saved_key_);
}

void DBIter::Prev() {
  assert(valid_);
  if (direction_ == Direction::kForward) {
    // Back iter_ up to just before every entry of the key shown.
    const Slice user_key = ExtractUserKey(iter_->key());
    saved_key_.assign(user_key.data(), user_key.size());
    while (true) {
      iter_->Prev();
      if (!iter_->Valid()) {
        Invalidate();  // the key shown was the first one
        return;
      }
      ParsedInternalKey ikey;
      if (!ParseKey(&ikey)) {
        return;
      }
      if (ucmp_->Compare(ikey.user_key, saved_key_) < 0) {
        break;
      }
    }
    direction_ = Direction::kReverse;
  }
  FindPrevUserEntry();
}

void DBIter::Seek(const Slice& target) {
  direction_ = Direction::kForward;
  Invalidate();
  if (Failed()) {
    return;
  }
  // The first internal key for target visible at sequence_.
  const SequenceNumber seek_seq =
      sequence_ < kMaxSequenceNumber ? sequence_ : kMaxSequenceNumber;
  AppendInternalKey(&saved_key_,
                    ParsedInternalKey(target, seek_seq, kValueTypeForSeek));
  iter_->Seek(saved_key_);
  if (iter_->Valid()) {
    FindNextUserEntry(false, &saved_key_);
  } else {
    Invalidate();
  }
}

void DBIter::SeekToFirst() {
  direction_ = Direction::kForward;
  Invalidate();
  if (Failed()) {
    return;
  }
  iter_->SeekToFirst();
  if (iter_->Valid()) {
    FindNextUserEntry(false, &saved_key_);
  } else {
    Invalidate();
  }
}

void DBIter::SeekToLast() {
  direction_ = Direction::kReverse;
  Invalidate();
  if (Failed()) {
    return;
  }
  iter_->SeekToLast();
  FindPrevUserEntry();
}

}  // namespace

std::unique_ptr<Iterator> NewDBIterator(const Comparator* user_comparator,
                                        std::unique_ptr<Iterator> internal_iter,
                                        SequenceNumber sequence) {
  return std::make_unique<DBIter>(user_comparator, std::move(internal_iter),
                                  sequence, /*apply_hooks=*/false, 0);
}

std::unique_ptr<Iterator> NewDBIterator(const Comparator* user_comparator,
                                        std::unique_ptr<Iterator> internal_iter,
                                        SequenceNumber sequence,
                                        uint64_t now_seconds) {
  return std::make_unique<DBIter>(user_comparator, std::move(internal_iter),
                                  sequence, /*apply_hooks=*/true, now_seconds);
}

}  // namespace ldb
