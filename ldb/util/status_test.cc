#include "ldb/status.h"

#include <utility>

#include "gtest/gtest.h"

namespace ldb {
namespace {

TEST(StatusTest, OK) {
  const Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ("OK", s.ToString());
  EXPECT_TRUE(Status::OK().ok());
  EXPECT_FALSE(s.IsNotFound());
  EXPECT_FALSE(s.IsCorruption());
}

TEST(StatusTest, Codes) {
  EXPECT_EQ("NotFound: a", Status::NotFound("a").ToString());
  EXPECT_EQ("Corruption: a: b", Status::Corruption("a", "b").ToString());
  EXPECT_EQ("Not implemented: x", Status::NotSupported("x").ToString());
  EXPECT_EQ("Invalid argument: x", Status::InvalidArgument("x").ToString());
  EXPECT_EQ("IO error: /path: No such file",
            Status::IOError("/path", "No such file").ToString());
  EXPECT_EQ("Busy: later", Status::Busy("later").ToString());

  EXPECT_TRUE(Status::NotFound("").IsNotFound());
  EXPECT_TRUE(Status::Corruption("").IsCorruption());
  EXPECT_TRUE(Status::NotSupported("").IsNotSupported());
  EXPECT_TRUE(Status::InvalidArgument("").IsInvalidArgument());
  EXPECT_TRUE(Status::IOError("").IsIOError());
  EXPECT_TRUE(Status::Busy("").IsBusy());

  // Codes stay distinct.
  const Status nf = Status::NotFound("x");
  EXPECT_FALSE(nf.ok());
  EXPECT_FALSE(nf.IsCorruption());
  EXPECT_FALSE(nf.IsIOError());
  EXPECT_FALSE(nf.IsBusy());
  EXPECT_FALSE(Status::IOError("x").IsNotFound());
}

TEST(StatusTest, EmptyMessages) {
  EXPECT_EQ("NotFound: ", Status::NotFound("").ToString());
  // An empty second message adds no separator.
  EXPECT_EQ("Corruption: a", Status::Corruption("a", "").ToString());
}

TEST(StatusTest, BinaryMessage) {
  const std::string msg("a\0b", 3);
  const Status s = Status::Corruption(msg);
  EXPECT_EQ(std::string("Corruption: a\0b", 15), s.ToString());
}

TEST(StatusTest, CopyAndMove) {
  Status a = Status::NotFound("custom NotFound status message");
  Status b = a;
  EXPECT_TRUE(b.IsNotFound());
  EXPECT_EQ(a.ToString(), b.ToString());

  Status c = std::move(a);
  EXPECT_TRUE(c.IsNotFound());
  EXPECT_EQ("NotFound: custom NotFound status message", c.ToString());

  Status ok;
  b = ok;
  EXPECT_TRUE(b.ok());
  b = c;
  EXPECT_TRUE(b.IsNotFound());
  b = b;  // Self-assignment keeps the value.
  EXPECT_TRUE(b.IsNotFound());
  EXPECT_EQ("NotFound: custom NotFound status message", b.ToString());

  Status d;
  d = std::move(c);
  EXPECT_TRUE(d.IsNotFound());
}

}  // namespace
}  // namespace ldb
