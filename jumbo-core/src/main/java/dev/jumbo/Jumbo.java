package dev.jumbo;

import jdk.incubator.vector.FloatVector;

/**
 * Facts about the running engine, reported at start-up so a slow fallback is never silent.
 *
 * <pre>{@code
 * System.out.println(Jumbo.capabilities());
 * }</pre>
 */
public final class Jumbo {
    private Jumbo() {}

    /** One line naming the JDK, the SIMD width the Vector API chose and the compute threads. */
    public static String capabilities() {
        return "jumbo: JDK " + Runtime.version() + ", SIMD " + FloatVector.SPECIES_PREFERRED.vectorBitSize()
                + "-bit (" + FloatVector.SPECIES_PREFERRED.length() + " floats), "
                + dev.jumbo.kernel.Parallel.threads() + " threads";
    }
}
