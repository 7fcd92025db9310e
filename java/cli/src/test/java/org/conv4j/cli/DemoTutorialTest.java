package org.conv4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.conv4j.Backend;
import org.conv4j.Conv2D;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tutorial's later examples in {@code demo}, and {@code demo --image}. */
class DemoTutorialTest {
    @TempDir
    Path dir;

    @Test
    void demoShowsLinesMultipleFiltersAndStackedLayers() {
        CliRun r = CliRun.of("demo");
        assertEquals(0, r.exit(), r.out() + r.err());
        String out = r.out();
        assertTrue(out.contains("Example 3: a vertical and a horizontal line detector"), out);
        assertTrue(out.contains("lines stand out in the combined map: yes"), out);
        assertTrue(out.contains("output [1, 4, 4, 4]: depth 4 = the number of filters"), out);
        assertTrue(out.contains("only the crossing fires: yes"), out);
        assertTrue(out.contains("Total params: 21"), out);
        // The vertical map's first rows, as the tutorial prints a 6x6 map: the line column scores 3.
        assertTrue(out.contains("    0 3 0 0 0 0     1 1 1 0 0 0\n"), out);
        assertTrue(out.endsWith("demo: all results match the tutorial.\n"), out);
    }

    /** A picture with a bright vertical bar, a horizontal bar and a red square. */
    private Path picture(String name, int w, int h, String format) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int v = x == w / 3 || y == h / 2 ? 255 : (x * 7 + y * 3) % 60;
                int red = x > 2 * w / 3 && y < h / 3 ? 255 : v;
                img.setRGB(x, y, (red << 16) | (v << 8) | v);
            }
        }
        Path file = dir.resolve(name);
        assertTrue(ImageIO.write(img, format, file.toFile()));
        return file;
    }

    @Test
    void imageDemoWritesEveryMapScaledForViewing() throws IOException {
        Path png = picture("bars.png", 21, 15, "png");
        Path out = dir.resolve("maps");
        CliRun r = CliRun.of("demo", "--image", png.toString(), "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err());
        List<String> names = List.of("input_gray", "vertical", "horizontal", "lines", "sobel_x", "sobel_y", "edges",
                "rgb_vertical", "sheet");
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(names.size(), files.count(), "no other (temporary) files left");
        }
        BufferedImage source = ImageIO.read(png.toFile());
        float[] gray = ImageDemo.grayscale(source);
        float[] maps;
        try (Conv2D layer = Conv2D.builder().filters(1).kernelSize(3).useBias(false).backend(Backend.JAVA).build()) {
            layer.setWeights(ImageDemo.LINE_VERTICAL, null);
            maps = layer.predict(gray, 1, 15, 21, 1);
        }
        int[] expected = ImageDemo.scaleForViewing(maps);
        BufferedImage vertical = ImageIO.read(out.resolve("vertical.png").toFile());
        assertEquals(19, vertical.getWidth());
        assertEquals(13, vertical.getHeight());
        int[] actual = new int[expected.length];
        for (int y = 0; y < 13; y++) {
            for (int x = 0; x < 19; x++) {
                actual[y * 19 + x] = vertical.getRaster().getSample(x, y, 0);
            }
        }
        // Native and Java sum in different orders; a level may round the other way at a .5 boundary.
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Math.abs(expected[i] - actual[i]) <= 1, "pixel " + i + ": " + actual[i] + " vs " + expected[i]);
        }
        int column = 21 / 3 - 1; // the output column whose window is centred on the bright bar
        assertTrue(vertical.getRaster().getSample(column, 0, 0) > 200, "the bar is among the brightest responses");
        assertTrue(vertical.getRaster().getSample(column + 3, 0, 0) < 150, "beside the bar the response is low");
        for (String n : names) {
            BufferedImage img = ImageIO.read(out.resolve(n + ".png").toFile());
            if (n.equals("sheet")) {
                assertSheetIsCaptioned(img, 21, 15);
            } else if (n.equals("input_gray")) {
                assertEquals(21, img.getWidth());
            } else {
                assertEquals(19, img.getWidth(), n);
                assertEquals(13, img.getHeight(), n);
            }
        }
        assertTrue(r.out().contains("wrote 9 PNG files"), r.out());
    }

    /**
     * The sheet: input + 7 maps in 2 rows of 4 cells, each cell a tile and a caption band below it
     * (so taller than the tiles alone), the caption drawn in dark pixels on the white band, and
     * cells at least as wide as the tiles.
     */
    private static void assertSheetIsCaptioned(BufferedImage sheet, int tileW, int tileH) {
        int gap = 8;
        assertTrue(sheet.getWidth() >= 4 * tileW + 5 * gap, "width " + sheet.getWidth());
        int cellH = (sheet.getHeight() - 3 * gap) / 2;
        assertEquals(sheet.getHeight(), 2 * cellH + 3 * gap, "two rows of equal cells");
        int band = cellH - tileH;
        assertTrue(band >= 11, "a caption band of at least one line of text below each tile, got " + band + " px");
        for (int row = 0; row < 2; row++) {
            int top = gap + row * (cellH + gap) + tileH;
            int dark = 0;
            for (int y = top; y < top + band; y++) {
                for (int x = 0; x < sheet.getWidth(); x++) {
                    int rgb = sheet.getRGB(x, y) & 0xffffff;
                    if ((rgb & 0xff) < 128) {
                        dark++;
                    }
                }
            }
            assertTrue(dark > 4 * 20, "row " + row + ": caption text drawn in the band (" + dark + " dark pixels)");
        }
    }

    @Test
    void sheetLabelsEveryMap() {
        assertEquals("input", ImageDemo.label("input"));
        assertEquals("vertical lines", ImageDemo.label("vertical"));
        assertEquals("horizontal lines", ImageDemo.label("horizontal"));
        assertEquals("edge magnitude", ImageDemo.label("edges"));
        BufferedImage tile = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB); // black tiles
        BufferedImage sheet = ImageDemo.sheet(tile, List.of(tile), List.of("input", "vertical lines"));
        assertTrue(sheet.getHeight() > 30 + 2 * 8, "taller than the tiles: a caption band");
        int captionTop = 8 + 30;
        boolean text = false;
        for (int y = captionTop; y < sheet.getHeight() - 8 && !text; y++) {
            for (int x = 0; x < sheet.getWidth(); x++) {
                text |= (sheet.getRGB(x, y) & 0xff) < 128;
            }
        }
        assertTrue(text, "caption pixels differ from the white background");
        assertThrows(IllegalArgumentException.class, () -> ImageDemo.sheet(tile, List.of(tile), List.of("input")));
        BufferedImage plain = ImageDemo.sheet(tile, List.of(tile), null); // a JRE without fonts: no captions
        assertEquals(30 + 2 * 8, plain.getHeight());
        assertEquals(4 * 40 + 5 * 8, plain.getWidth());
    }

    @Test
    void jpegIsReadAndLargePicturesAreScaledDown() throws IOException {
        Path jpg = picture("bars.jpg", 64, 40, "jpg");
        Path out = dir.resolve("small");
        CliRun r = CliRun.of("demo", "--image", jpg.toString(), "--out", out.toString(), "--max-size", "32");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("64x40, scaled to 32x20"), r.out());
        BufferedImage lines = ImageIO.read(out.resolve("lines.png").toFile());
        assertEquals(30, lines.getWidth());
        assertEquals(18, lines.getHeight());
    }

    @Test
    void scalingMapsMinToBlackAndMaxToWhite() {
        assertArrayEquals(new int[] {0, 128, 255}, ImageDemo.scaleForViewing(new float[] {-1, 0, 1}));
        assertArrayEquals(new int[] {0, 0}, ImageDemo.scaleForViewing(new float[] {2, 2}));
    }

    @Test
    void badImagesGetOneLineAndExitTwo() throws IOException {
        Path out = dir.resolve("none");
        String line = CliRun.of("demo", "--image", dir.resolve("missing.png").toString(), "--out", out.toString())
                .assertOneLineError();
        assertTrue(line.contains("no such file"), line);
        Path garbage = dir.resolve("garbage.png");
        Files.write(garbage, new byte[] {1, 2, 3, 4, 5});
        line = CliRun.of("demo", "--image", garbage.toString(), "--out", out.toString()).assertOneLineError();
        assertTrue(line.contains("not a PNG, JPEG"), line);
        line = CliRun.of("demo", "--image", dir.toString(), "--out", out.toString()).assertOneLineError();
        assertTrue(line.contains("is a directory"), line);
        Path png = picture("ok.png", 8, 8, "png");
        Path file = Files.writeString(dir.resolve("afile"), "x");
        line = CliRun.of("demo", "--image", png.toString(), "--out", file.toString()).assertOneLineError();
        assertTrue(line.contains("is not a directory"), line);
        line = CliRun.of("demo", "--out", out.toString()).assertOneLineError();
        assertTrue(line.contains("--out needs --image"), line);
        Path tiny = picture("tiny.png", 2, 9, "png");
        line = CliRun.of("demo", "--image", tiny.toString(), "--out", out.toString()).assertOneLineError();
        assertTrue(line.contains("at least 3x3"), line);
        assertFalse(Files.exists(out.resolve("vertical.png")), "nothing written for a failed run");
    }
}
