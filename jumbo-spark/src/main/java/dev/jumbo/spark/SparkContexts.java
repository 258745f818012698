package dev.jumbo.spark;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
 * address fails here within {@link #CONNECT_TIMEOUT_MS} per address instead, naming it.
 *
 * <p>On any master but {@code local}, Jumbo's own jars on the driver's class path ({@code jumbo-*.jar},
 * as {@code ./jumbo} runs) are shipped to the executors as {@code spark.jars} unless that is set, so a
 * cluster started elsewhere needs nothing installed to run Jumbo's tasks.
 */
public final class SparkContexts {
    /** How long a standalone master's address gets to accept a connection. */
    public static final int CONNECT_TIMEOUT_MS = 3000;

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
        try {
            return new JavaSparkContext(conf);
        } catch (Exception e) { // Scala throws SparkException (checked in Java) without declaring it
            throw new IllegalArgumentException("cannot start Spark on master '" + master + "': " + e.getMessage(), e);
        }
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
