/**
 * Federated training over gRPC: {@link dev.jumbo.federated.FederatedServer} owns the global model
 * and the rounds, {@link dev.jumbo.federated.FederatedClient} trains on its own part of the data and
 * sends back its weight delta; {@link dev.jumbo.federated.Aggregator} (FedAvg, FedAvgM, FedAdam, FedYogi, FedAdagrad) updates the
 * global weights and an {@link dev.jumbo.federated.ServerAggregationScheme} decides how the clients'
 * deltas are combined (plain sums here; secure aggregation plugs in through the Exchange rpc).
 * Depends on jumbo-core, gRPC and the protobuf runtime; the wire types are generated from
 * {@code src/main/proto/federation.proto} into {@code dev.jumbo.federated.proto}.
 */
package dev.jumbo.federated;
