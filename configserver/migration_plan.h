// Pure helpers of the config server's migration planning (see config_service.h for
// the rules): converting tables to and from Assignments, applying the changes that
// move no data at once, editing a plan for move_bucket, counting moving buckets.
//
// Free functions of their arguments only: thread-safe.
#ifndef TESSERA_CONFIGSERVER_MIGRATION_PLAN_H_
#define TESSERA_CONFIGSERVER_MIGRATION_PLAN_H_

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/proto/cluster.pb.h"
#include "common/status.h"
#include "configserver/table_builder.h"

namespace tessera::cs {

// The owners (or, when migrating, the destination_owners) of a validated table.
// TableDestination returns an empty Assignment when the table is not migrating.
Assignment TableOwners(const proto::Table& table);
Assignment TableDestination(const proto::Table& table);

// A table listing `servers` (address -> UP?, sorted by address), with `owners` and,
// when `destination` is non-null, destination_owners. Every address in the
// assignments must be in `servers`. Version, migration_id and migration_paused are
// left 0 / false.
proto::Table MakeTable(const Assignment& owners, const Assignment* destination,
                       const std::map<std::string, bool>& servers,
                       const proto::ClusterConfig& config);

// Applies at once, in `owners`, what moves no data towards `target`:
//  - a bucket whose holders are the same set in both takes target's order
//    (a promotion);
//  - a bucket whose master is not up (is_up false) and whose target master already
//    holds a copy and is up gets that copy promoted (positions swapped).
// Returns the number of buckets changed. REQUIRES: same shape.
uint32_t ApplyPromotions(const Assignment& target,
                         const std::function<bool(const std::string&)>& is_up,
                         Assignment* owners);

// Buckets whose copies (in order) differ between `owners` and `target`.
uint32_t CountMoving(const Assignment& owners, const Assignment& target);

// Every node holding a copy of a moving bucket in `owners` or in `target` (the
// sources and the destinations of a plan). REQUIRES: same shape.
std::set<std::string> NodesOfMovingBuckets(const Assignment& owners, const Assignment& target);

// In each bucket of *a whose master is not up and which has an up copy, swaps the
// first up copy into position 0 (what BuildTable does for a down master). Returns the
// number of buckets changed.
uint32_t PromoteUpCopies(const std::function<bool(const std::string&)>& is_up, Assignment* a);

// Makes `to` the master of bucket b in *a: swapped in when it holds a replica
// (copies stay distinct), else it replaces the master. Returns false when it
// already masters b. REQUIRES: b < a->bucket_count.
bool SetMaster(Assignment* a, uint32_t b, const std::string& to);

}  // namespace tessera::cs

#endif  // TESSERA_CONFIGSERVER_MIGRATION_PLAN_H_
