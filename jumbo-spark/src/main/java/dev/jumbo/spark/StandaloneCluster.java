package dev.jumbo.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;

/**
 * A Spark standalone cluster on 127.0.0.1 made of separate JVMs started from this process's own
 * class path: one master and {@code workers} workers of one core each, as {@code
 * start-master.sh} and {@code start-worker.sh} would start them, without a Spark download. For
 * the integration tests and {@code jumbo bench spark}; a real cluster is started by its operators.
 *
 * <pre>{@code
 * try (StandaloneCluster cluster = StandaloneCluster.start(2, 1024);
 *      JavaSparkContext sc = new JavaSparkContext(cluster.conf("jumbo"))) { ... }
 * }</pre>
 *
 * <p>Executors are launched by the workers from a {@code SPARK_HOME} whose {@code jars/} holds
 * links to every jar on this class path (Spark's among them); the class path's folders (a
 * module's {@code target/classes}) reach them through {@code spark.executor.extraClassPath}, and
 * this JVM's {@code --add-opens}/{@code --add-modules} flags through {@code
 * spark.executor.extraJavaOptions} (Spark on JDK 25 and the Vector API need them). Every process
 * binds to 127.0.0.1 ({@code SPARK_LOCAL_IP}, {@code --host}). {@link #close} kills the workers,
 * their executors and the master, and deletes the folder.
 */
public final class StandaloneCluster implements AutoCloseable {
    /** How long the master gets to start, then all the workers to register with it. */
    private static final long MASTER_TIMEOUT_MS = 60_000, WORKERS_TIMEOUT_MS = 90_000;

    private final Path home;
    private final String masterUrl;
    private final Process master;
    private final List<Process> workers = new ArrayList<>();
    private final String executorClassPath, executorJavaOptions;
    private final int workerMemoryMb;

    private StandaloneCluster(Path home, int port, Process master, String executorClassPath, String executorJavaOptions, int workerMemoryMb) {
        this.home = home;
        this.masterUrl = "spark://127.0.0.1:" + port;
        this.master = master;
        this.executorClassPath = executorClassPath;
        this.executorJavaOptions = executorJavaOptions;
        this.workerMemoryMb = workerMemoryMb;
    }

