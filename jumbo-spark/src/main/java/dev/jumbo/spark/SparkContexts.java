package dev.jumbo.spark;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Opens the Spark context Jumbo trains on: {@code local[*]} by default, or any master URL Spark
 * takes. The driver binds to 127.0.0.1 unless {@code spark.driver.host} / {@code
 * spark.driver.bindAddress} are set (as {@code -Dspark.driver.host=...}), so an embedded run opens
 * nothing beyond loopback.
 *
 * <pre>{@code
 * try (JavaSparkContext sc = SparkContexts.open("local[2]", "jumbo")) { ... }
 * }</pre>
 *
 * <p>A standalone master ({@code spark://host:port[,host:port]}) is checked first with a plain TCP
 * connection: Spark itself would retry its registration for a minute before giving up, so a wrong
 * address fails here within {@link #CONNECT_TIMEOUT_MS} per address instead, naming it; an address
 * that accepts connections but is no Spark master fails after {@link #REGISTRATION_TIMEOUT_MS}.
 *
 * <p>On any master but {@code local}, Jumbo's own jars on the driver's class path ({@code jumbo-*.jar},
 * as {@code ./jumbo} runs) are shipped to the executors as {@code spark.jars} unless that is set, so a
 * cluster started elsewhere needs nothing installed to run Jumbo's tasks.
 */
public final class SparkContexts {
    /** How long a standalone master's address gets to accept a connection. */
    public static final int CONNECT_TIMEOUT_MS = 3000;

    /** How long a standalone master gets to register the application (a live one takes well under a second). */
    public static final int REGISTRATION_TIMEOUT_MS = 15_000;

    /** An attempt to reach a master that {@link #open} gave up on and that Spark has not stopped yet, or null. */
    private static volatile Thread abandoned;

    private SparkContexts() {}

    /** A context on {@code master} (e.g. {@code local[2]}, {@code spark://127.0.0.1:7077}) named {@code appName}. */
    public static JavaSparkContext open(String master, String appName) {
        return open(master, appName, Map.of());
    }

    /**
     * A context as {@link #open(String, String)} opens it, with Spark settings ({@code
     * spark.executor.memory} and the like) that take precedence over Jumbo's defaults.
     */
    public static JavaSparkContext open(String master, String appName, Map<String, String> settings) {
        if (master == null || master.isBlank()) throw new IllegalArgumentException("the Spark master URL is empty; use local[*] to train on this machine");
        if (master.startsWith("spark://")) requireReachable(master);
        SparkConf conf = new SparkConf().setMaster(master).setAppName(appName);
        settings.forEach((k, v) -> {
            if (!k.startsWith("spark."))
                throw new IllegalArgumentException("'" + k + "' is not a Spark setting (they start with 'spark.', e.g. spark.executor.memory=4g)");
            conf.set(k, v);
        });
        conf.setIfMissing("spark.driver.host", "127.0.0.1");
        conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
        conf.setIfMissing("spark.ui.enabled", "false");
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        // a step's gradient is one task result per partition: let a large model's through
        conf.setIfMissing("spark.driver.maxResultSize", "0");
        if (!master.startsWith("local")) {
            List<String> jars = jumboJars(System.getProperty("java.class.path", ""));
            if (!jars.isEmpty()) conf.setIfMissing("spark.jars", String.join(",", jars));
        }
        awaitAbandoned();
        JavaSparkContext sc = master.startsWith("spark://") ? registered(conf, master) : create(conf, master);
        if (sc.sc().isStopped())
            throw new IllegalArgumentException("Spark stopped while starting on master '" + master + "' (its log above says why)");
        return sc;
    }

    private static JavaSparkContext create(SparkConf conf, String master) {
        try {
            return new JavaSparkContext(conf);
        } catch (Exception e) { // Scala throws SparkException (checked in Java) without declaring it
            throw new IllegalArgumentException("cannot start Spark on master '" + master + "': " + e.getMessage(), e);
        }
    }

    /**
     * A context on a standalone master, created on a thread of its own: the constructor waits for the
     * master to register the application, and against something that accepts connections but is no
     * Spark master it would wait a minute and return a stopped context. Past
     * {@link #REGISTRATION_TIMEOUT_MS} this fails instead. The abandoned attempt ends when Spark gives
     * up (or is stopped at once, should it register late); until then it holds this JVM's Spark
     * environment, so the next {@code open} waits for it.
     */
    private static JavaSparkContext registered(SparkConf conf, String master) {
        CompletableFuture<JavaSparkContext> attempt = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                JavaSparkContext sc = create(conf, master);
                if (!attempt.complete(sc)) sc.close(); // registered after the caller gave up on it
            } catch (Throwable e) {
                attempt.completeExceptionally(e);
            }
        }, "jumbo-spark-connect");
        t.setDaemon(true);
        t.start();
        try {
            return attempt.get(REGISTRATION_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            attempt.cancel(false);
            abandoned = t;
            throw new IllegalArgumentException("the address of master '" + master + "' accepts connections, but no Spark master there registered"
                    + " this application within " + REGISTRATION_TIMEOUT_MS / 1000 + " s: is it a Spark standalone master's port (7077 by"
                    + " default, not its web UI's) of a Spark version this driver speaks to?");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while connecting to Spark master '" + master + "'", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalArgumentException("cannot start Spark on master '" + master + "': " + e.getCause(), e.getCause());
        }
    }

    /** Waits for an attempt {@link #registered} gave up on: Spark allows one context per JVM. */
    private static void awaitAbandoned() {
        Thread t = abandoned;
        if (t == null) return;
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for an abandoned Spark context to stop", e);
        }
        abandoned = null;
    }

    /** The entries of a class path that are Jumbo's own jars ({@code jumbo-*.jar}), in class path order. */
    static List<String> jumboJars(String classPath) {
        List<String> jars = new ArrayList<>();
        for (String entry : classPath.split(java.io.File.pathSeparator)) {
            if (entry.isBlank()) continue;
            Path name = Path.of(entry).getFileName();
            if (name != null && name.toString().startsWith("jumbo-") && name.toString().endsWith(".jar")) jars.add(entry);
        }
        return jars;
    }

    /** Connects to each {@code host:port} of a standalone master URL; fails naming them all when none answers. */
    static void requireReachable(String master) {
        List<String> failures = new ArrayList<>();
        for (String address : master.substring("spark://".length()).split(",")) {
            int colon = address.lastIndexOf(':');
            if (colon <= 0 || colon == address.length() - 1)
                throw new IllegalArgumentException("Spark master URL '" + master + "' has an address without host:port: '" + address + "'");
            String host = address.substring(0, colon);
            int port;
            try {
                port = Integer.parseInt(address.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("Spark master URL '" + master + "' has a port that is not a number: '" + address + "'");
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
                return;
            } catch (IOException e) {
                failures.add(address + ": " + e.getMessage());
            }
        }
        throw new IllegalArgumentException("cannot reach the Spark master at " + master + " (" + String.join("; ", failures)
                + "): is a master running there? Use local[*] to train on this machine");
    }
}
