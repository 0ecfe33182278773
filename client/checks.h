// Request checks and status conversions shared by the client's calls.
// Pure functions, thread-safe.
#ifndef TESSERA_CLIENT_CHECKS_H_
#define TESSERA_CLIENT_CHECKS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "common/proto/rpc.pb.h"
#include "common/status.h"
#include "tessera/client.h"

namespace tessera::client {

// The client Status for a server's answer. WRONG_OWNER and STALE_TABLE (left over
// when retries are exhausted) become Unavailable; unknown codes become Internal.
Status FromWire(proto::Code code, const std::string& message);
// The client Status for a common (transport) status.
Status FromCommon(const tessera::Status& s);

// InvalidArgument unless 1 <= key.size() <= kMaxKeyBytes.
Status CheckKey(std::string_view key);
// InvalidArgument for an area above kMaxAreaId or both ttl_seconds and expire_at set.
Status CheckOptions(const CallOptions& opts);
Status CheckValue(std::string_view value, size_t max_value_bytes);
// InvalidArgument for 0 or more than kMaxBatchKeys entries.
Status CheckBatch(size_t n);

// Fills a wire Expiry from opts.
void SetExpiry(const CallOptions& opts, proto::Expiry* expiry);

// True when a transport failure of RpcChannel surely happened before the request left
// this process (no connection could be made, or the channel refused the call), so even
// a non-idempotent write may be re-sent. Relies on RpcChannel's documented failure
// texts; anything unrecognized counts as "may have been sent".
bool FailedBeforeSend(const tessera::Status& transport);

}  // namespace tessera::client

#endif  // TESSERA_CLIENT_CHECKS_H_
