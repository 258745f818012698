package dev.jumbo.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The energy a stretch of work took: measured from the package's RAPL counter
 * ({@code /sys/class/powercap/intel-rapl:0/energy_uj}, which Linux exposes for Intel and AMD
 * processors when the machine lets it be read), or else estimated as this process's CPU-seconds
 * times a stated power per busy core. Every figure says which it is.
 *
 * <pre>{@code
 * EnergyMeter.Reading start = meter.read();
 * work();
 * EnergyMeter.Energy e = meter.since(start);   // e.joules(), e.measured()
 * }</pre>
 */
final class EnergyMeter {
    /** An EPYC 9654's 360 W TDP over its 96 cores, the processor family of this project's machines: a busy core's share. */
    static final double DEFAULT_WATTS_PER_CORE = 3.75;

    /** The package's RAPL zone in Linux's powercap tree. */
    static final Path RAPL_ZONE = Path.of("/sys/class/powercap/intel-rapl:0");

    private final double wattsPerCore;
    private final Path energy, maxRange;
    private final boolean rapl;

    EnergyMeter(double wattsPerCore) {
        this(wattsPerCore, RAPL_ZONE);
    }

    /** A meter reading the RAPL zone at {@code zone} ({@code energy_uj}, {@code max_energy_range_uj}) when it is readable. */
    EnergyMeter(double wattsPerCore, Path zone) {
        if (!(wattsPerCore > 0)) throw new IllegalArgumentException("--watts-per-core must be positive, got " + wattsPerCore);
        this.wattsPerCore = wattsPerCore;
        this.energy = zone.resolve("energy_uj");
        this.maxRange = zone.resolve("max_energy_range_uj");
        this.rapl = raplMicrojoules() >= 0;
    }

    /** A point to measure from: the RAPL counter (or -1) and this process's CPU time. */
    record Reading(long microjoules, long cpuNanos) {}

    /** Joules, and whether a counter measured them or CPU time estimated them; the CPU-seconds either way. */
    record Energy(double joules, boolean measured, double cpuSeconds) {
        String label() {
            return measured ? "measured (RAPL)" : "estimated (CPU-seconds x W per core)";
        }
    }

    Reading read() {
        return new Reading(rapl ? raplMicrojoules() : -1, cpuNanos());
    }

    Energy since(Reading start) {
        Reading now = read();
        double cpu = (now.cpuNanos() - start.cpuNanos()) / 1e9;
        if (rapl && start.microjoules() >= 0 && now.microjoules() >= 0) {
            long delta = now.microjoules() - start.microjoules();
            if (delta < 0) delta += maxRange(); // the counter wrapped
            return new Energy(delta / 1e6, true, cpu);
        }
        return new Energy(cpu * wattsPerCore, false, cpu);
    }

    private static long cpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) return os.getProcessCpuTime();
        throw new IllegalStateException("this JVM does not report its process CPU time");
    }

    private long raplMicrojoules() {
        try {
            return Long.parseLong(Files.readString(energy).strip());
        } catch (IOException | RuntimeException e) {
            return -1; // no counter here, or not readable (a VM, or no root): estimate instead
        }
    }

    private long maxRange() {
        try {
            return Long.parseLong(Files.readString(maxRange).strip());
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
