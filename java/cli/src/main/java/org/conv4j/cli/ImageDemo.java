package org.conv4j.cli;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.conv4j.Backend;
import org.conv4j.Conv2D;

/**
 * {@code demo --image}: the tutorial's filters on a real picture. The picture becomes a grayscale
 * tensor [1, H, W, 1] (luma 0.299 R + 0.587 G + 0.114 B, in [0, 1]) and an RGB tensor [1, H, W, 3];
 * zero-mean line detectors and Sobel run on the grayscale one, a 3×3×3 filter on the RGB one. Each map
 * is written as a PNG scaled min→0, max→255, and a sheet puts the input and the maps side by side.
 */
final class ImageDemo {
    /*
     * On a photograph the tutorial's all-positive detectors mostly blur (a bright area scores like a
     * line), so the picture gets their zero-mean form: the centre column (row) against its neighbours.
     */
    static final float[] LINE_VERTICAL = {-1, 2, -1, -1, 2, -1, -1, 2, -1};
    static final float[] LINE_HORIZONTAL = {-1, -1, -1, 2, 2, 2, -1, -1, -1};
    static final float[] SOBEL_X = {-1, 0, 1, -2, 0, 2, -1, 0, 1};
    static final float[] SOBEL_Y = {-1, -2, -1, 0, 0, 0, 1, 2, 1};

    /** One feature map: its name, size and values (row-major). */
    record FeatureMap(String name, int height, int width, float[] values) {
    }

    private ImageDemo() {
    }