    /**
     * Starts a master, then {@code workers} workers of one core and {@code workerMemoryMb} MB each,
     * and returns once every worker has registered; on any failure the processes started so far
     * are killed and the error names the log to read.
     */
    public static StandaloneCluster start(int workers, int workerMemoryMb) {
        if (workers < 1) throw new IllegalArgumentException("a cluster needs at least one worker, got " + workers);
        Path home;
        try {
            home = Files.createTempDirectory("jumbo-spark-cluster-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        StandaloneCluster cluster = null;
        Process master = null;
        try {
            List<String> dirs = linkClassPath(home.resolve("jars"));
            writeLogConfig(home.resolve("log4j2.properties"));
            // free a moment ago; should another process take it meanwhile, the master exits and the wait below says so
            int port = freePort();
            master = launch(home, "master", "org.apache.spark.deploy.master.Master",
                    List.of("--host", "127.0.0.1", "--port", String.valueOf(port), "--webui-port", "0"));
            cluster = new StandaloneCluster(home, port, master, String.join(":", dirs), moduleFlags(), workerMemoryMb);
            cluster.awaitLog(master, home.resolve("master.log"), "I have been elected leader", 1, MASTER_TIMEOUT_MS);
            for (int i = 0; i < workers; i++) cluster.addWorker();
            cluster.awaitLog(master, home.resolve("master.log"), "Registering worker", workers, WORKERS_TIMEOUT_MS);
            return cluster;
        } catch (RuntimeException | Error e) {
            // the folder stays: its logs say why the master or a worker did not come up
            if (cluster != null) cluster.stop(true);
            else if (master != null) kill(master);
            throw e;
        }
    }

    /** The master's URL, {@code spark://127.0.0.1:PORT}. */
    public String masterUrl() {
        return masterUrl;
    }

    /**
     * The configuration a driver in this JVM uses to run on the cluster: loopback addresses, no UI
     * (as {@link SparkContexts} sets them), and what the executors need to load Jumbo.
     */
    public SparkConf conf(String appName) {
        return new SparkConf().setMaster(masterUrl).setAppName(appName)
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.ui.enabled", "false")
                .set("spark.ui.showConsoleProgress", "false")
                .set("spark.driver.maxResultSize", "0")
                .set("spark.executor.memory", workerMemoryMb + "m")
                .set("spark.executor.extraClassPath", executorClassPath)
                .set("spark.executor.extraJavaOptions", executorJavaOptions);
    }

    /** The running worker processes, in the order they were started. */
    public List<Process> workers() {
        return List.copyOf(workers);
    }

    /**
     * Kills worker {@code i} and the executors it launched at once (SIGKILL), as a machine that
     * loses power would: nothing gets to say goodbye.
     */
    public void killWorker(int i) {
        kill(workers.get(i));
    }

    /** Pids of this cluster's processes: the master, the workers and their executors. */
    public List<Long> pids() {
        List<Long> out = new ArrayList<>();
        for (Process p : processes()) {
            out.add(p.pid());
            p.descendants().forEach(d -> out.add(d.pid()));
        }
        return out;
    }

    /** The folder holding the logs ({@code master.log}, {@code worker-N.log}) and {@code SPARK_HOME}. */
    public Path home() {
        return home;
    }

    private List<Process> processes() {
        List<Process> all = new ArrayList<>(workers);
        all.add(master);
        return all;
    }

    private void addWorker() {
        int i = workers.size();
        Path workDir = home.resolve("work-" + i);
        try {
            Files.createDirectories(workDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        workers.add(launch(home, "worker-" + i, "org.apache.spark.deploy.worker.Worker",
                List.of("--host", "127.0.0.1", "--webui-port", "0", "--cores", "1", "--memory", workerMemoryMb + "m",
                        "--work-dir", workDir.toString(), masterUrl)));
    }

    private static Process launch(Path home, String name, String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(moduleFlags().split(" ")));
        cmd.addAll(List.of("-Xmx512m", "-Dlog4j2.configurationFile=" + home.resolve("log4j2.properties"),
                "-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(home.resolve(name + ".log").toFile());
        Map<String, String> env = pb.environment();
        env.put("SPARK_HOME", home.toString());
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.put("SPARK_LOCAL_HOSTNAME", "127.0.0.1");
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.remove("SPARK_CONF_DIR");
        try {
            return pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the Spark " + name + ": " + e.getMessage(), e);
        }
    }

    /**
     * Polls {@code log} until {@code needle} occurs {@code times} times; fails naming the log (which
     * is kept) if the process dies or time runs out.
     */
    private void awaitLog(Process p, Path log, String needle, int times, long timeoutMs) {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (true) {
            String text;
            try {
                text = Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            int found = 0;
            for (int at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) found++;
            if (found >= times) return;
            if (!p.isAlive())
                throw new IllegalStateException("the Spark process logging to " + log + " exited with " + p.exitValue() + " before '" + needle + "'");
            if (System.nanoTime() > deadline)
                throw new IllegalStateException("waited " + timeoutMs / 1000 + " s for '" + needle + "' x" + times + " in " + log + " (found " + found + ")");
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while the Spark cluster started", e);
            }
        }
    }

    /**
     * The master's and workers' logging: the start waits for lines the deploy classes log at INFO,
     * whatever configuration the class path carries (the CLI's logs Spark at WARN).
     */
    private static void writeLogConfig(Path file) {
        try {
            Files.writeString(file, String.join("\n",
                    "rootLogger.level = warn",
                    "rootLogger.appenderRef.stderr.ref = stderr",
                    "appender.console.type = Console",
                    "appender.console.name = stderr",
                    "appender.console.target = SYSTEM_ERR",
                    "appender.console.layout.type = PatternLayout",
                    "appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n",
                    "logger.deploy.name = org.apache.spark.deploy",
                    "logger.deploy.level = info", ""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Links every jar of this class path into {@code jars} (what the workers' executors load) and
     * returns its folders, which executors get through their extra class path.
     */
    private static List<String> linkClassPath(Path jars) {
        List<String> dirs = new ArrayList<>();
        Set<String> names = new HashSet<>();
        try {
            Files.createDirectories(jars);
            for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
                if (entry.isBlank()) continue;
                Path p = Path.of(entry).toAbsolutePath();
                if (Files.isDirectory(p)) dirs.add(p.toString());
                else if (Files.isRegularFile(p) && p.toString().endsWith(".jar")) {
                    String name = p.getFileName().toString();
                    // two jars of one name from different folders: keep both, the second renamed
                    if (!names.add(name)) name = names.size() + "-" + name;
                    Files.createSymbolicLink(jars.resolve(name), p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dirs;
    }

    /** This JVM's module flags (--add-opens, --add-modules, ...), which the cluster's JVMs need as much as it does. */
    private static String moduleFlags() {
        List<String> flags = new ArrayList<>();
        List<String> in = ManagementFactory.getRuntimeMXBean().getInputArguments();
        for (int i = 0; i < in.size(); i++) {
            String a = in.get(i);
            if (a.equals("--add-modules") || a.equals("--add-opens") || a.equals("--add-exports")) {
                if (i + 1 < in.size()) flags.add(a + "=" + in.get(++i));
            } else if (a.startsWith("--add-") || a.startsWith("--enable-native-access") || a.startsWith("--sun-misc-unsafe")
                    || a.startsWith("-Dio.netty.")) flags.add(a);
        }
        return String.join(" ", flags);
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void kill(Process p) {
        // executors first: their worker launched them and would otherwise leave them orphaned
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            // a log still being written by a dying process: the temp folder is left for the OS to clean
        }
    }

    /**
     * Kills every process of the cluster (workers and their executors, then the master) and deletes
     * its folder, unless {@code -Djumbo.spark.keepClusterLogs=true} asks to keep the logs.
     */
    @Override
    public void close() {
        stop(Boolean.getBoolean("jumbo.spark.keepClusterLogs"));
    }

    private void stop(boolean keepLogs) {
        for (Process w : workers) kill(w);
        kill(master);
        if (!keepLogs) deleteTree(home);
    }
}
