package dev.jumbo;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JumboTest {
    @Test
    void capabilitiesNameSimdWidthAndThreads() {
        assertThat(Jumbo.capabilities()).contains("SIMD").contains("threads").contains("JDK 25");
    }
}
