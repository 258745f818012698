package dev.jumbo.explain;

import java.util.Arrays;

/**
 * Superpixels: an image cut into compact regions of similar colour, the features LIME and
 * KernelSHAP explain an image by. {@link #slic} is SLIC (Achanta et al., 2012), as scikit-image's
 * {@code slic} runs it, on the image's own channels (no conversion to CIELAB, so
 * {@code compactness} is in the image's colour units: about 0.1 for values in [0, 1] matches
 * scikit-image's default of 10 on Lab's 0 to 100).
 *
 * <pre>{@code
 * int[] labels = Superpixels.slic(image, 28, 28, 1, 50, 0.1);   // one label per pixel, 0..k-1
 * }</pre>
 */
public final class Superpixels {
    /** k-means rounds, scikit-image's {@code max_num_iter}. */
    private static final int ITERATIONS = 10;
    /** A piece smaller than this fraction of the mean superpixel is merged into a neighbour (scikit-image's {@code min_size_factor}). */
    private static final double MIN_SIZE_FACTOR = 0.5;

    private Superpixels() {}

    /**
     * SLIC superpixels of an {@code [h, w, channels]} image (row-major): centres on a regular grid of
     * step {@code S = sqrt(h w / segments)}, then k-means in colour and position, each centre
     * claiming the pixels of its {@code 2S x 2S} window by the distance
     * {@code sqrt(dColour^2 + (compactness / S)^2 dPosition^2)}; finally every connected piece of a
     * label smaller than half the mean superpixel is merged into the neighbouring piece nearest in
     * mean colour, so each label is one 4-connected region.
     *
     * @param segments    the number of superpixels wanted (the result has about as many)
     * @param compactness how much position weighs against colour: higher gives squarer superpixels
     * @return a label per pixel, numbered 0 to k-1 in the order of their first pixel
     * @throws IllegalArgumentException if the image is not {@code h * w * channels} values or an argument is out of range
     */
    public static int[] slic(float[] image, int h, int w, int channels, int segments, double compactness) {
        if (h < 1 || w < 1 || channels < 1 || (long) h * w * channels != image.length)
            throw new IllegalArgumentException("an image of " + image.length + " values is not " + h + " x " + w + " pixels of "
                    + channels + " channels");
        if (segments < 1) throw new IllegalArgumentException("the number of superpixels must be at least 1, got " + segments);
        if (!(compactness > 0)) throw new IllegalArgumentException("compactness must be positive, got " + compactness);
        int n = h * w;
        double step = Math.sqrt((double) n / segments);
        int rows = Math.max(1, (int) Math.round(h / step)), cols = Math.max(1, (int) Math.round(w / step));
        int k = rows * cols;
        // a centre: y, x, then its colour
        double[][] centre = new double[k][2 + channels];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) {
                double[] ctr = centre[r * cols + c];
                ctr[0] = (r + 0.5) * h / rows;
                ctr[1] = (c + 0.5) * w / cols;
                int py = Math.min(h - 1, (int) ctr[0]), px = Math.min(w - 1, (int) ctr[1]);
                for (int ch = 0; ch < channels; ch++) ctr[2 + ch] = image[(py * w + px) * channels + ch];
            }
        double gridStep = Math.max((double) h / rows, (double) w / cols);
        double spatial = compactness / gridStep, spatial2 = spatial * spatial;
        int window = (int) Math.ceil(gridStep);   // the 2S window: S on each side of the centre
        int[] label = new int[n];
        double[] best = new double[n];
        for (int iter = 0; iter < ITERATIONS; iter++) {
            Arrays.fill(best, Double.POSITIVE_INFINITY);
            Arrays.fill(label, -1);
            for (int i = 0; i < k; i++) {
                double[] ctr = centre[i];
                int y0 = Math.max(0, (int) (ctr[0] - window)), y1 = Math.min(h - 1, (int) (ctr[0] + window));
                int x0 = Math.max(0, (int) (ctr[1] - window)), x1 = Math.min(w - 1, (int) (ctr[1] + window));
                for (int y = y0; y <= y1; y++)
                    for (int x = x0; x <= x1; x++) {
                        int p = y * w + x;
                        double dy = y - ctr[0], dx = x - ctr[1];
                        double d = (dy * dy + dx * dx) * spatial2;
                        for (int ch = 0; ch < channels; ch++) {
                            double dc = image[p * channels + ch] - ctr[2 + ch];
                            d += dc * dc;
                        }
                        if (d < best[p]) {
                            best[p] = d;
                            label[p] = i;
                        }
                    }
            }
            double[][] sum = new double[k][2 + channels];
            int[] count = new int[k];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    int p = y * w + x, i = label[p];
                    if (i < 0) continue;   // outside every window: left for the connectivity pass
                    count[i]++;
                    sum[i][0] += y;
                    sum[i][1] += x;
                    for (int ch = 0; ch < channels; ch++) sum[i][2 + ch] += image[p * channels + ch];
                }
            for (int i = 0; i < k; i++)
                if (count[i] > 0)
                    for (int j = 0; j < 2 + channels; j++) centre[i][j] = sum[i][j] / count[i];
        }
        return connected(image, h, w, channels, label, (int) (MIN_SIZE_FACTOR * n / k));
    }

    /**
     * Relabels every 4-connected piece of equal labels as its own region (a pixel labelled -1 is a
     * piece of its own), then merges each region smaller than {@code minSize}, smallest first, into
     * the adjacent region nearest in mean colour, and numbers the regions left 0 to k-1.
     */
    static int[] connected(float[] image, int h, int w, int channels, int[] label, int minSize) {
        int n = h * w;
        int[] piece = new int[n];
        Arrays.fill(piece, -1);
        int pieces = 0;
        int[] queue = new int[n];
        for (int start = 0; start < n; start++) {
            if (piece[start] >= 0) continue;
            int head = 0, tail = 0;
            queue[tail++] = start;
            piece[start] = pieces;
            while (head < tail) {
                int p = queue[head++], y = p / w, x = p % w;
                for (int q : new int[] {y > 0 ? p - w : -1, y < h - 1 ? p + w : -1, x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1})
                    if (q >= 0 && piece[q] < 0 && label[q] == label[p] && label[p] >= 0) {
                        piece[q] = pieces;
                        queue[tail++] = q;
                    }
            }
            pieces++;
        }
        int[] size = new int[pieces];
        double[][] colour = new double[pieces][channels];
        for (int p = 0; p < n; p++) {
            size[piece[p]]++;
            for (int ch = 0; ch < channels; ch++) colour[piece[p]][ch] += image[p * channels + ch];
        }
        // each piece's pixels, contiguous in `members`; a region is a chain of pieces (nextPiece), so
        // looking at a small region's border visits its own pixels only
        int[] first = new int[pieces + 1];
        for (int i = 0; i < pieces; i++) first[i + 1] = first[i] + size[i];
        int[] members = new int[n], fillAt = Arrays.copyOf(first, pieces);
        for (int p = 0; p < n; p++) members[fillAt[piece[p]]++] = p;
        int[] parent = new int[pieces], nextPiece = new int[pieces], lastPiece = new int[pieces];
        for (int i = 0; i < pieces; i++) {
            parent[i] = i;
            nextPiece[i] = -1;
            lastPiece[i] = i;
        }
        Integer[] bySize = new Integer[pieces];
        for (int i = 0; i < pieces; i++) bySize[i] = i;
        Arrays.sort(bySize, (a, b) -> Integer.compare(size[a], size[b]));
        for (int small : bySize) {
            int r = find(parent, small);
            if (r != small || size[r] >= minSize) continue;   // already merged away, or big enough
            int into = -1;
            double nearest = Double.POSITIVE_INFINITY;
            for (int pc = r; pc >= 0; pc = nextPiece[pc])
                for (int at = first[pc]; at < first[pc + 1]; at++) {
                    int p = members[at], y = p / w, x = p % w;
                    for (int q : new int[] {y > 0 ? p - w : -1, y < h - 1 ? p + w : -1, x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1}) {
                        if (q < 0) continue;
                        int other = find(parent, piece[q]);
                        if (other == r) continue;
                        double d = 0;
                        for (int ch = 0; ch < channels; ch++) {
                            double dc = colour[r][ch] / size[r] - colour[other][ch] / size[other];
                            d += dc * dc;
                        }
                        if (d < nearest || (d == nearest && other < into)) {
                            nearest = d;
                            into = other;
                        }
                    }
                }
            if (into < 0) continue;   // the whole image: nothing to merge into
            parent[r] = into;
            size[into] += size[r];
            for (int ch = 0; ch < channels; ch++) colour[into][ch] += colour[r][ch];
            nextPiece[lastPiece[into]] = r;
            lastPiece[into] = lastPiece[r];
        }
        int[] number = new int[pieces];
        Arrays.fill(number, -1);
        int next = 0;
        int[] out = new int[n];
        for (int p = 0; p < n; p++) {
            int r = find(parent, piece[p]);
            if (number[r] < 0) number[r] = next++;
            out[p] = number[r];
        }
        return out;
    }

    private static int find(int[] parent, int i) {
        while (parent[i] != i) {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        return i;
    }
}
