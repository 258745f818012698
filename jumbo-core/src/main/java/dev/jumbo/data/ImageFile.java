package dev.jumbo.data;

import dev.jumbo.tensor.Shape;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * An image file made into one example for a classifier, the way its training images were made:
 * resized to the model's height and width (each output pixel the average of the input pixels
 * under it, so shrinking does not alias), grey (ITU-R 601 luma) for one channel or RGB for
 * three, scaled to [0, 1]; transparent pixels count as black, the background of MNIST-like data.
 * {@code jumbo serve}'s predict route and {@code jumbo explain} read images through it.
 *
 * <pre>{@code
 * ImageFile.Layout layout = ImageFile.layout(model.inputShape());   // [28, 28, 1]
 * float[] x = ImageFile.read(Files.readAllBytes(Path.of("shoe.png")), layout, "shoe.png");
 * }</pre>
 */
public final class ImageFile {
    /** Images beyond this many pixels are refused before decoding: a small compressed file can hold a huge one. */
    public static final long MAX_PIXELS = 4096L * 4096;

    /** The height, width and channels (1 or 3) a model's example holds, in [h, w, c] order. */
    public record Layout(int height, int width, int channels) {}

    private ImageFile() {}

    /** The image layout of a model's input: [h, w, 1 or 3], [h, w] (grey) or [h*w] with h = w (grey); null when it takes no images. */
    public static Layout layout(Shape shape) {
        int[] d = shape.toArray();
        if (d.length == 3 && (d[2] == 1 || d[2] == 3)) return new Layout(d[0], d[1], d[2]);
        if (d.length == 2) return new Layout(d[0], d[1], 1);
        if (d.length == 1) {
            int side = (int) Math.round(Math.sqrt(d[0]));
            if (side * side == d[0]) return new Layout(side, side, 1);
        }
        return null;
    }

    /**
     * The pixels of {@code file} laid out as {@code layout} says, row by row, channels last.
     *
     * @param what how error messages name the image ("image 2", a file name)
     * @throws IllegalArgumentException if the file is not an image Java reads, is corrupt, or holds more than {@link #MAX_PIXELS}
     */
    public static float[] read(byte[] file, Layout layout, String what) {
        BufferedImage image = decode(file, what);
        int w = image.getWidth(), h = image.getHeight(), c = layout.channels();
        int[] argb = argb(image);
        float[] out = new float[layout.height() * layout.width() * c];
        double[] sum = new double[3];
        for (int y = 0; y < layout.height(); y++) {
            int y0 = y * h / layout.height(), y1 = Math.max(y0 + 1, (y + 1) * h / layout.height());
            for (int x = 0; x < layout.width(); x++) {
                int x0 = x * w / layout.width(), x1 = Math.max(x0 + 1, (x + 1) * w / layout.width());
                sum[0] = sum[1] = sum[2] = 0;
                for (int sy = y0; sy < y1; sy++)
                    for (int sx = x0; sx < x1; sx++) {
                        int p = argb[sy * w + sx];
                        double alpha = (p >>> 24) / 255.0; // over black
                        sum[0] += ((p >> 16) & 0xFF) * alpha;
                        sum[1] += ((p >> 8) & 0xFF) * alpha;
                        sum[2] += (p & 0xFF) * alpha;
                    }
                double n = 255.0 * (y1 - y0) * (x1 - x0);
                int o = (y * layout.width() + x) * c;
                if (c == 1) out[o] = (float) ((0.299 * sum[0] + 0.587 * sum[1] + 0.114 * sum[2]) / n);
                else for (int k = 0; k < 3; k++) out[o + k] = (float) (sum[k] / n);
            }
        }
        return out;
    }

    /**
     * The pixels as ARGB. A grey image's samples are taken as stored: {@code getRGB} reads a grey
     * PNG or JPEG as linear grey and brightens it into sRGB (64 becomes 137, 128 becomes 188),
     * whereas MNIST-like files store the values the model was trained on.
     */
    private static int[] argb(BufferedImage image) {
        int w = image.getWidth(), h = image.getHeight();
        ColorModel cm = image.getColorModel();
        if (cm.getColorSpace().getType() != ColorSpace.TYPE_GRAY) return image.getRGB(0, 0, w, h, null, 0, w);
        Raster raster = image.getRaster();
        double grey = 255.0 / ((1 << raster.getSampleModel().getSampleSize(0)) - 1); // 8 or 16 bits to 8
        int alphaBand = cm.hasAlpha() ? raster.getNumBands() - 1 : -1;
        double alpha = alphaBand < 0 ? 0 : 255.0 / ((1 << raster.getSampleModel().getSampleSize(alphaBand)) - 1);
        int[] out = new int[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int g = (int) Math.round(raster.getSample(x, y, 0) * grey);
                int a = alphaBand < 0 ? 255 : (int) Math.round(raster.getSample(x, y, alphaBand) * alpha);
                out[y * w + x] = a << 24 | g * 0x010101;
            }
        return out;
    }

    private static BufferedImage decode(byte[] file, String what) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(file))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext())
                throw new IllegalArgumentException(capitalized(what) + " is not an image file Jumbo reads (PNG, JPEG, GIF or BMP).");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > MAX_PIXELS)
                    throw new IllegalArgumentException(capitalized(what) + " is " + reader.getWidth(0) + "x" + reader.getHeight(0) + " pixels; Jumbo takes at most "
                            + MAX_PIXELS + " pixels.");
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof IllegalArgumentException mine && mine.getMessage().startsWith(capitalized(what))) throw mine;
            // a truncated or corrupt file: the decoders throw IOException, and some an unchecked exception
            throw new IllegalArgumentException(capitalized(what) + " could not be decoded: " + e.getMessage(), e);
        }
    }

    private static String capitalized(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
