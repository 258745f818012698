package dev.jumbo.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.data.TensorDataset;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.FlatParameters;
import dev.jumbo.optim.Adam;
import dev.jumbo.tensor.Shape;
import dev.jumbo.train.Callback;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.History;
import dev.jumbo.train.Sequential;
import dev.jumbo.train.TrainingRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Training on a real standalone cluster (a master and two one-core workers, separate JVMs on
 * 127.0.0.1) ends where single-process {@code fit} ends, and still does when a worker dies mid-run.
 */
class StandaloneClusterTest {
    private static final FitOptions OPTIONS = FitOptions.defaults().epochs(3).batchSize(64).seed(42);

    private static double maxWeightDiff(Sequential a, Sequential b) {
        float[] x = FlatParameters.state(a), y = FlatParameters.state(b);
        assertThat(y).hasSameSizeAs(x);
        double max = 0;
        for (int i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
        return max;
    }

    /** Waits up to a minute for {@code count} executors to register with the driver; returns how many there are. */
    private static int awaitExecutors(JavaSparkContext sc, int count) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (executors(sc) < count) {
            assertThat(System.nanoTime()).as("%d executors registered within 60 s (have %d)", count, executors(sc)).isLessThan(deadline);
            Thread.sleep(100);
        }
        return executors(sc);
    }

    /** The executors alive: the status tracker lists the driver's block manager too. */
    private static int executors(JavaSparkContext sc) {
        return sc.statusTracker().getExecutorInfos().length - 1;
    }

    @Test
    @Timeout(150)
    void threeEpochsOnTwoWorkersGiveTheWeightsOfSingleProcessFit() throws Exception {
        TensorDataset train = Blobs.of(640, 1, 2), test = Blobs.of(300, 1, 3);
        Sequential local = Blobs.mlp(7), spark = Blobs.mlp(7);
        local.fit(train, OPTIONS);
        long t0 = System.nanoTime();
        try (StandaloneCluster cluster = StandaloneCluster.start(2, 512)) {
            double startSeconds = (System.nanoTime() - t0) / 1e9;
            try (JavaSparkContext sc = new JavaSparkContext(cluster.conf("jumbo-standalone-test"))) {
                sc.setLogLevel("WARN");
                int executors = awaitExecutors(sc, 2);
                long t1 = System.nanoTime();
                SparkTraining.fit(sc, spark, DistributedDataset.of(sc, train, 2), OPTIONS);
                double fitSeconds = (System.nanoTime() - t1) / 1e9;
                assertListensOnLoopbackOnly(cluster); // the executors too, which are alive until the context closes
                double diff = maxWeightDiff(local, spark);
                System.out.printf("standalone cluster (master + 2 workers started in %.1f s), 3 epochs of 10 steps in %.1f s:"
                        + " max abs weight diff %.3g%n", startSeconds, fitSeconds, diff);
                assertThat(executors).isEqualTo(2);
                assertThat(diff).isLessThanOrEqualTo(1e-4);
                assertThat(maxWeightDiff(local, Blobs.mlp(7))).as("training moved the weights").isGreaterThan(1e-2);
                assertThat(spark.evaluate(test, 128).get("accuracy")).isEqualTo(local.evaluate(test, 128).get("accuracy"));

                // 24 M parameters: five 96 MB copies on an executor of 512 MB (212 MB after Spark's reserve) cannot fit
                Sequential big = new Sequential(Shape.of(Blobs.FEATURES), new Dense(2_000_000, Activation.RELU), new Dense(3, Activation.SOFTMAX));
                big.compile(new Adam(1e-3), "sparse_categorical_crossentropy");
                long t2 = System.nanoTime();
                assertThatThrownBy(() -> SparkTraining.fit(sc, big, DistributedDataset.of(sc, train, 2), OPTIONS))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("needs about 457.8 MB on an executor hosting 1 of the 2 partitions")
                        .hasMessageContaining("spark.executor.memory = 512.0 MB leaves 212.0 MB");
                assertThat((System.nanoTime() - t2) / 1e9).as("refused before any task").isLessThan(5);
            }
        }
    }

    /** Each process of the cluster (master, workers, executors) listens on 127.0.0.1 only (Linux's /proc). */
    private static void assertListensOnLoopbackOnly(StandaloneCluster cluster) throws IOException {
        assertThat(cluster.pids()).as("master, 2 workers and their 2 executors").hasSize(5);
        List<String> all = new ArrayList<>();
        for (long pid : cluster.pids()) all.addAll(listening(pid));
        assertThat(all).as("the cluster's listening sockets").isNotEmpty();
        for (String address : all)
            assertThat(address).as("listening address (hex, /proc/net/tcp)").matches("0100007F:.*|0000000000000000FFFF00000100007F:.*");
    }

    private static List<String> listening(long pid) throws IOException {
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) inodes.add(target.substring(8, target.length() - 1));
                } catch (IOException gone) {
                    // closed while listed
                }
            }
        }
        List<String> out = new ArrayList<>();
        for (String table : List.of("/proc/" + pid + "/net/tcp", "/proc/" + pid + "/net/tcp6")) {
            Path p = Path.of(table);
            if (!Files.exists(p)) continue;
            List<String> lines = Files.readAllLines(p);
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f[3].equals("0A") && inodes.contains(f[9])) out.add(f[1]);
            }
        }
        return out;
    }

    @Test
    @Timeout(150)
    void killingAWorkerMidRunStillEndsWhereFitEnds() throws Exception {
        TensorDataset train = Blobs.of(640, 1, 2);
        Sequential local = Blobs.mlp(7), spark = Blobs.mlp(7);
        local.fit(train, OPTIONS);
        try (StandaloneCluster cluster = StandaloneCluster.start(2, 512);
             JavaSparkContext sc = new JavaSparkContext(cluster.conf("jumbo-standalone-fault-test"))) {
            sc.setLogLevel("ERROR");
            awaitExecutors(sc, 2);
            List<Integer> stepsDone = new ArrayList<>();
            long[] killedProcesses = {0};
            Callback killAfterThreeSteps = new Callback() {
                @Override
                public void onBatchEnd(TrainingRun run, int epoch, int batch, Map<String, Double> logs) {
                    stepsDone.add(epoch * 10 + batch);
                    if (epoch == 0 && batch == 2) {
                        // the worker and the executor it launched, SIGKILLed together
                        killedProcesses[0] = 1 + cluster.workers().get(1).descendants().count();
                        cluster.killWorker(1);
                    }
                }
            };
            History h = SparkTraining.fit(sc, spark, DistributedDataset.of(sc, train, 2), OPTIONS.callbacks(killAfterThreeSteps));

            double diff = maxWeightDiff(local, spark);
            System.out.printf("worker 1 and its executor (%d processes) killed after step 3 of 30; the run finished on %d executor(s):"
                    + " max abs weight diff %.3g%n", killedProcesses[0], executors(sc), diff);
            assertThat(killedProcesses[0]).as("the killed worker had launched an executor").isGreaterThanOrEqualTo(2);
            assertThat(cluster.workers().get(1).isAlive()).isFalse();
            assertThat(executors(sc)).as("executors left").isEqualTo(1);
            assertThat(stepsDone).hasSize(30);
            assertThat(h.epochs()).isEqualTo(3);
            assertThat(diff).isLessThanOrEqualTo(1e-4);
        }
    }
}
