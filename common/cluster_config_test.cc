#include "common/cluster_config.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

constexpr const char* kMinimal = R"(
  cluster_name: "t"
  admin_token: "secret"
)";

TEST(ClusterConfigTest, DefaultsAreFilled) {
  proto::ClusterConfig c;
  Status s = ParseClusterConfig(kMinimal, "test.conf", &c);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(c.bucket_count(), 1023u);
  EXPECT_EQ(c.copy_count(), 1u);
  EXPECT_EQ(c.min_data_server_count(), 1u);
  EXPECT_EQ(c.heartbeat_interval_ms(), 1000u);
  EXPECT_EQ(c.server_down_time_ms(), 4000u);
}

TEST(ClusterConfigTest, FullConfig) {
  proto::ClusterConfig c;
  Status s = ParseClusterConfig(R"(
    cluster_name: "prod"
    bucket_count: 64
    copy_count: 2
    data_servers: "127.0.0.1:7101"
    data_servers: "127.0.0.1:7102"
    heartbeat_interval_ms: 200
    server_down_time_ms: 1000
    area_quotas { area: 3 quota_bytes: 4096 }
    admin_token: "x"
  )", "full.conf", &c);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(c.bucket_count(), 64u);
  EXPECT_EQ(c.min_data_server_count(), 2u);
  ASSERT_EQ(c.area_quotas_size(), 1);
  EXPECT_EQ(c.area_quotas(0).quota_bytes(), 4096u);
}

// Each bad config fails with InvalidArgument and a message naming the problem.
TEST(ClusterConfigTest, BadConfigsNameTheProblem) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"admin_token: \"x\"", "cluster_name is required"},
      {"cluster_name: \"t\"", "admin_token is required"},
      {"cluster_name: \"t\" admin_token: \"x\" bucket_count: 0", "bucket_count"},
      {"cluster_name: \"t\" admin_token: \"x\" bucket_count: 16777216", "bucket_count"},
      {"cluster_name: \"t\" admin_token: \"x\" bucket_count: 2000000", "fit in one frame"},
      {"cluster_name: \"t\" admin_token: \"x\" copy_count: 0", "copy_count"},
      {"cluster_name: \"t\" admin_token: \"x\" bucket_count: 1000000 copy_count: 2",
       "fit in one frame"},
      {"cluster_name: \"t\" admin_token: \"x\" copy_count: 2 min_data_server_count: 1",
       "min_data_server_count"},
      {"cluster_name: \"t\" admin_token: \"x\" data_servers: \"nohost\"", "data_servers"},
      {"cluster_name: \"t\" admin_token: \"x\" data_servers: \"a:1\" data_servers: \"a:1\"",
       "listed twice"},
      {"cluster_name: \"t\" admin_token: \"x\" heartbeat_interval_ms: 1000 "
       "server_down_time_ms: 1500",
       "server_down_time_ms"},
      {"cluster_name: \"t\" admin_token: \"x\" area_quotas { area: 70000 quota_bytes: 1 }",
       "area 70000"},
      {"cluster_name: \"t\" admin_token: \"x\" bogus_field: 1", "bad.conf:1:"},
      {"cluster_name: \"t\"\nadmin_token: \"x\"\nbucket_count: \"many\"", "bad.conf:3:"},
  };
  for (const Case& c : cases) {
    proto::ClusterConfig config;
    Status s = ParseClusterConfig(c.text, "bad.conf", &config);
    ASSERT_TRUE(s.Is(Code::kInvalidArgument)) << c.text;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
  }
}

TEST(ClusterConfigTest, MissingFileIsAClearError) {
  proto::ClusterConfig c;
  Status s = LoadClusterConfig("/nonexistent/cluster.conf", &c);
  ASSERT_TRUE(s.Is(Code::kInvalidArgument));
  EXPECT_NE(s.message().find("/nonexistent/cluster.conf"), std::string::npos);
}

}  // namespace
}  // namespace tessera
