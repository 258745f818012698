/**
 * Synchronous data-parallel training on Apache Spark whose weights equal single-process {@code fit}'s:
 * {@link dev.jumbo.spark.SparkTraining} and the parts it runs on; batch inference in input order,
 * {@link dev.jumbo.spark.SparkInference}. Depends on jumbo-core and Spark only;
 * jumbo-cli may depend on it.
 */
package dev.jumbo.spark;