    static BufferedImage read(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw new CliException("--image " + file + " is a directory, not an image file");
        }
        if (!Files.isReadable(file)) {
            throw new CliException("--image " + file + ": " + (Files.exists(file) ? "permission denied"
                    : "no such file"));
        }
        BufferedImage image;
        try (InputStream in = Files.newInputStream(file)) {
            image = ImageIO.read(in);
        } catch (IOException | RuntimeException e) {
            throw new CliException("--image " + file + " cannot be decoded: " + Main.oneLine(e.getMessage()));
        }
        if (image == null) {
            throw new CliException("--image " + file + " is not a PNG, JPEG, GIF or BMP image that ImageIO can read");
        }
        return image;
    }

    /** Scales so the longer side is at most maxSize (never up); keeps the image when it fits. */
    static BufferedImage fit(BufferedImage image, int maxSize) {
        int longer = Math.max(image.getWidth(), image.getHeight());
        if (longer <= maxSize) {
            return image;
        }
        double scale = (double) maxSize / longer;
        int w = Math.max(1, (int) Math.round(image.getWidth() * scale));
        int h = Math.max(1, (int) Math.round(image.getHeight() * scale));
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(image, 0, 0, w, h, null);
        g.dispose();
        return out;
    }

    /** [H, W, 1] luma in [0, 1]. */
    static float[] grayscale(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        float[] t = new float[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = image.getRGB(x, y);
                t[y * w + x] = (0.299f * ((rgb >> 16) & 0xff) + 0.587f * ((rgb >> 8) & 0xff) + 0.114f * (rgb & 0xff))
                        / 255f;
            }
        }
        return t;
    }

    /** [H, W, 3] R, G, B in [0, 1]. */
    static float[] rgb(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        float[] t = new float[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = image.getRGB(x, y);
                int i = (y * w + x) * 3;
                t[i] = ((rgb >> 16) & 0xff) / 255f;
                t[i + 1] = ((rgb >> 8) & 0xff) / 255f;
                t[i + 2] = (rgb & 0xff) / 255f;
            }
        }
        return t;
    }

    /** The maps the demo draws, in sheet order. */
    static List<FeatureMap> featureMaps(BufferedImage image, Backend backend) {
        int w = image.getWidth();
        int h = image.getHeight();
        if (w < 3 || h < 3) {
            throw new CliException("--image must be at least 3x3 pixels for 3x3 filters, got " + w + "x" + h);
        }
        float[] gray = grayscale(image);
        String[] names = {"vertical", "horizontal", "sobel_x", "sobel_y"};
        float[] kernel = TutorialExamples.kernel(new float[][][] {
            {LINE_VERTICAL}, {LINE_HORIZONTAL}, {SOBEL_X}, {SOBEL_Y}}, 1);
        List<FeatureMap> maps = new ArrayList<>();
        int oh = h - 2;
        int ow = w - 2;
        try (Conv2D layer = Conv2D.builder().filters(4).kernelSize(3).useBias(false).backend(backend).build()) {
            layer.setWeights(kernel, null);
            float[] out = layer.predict(gray, 1, h, w, 1);
            for (int f = 0; f < names.length; f++) {
                maps.add(new FeatureMap(names[f], oh, ow, TutorialExamples.channel(out, 4, f)));
            }
        }
        // The tutorial's "one map that highlights all lines": both detectors' responses added.
        float[] lines = new float[oh * ow];
        for (int i = 0; i < lines.length; i++) {
            lines[i] = maps.get(0).values()[i] + maps.get(1).values()[i];
        }
        maps.add(2, new FeatureMap("lines", oh, ow, lines));
        float[] edges = new float[oh * ow];
        for (int i = 0; i < edges.length; i++) {
            float gx = maps.get(3).values()[i];
            float gy = maps.get(4).values()[i];
            edges[i] = (float) Math.sqrt(gx * gx + gy * gy);
        }
        maps.add(new FeatureMap("edges", oh, ow, edges));
        // One 3x3x3 filter over the RGB tensor: the vertical detector on every channel, summed.
        try (Conv2D layer = Conv2D.builder().filters(1).kernelSize(3).useBias(false).backend(backend).build()) {
            layer.setWeights(TutorialExamples.kernel(new float[][][] {{LINE_VERTICAL, LINE_VERTICAL, LINE_VERTICAL}}, 3),
                    null);
            maps.add(new FeatureMap("rgb_vertical", oh, ow, layer.predict(rgb(image), 1, h, w, 3)));
        }
        return maps;
    }

    /** Gray level of each value: min → 0, max → 255, linear in between; all 0 for a constant map. */
    static int[] scaleForViewing(float[] values) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : values) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        int[] levels = new int[values.length];
        if (!(max > min)) {
            return levels;
        }
        double range = (double) max - min;
        for (int i = 0; i < values.length; i++) {
            levels[i] = (int) Math.round(255.0 * (values[i] - min) / range);
        }
        return levels;
    }

    static BufferedImage toImage(FeatureMap map) {
        int[] levels = scaleForViewing(map.values());
        BufferedImage img = new BufferedImage(map.width(), map.height(), BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < map.height(); y++) {
            for (int x = 0; x < map.width(); x++) {
                img.getRaster().setSample(x, y, 0, levels[y * map.width() + x]);
            }
        }
        return img;
    }

    /** What the sheet writes under each map, as a figure in the tutorial would caption it. */
    static String label(String mapName) {
        return switch (mapName) {
            case "input" -> "input";
            case "vertical" -> "vertical lines";
            case "horizontal" -> "horizontal lines";
            case "lines" -> "all lines";
            case "sobel_x" -> "Sobel x";
            case "sobel_y" -> "Sobel y";
            case "edges" -> "edge magnitude";
            case "rgb_vertical" -> "RGB vertical";
            default -> mapName;
        };
    }

    /** Caption font size for tiles of this height: 11 to 16 px. */
    static int labelSize(int tileHeight) {
        return Math.max(11, Math.min(16, tileHeight / 8));
    }

    /**
     * The input and the maps in a grid, input first, 4 columns, 8 px gaps on white, each tile
     * captioned below with its {@link #label} (dark gray, java.awt's sans-serif font, headless).
     * A cell is as wide as its tile or its longest caption, whichever is wider.
     */
    static BufferedImage sheet(BufferedImage input, List<BufferedImage> maps, List<String> labels) {
        if (labels == null) {
            return uncaptioned(input, maps);
        }
        if (labels.size() != maps.size() + 1) {
            throw new IllegalArgumentException(labels.size() + " labels for " + (maps.size() + 1) + " tiles");
        }
        int gap = 8;
        int cols = 4;
        int tiles = maps.size() + 1;
        int rows = (tiles + cols - 1) / cols;
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, labelSize(input.getHeight()));
        BufferedImage scratch = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D measure = scratch.createGraphics();
        FontMetrics metrics = measure.getFontMetrics(font);
        int labelW = 0;
        for (String l : labels) {
            labelW = Math.max(labelW, metrics.stringWidth(l));
        }
        measure.dispose();
        int band = metrics.getHeight() + 4; // the caption's line plus 4 px between tile and text
        int cellW = Math.max(input.getWidth(), labelW);
        int cellH = input.getHeight() + band;
        BufferedImage sheet = new BufferedImage(cols * cellW + (cols + 1) * gap, rows * cellH + (rows + 1) * gap,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = sheet.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, sheet.getWidth(), sheet.getHeight());
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(font);
        g.setColor(new Color(0x30, 0x30, 0x30));
        for (int t = 0; t < tiles; t++) {
            BufferedImage tile = t == 0 ? input : maps.get(t - 1);
            int cellX = gap + (t % cols) * (cellW + gap);
            int cellY = gap + (t / cols) * (cellH + gap);
            int tileTop = cellY + (input.getHeight() - tile.getHeight()) / 2;
            g.drawImage(tile, cellX + (cellW - tile.getWidth()) / 2, tileTop, null);
            String text = labels.get(t);
            g.drawString(text, cellX + (cellW - metrics.stringWidth(text)) / 2,
                    cellY + input.getHeight() + 4 + metrics.getAscent());
        }
        g.dispose();
        return sheet;
    }

    /** The grid of {@link #sheet} without captions, for a JRE that has no font. */
    private static BufferedImage uncaptioned(BufferedImage input, List<BufferedImage> maps) {
        int gap = 8;
        int cols = 4;
        int tiles = maps.size() + 1;
        int rows = (tiles + cols - 1) / cols;
        int cellW = input.getWidth();
        int cellH = input.getHeight();
        BufferedImage sheet = new BufferedImage(cols * cellW + (cols + 1) * gap, rows * cellH + (rows + 1) * gap,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = sheet.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, sheet.getWidth(), sheet.getHeight());
        for (int t = 0; t < tiles; t++) {
            BufferedImage tile = t == 0 ? input : maps.get(t - 1);
            g.drawImage(tile, gap + (t % cols) * (cellW + gap) + (cellW - tile.getWidth()) / 2,
                    gap + (t / cols) * (cellH + gap) + (cellH - tile.getHeight()) / 2, null);
        }
        g.dispose();
        return sheet;
    }

    /** Writes each image as a PNG file, atomically. */
    static void writePngs(Map<Path, BufferedImage> files) throws IOException {
        for (Map.Entry<Path, BufferedImage> f : files.entrySet()) {
            AtomicFiles.write(f.getKey(), channel -> {
                // Not closed here: AtomicFiles forces and closes the channel.
                if (!ImageIO.write(f.getValue(), "png", Channels.newOutputStream(channel))) {
                    throw new IOException("no PNG writer in this JDK");
                }
            });
        }
    }

    /** Checks {@code --out} (creating it) and reads the picture. */
    static BufferedImage prepare(Path imageFile, Path outDir) throws IOException {
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new CliException("--out " + outDir + " exists and is not a directory");
        }
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true"); // the sheet's captions need fonts, not a display
        }
        BufferedImage image = read(imageFile);
        Files.createDirectories(outDir);
        if (!Files.isWritable(outDir)) {
            throw new CliException("--out " + outDir + ": permission denied");
        }
        return image;
    }

    /** Runs the image demo; returns the files written, in order. */
    static List<Path> run(PrintWriter out, Path imageFile, Path outDir, int maxSize, Backend backend)
            throws IOException {
        BufferedImage original = prepare(imageFile, outDir);
        BufferedImage image = fit(original, maxSize);
        out.println("filters: line detectors in zero-mean form ([-1, 2, -1] across a line), their sum, Sobel x/y and"
                + " its magnitude, and one 3x3x3 vertical-line filter over R, G and B");
        out.println("image " + imageFile + ": " + original.getWidth() + "x" + original.getHeight()
                + (image == original ? "" : ", scaled to " + image.getWidth() + "x" + image.getHeight())
                + "; tensors [1, " + image.getHeight() + ", " + image.getWidth() + ", 1] (gray) and [1, "
                + image.getHeight() + ", " + image.getWidth() + ", 3] (RGB)");
        List<FeatureMap> maps = featureMaps(image, backend);
        Map<Path, BufferedImage> files = new LinkedHashMap<>();
        BufferedImage grayInput = toImage(new FeatureMap("input", image.getHeight(), image.getWidth(), grayscale(image)));
        files.put(outDir.resolve("input_gray.png"), grayInput);
        List<BufferedImage> mapImages = new ArrayList<>();
        for (FeatureMap m : maps) {
            BufferedImage img = toImage(m);
            mapImages.add(img);
            files.put(outDir.resolve(m.name() + ".png"), img);
            float min = Float.POSITIVE_INFINITY;
            float max = Float.NEGATIVE_INFINITY;
            for (float v : m.values()) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            out.printf("  %-13s %dx%d  min %.4g  max %.4g%n", m.name(), m.width(), m.height(), min, max);
        }
        List<String> labels = new ArrayList<>();
        labels.add(label("input"));
        maps.forEach(m -> labels.add(label(m.name())));
        BufferedImage sheet;
        try {
            sheet = sheet(image, mapImages, labels);
        } catch (RuntimeException | Error e) {
            if (e instanceof VirtualMachineError && !(e instanceof InternalError)) {
                throw e;
            }
            // A JRE without any font (no fontconfig fonts): the maps still, uncaptioned.
            out.println("sheet.png: no font to caption the maps (" + Main.oneLine(String.valueOf(e)) + "); install"
                    + " a font package such as fonts-dejavu-core for captions");
            sheet = sheet(image, mapImages, null);
        }
        files.put(outDir.resolve("sheet.png"), sheet);
        writePngs(files);
        out.println("wrote " + files.size() + " PNG files to " + outDir + " (maps scaled min->0, max->255; sheet: "
                + "input, " + String.join(", ", maps.stream().map(FeatureMap::name).toList()) + ", each captioned)");
        return new ArrayList<>(files.keySet());
    }
}
