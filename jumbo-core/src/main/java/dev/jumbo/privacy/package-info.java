/**
 * Protecting the data a model learns from.
 *
 * <ul>
 *   <li>Differential privacy in training: {@link dev.jumbo.privacy.DpSgd} (per-example clipping over all parameters,
 *       Gaussian noise, division by the expected batch) on Poisson-sampled batches ({@link dev.jumbo.privacy.PoissonSampler},
 *       {@link dev.jumbo.privacy.DpTrainer}), with per-example gradients from the engine's own backward
 *       ({@link dev.jumbo.privacy.PerExampleGradients}), and the {@link dev.jumbo.privacy.RdpAccountant} of the sampled
 *       Gaussian mechanism that reports (epsilon, delta) and solves for the noise.</li>
 *   <li>Released statistics and tables: {@link dev.jumbo.privacy.NoiseMechanism} (Laplace, classic and analytic Gaussian)
 *       drawing from {@link dev.jumbo.privacy.SecureNoise}; {@link dev.jumbo.privacy.Masking} (drop, replace, keyed
 *       pseudonyms, bins).</li>
 *   <li>Aggregation the server cannot read: {@link dev.jumbo.privacy.UpdateQuantizer} (updates as integers mod 2^32),
 *       {@link dev.jumbo.privacy.SecureAggregationClient} and {@link dev.jumbo.privacy.SecureAggregationServer}
 *       (Bonawitz et al.'s pairwise and self masks with {@link dev.jumbo.privacy.Shamir}-shared seeds, transport-agnostic
 *       phases), and Paillier encryption with packing ({@link dev.jumbo.privacy.PaillierKeyPair},
 *       {@link dev.jumbo.privacy.PaillierPacking}).</li>
 * </ul>
 * Builds on tensor, nn and train; jumbo-federated carries the aggregation protocols over gRPC.
 */
package dev.jumbo.privacy;
