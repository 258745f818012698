package dev.jumbo.nn;

/**
 * Where an int8 layer's per-tensor activation scale comes from: {@code DYNAMIC} takes
 * {@code max|x| / 127} of each batch as it arrives; {@code STATIC} uses a scale fixed beforehand by
 * a calibration pass and saved with the layer (values beyond it saturate at ±127).
 */
public enum ActivationScale {
    DYNAMIC("dynamic"),
    STATIC("static");

    private final String id;

    ActivationScale(String id) {
        this.id = id;
    }

    /** The name used in configs: "dynamic" or "static". */
    public String id() {
        return id;
    }

    /** The scale named {@code id}, "dynamic" or "static". */
    public static ActivationScale of(String id) {
        for (ActivationScale s : values()) if (s.id.equals(id)) return s;
        throw new IllegalArgumentException("activation scale must be 'dynamic' or 'static', got '" + id + "'");
    }
}
