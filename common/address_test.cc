#include "common/address.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

TEST(AddressTest, ParsesHostPort) {
  HostPort hp;
  ASSERT_TRUE(ParseHostPort("127.0.0.1:7000", &hp).ok());
  EXPECT_EQ(hp.host, "127.0.0.1");
  EXPECT_EQ(hp.port, 7000);
  EXPECT_EQ(hp.ToString(), "127.0.0.1:7000");
  ASSERT_TRUE(ParseHostPort("[::1]:65535", &hp).ok());
  EXPECT_EQ(hp.host, "::1");
  EXPECT_EQ(hp.port, 65535);
  ASSERT_TRUE(ParseHostPort("localhost:1", &hp).ok());
}

TEST(AddressTest, RejectsBadAddresses) {
  HostPort hp;
  for (const char* bad : {"", "127.0.0.1", ":7000", "host:", "host:0", "host:65536", "host:7x",
                          "host:-1", "::1:7000", "ho st:1", "a,b:1"}) {
    Status s = ParseHostPort(bad, &hp);
    EXPECT_TRUE(s.Is(Code::kInvalidArgument)) << bad;
  }
}

TEST(AddressTest, ParsesLists) {
  std::vector<HostPort> list;
  ASSERT_TRUE(ParseHostPortList("a:1,b:2", &list).ok());
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1].ToString(), "b:2");
  EXPECT_FALSE(ParseHostPortList("a:1,,b:2", &list).ok());
  EXPECT_FALSE(ParseHostPortList("", &list).ok());
}

}  // namespace
}  // namespace tessera
