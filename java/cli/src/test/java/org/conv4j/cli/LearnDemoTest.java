package org.conv4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LearnDemoTest {
    @TempDir
    Path dir;

    private static double lastDifference(String out, String label) {
        String[] lines = out.strip().split("\\R");
        Matcher m = Pattern.compile("largest \\|learned - " + Pattern.quote(label) + "\\| = (\\S+)")
                .matcher(lines[lines.length - 1]);
        assertTrue(m.matches(), "last line: " + lines[lines.length - 1]);
        return Double.parseDouble(m.group(1));
    }

    private static List<Double> losses(String out) {
        List<Double> losses = new ArrayList<>();
        Matcher m = Pattern.compile("epoch \\d+/\\d+ - loss (\\S+)").matcher(out);
        while (m.find()) {
            losses.add(Double.parseDouble(m.group(1)));
        }
        return losses;
    }

    @Test
    void learnRecoversTheTutorialsLineDetector() {
        CliRun r = CliRun.of("demo", "--learn");
        assertEquals(0, r.exit(), r.out() + r.err());
        assertEquals("", r.err());
        double diff = lastDifference(r.out(), "tutorial");
        assertTrue(diff < 1e-3, "largest difference " + diff + "\n" + r.out());
        List<Double> losses = losses(r.out());
        assertTrue(losses.size() >= 5, r.out());
        assertTrue(losses.get(losses.size() - 1) < losses.get(0) * 1e-6, "loss did not fall: " + losses);
        assertTrue(r.out().contains("detector output (target)") && r.out().contains("tutorial"), r.out());
    }

    @Test
    void learnOnAPictureRecoversSobelAndWritesTheKernelsAndMaps() throws Exception {
        // A synthetic "photograph": smooth shading, a bright disc, a dark bar and some noise.
        int w = 72, h = 56;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Random rnd = new Random(4);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double v = 60 + x + y / 2.0 + ((x - 40) * (x - 40) + (y - 25) * (y - 25) < 200 ? 90 : 0)
                        - (x > 10 && x < 16 ? 50 : 0) + rnd.nextGaussian() * 8;
                int g = (int) Math.max(0, Math.min(255, v));
                img.setRGB(x, y, (g << 16) | (g << 8) | g);
            }
        }
        Path file = dir.resolve("photo.png");
        ImageIO.write(img, "png", file.toFile());
        Path out = dir.resolve("learned");
        CliRun r = CliRun.of("demo", "--learn", "--image", file.toString(), "--out", out.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        double diff = lastDifference(r.out(), "Sobel x");
        assertTrue(diff < 1e-3, "largest difference " + diff + "\n" + r.out());
        for (String name : new String[] {"learned_kernel.png", "sobel_x_kernel.png", "learned_map.png",
            "sobel_x_map.png"}) {
            BufferedImage png = ImageIO.read(out.resolve(name).toFile());
            assertTrue(png != null, name);
            assertEquals(name.contains("kernel") ? 96 : w - 2, png.getWidth(), name);
        }
        // The learned map is the hand-made one: the same picture once scaled for viewing.
        BufferedImage a = ImageIO.read(out.resolve("learned_map.png").toFile());
        BufferedImage b = ImageIO.read(out.resolve("sobel_x_map.png").toFile());
        int differing = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                differing += Math.abs((a.getRGB(x, y) & 0xff) - (b.getRGB(x, y) & 0xff)) > 1 ? 1 : 0;
            }
        }
        assertEquals(0, differing, "pixels of the learned map off by more than one gray level");
        assertTrue(Files.list(out).count() == 4);
    }

    @Test
    void learnWithOutButNoImageIsAUsageError() {
        assertTrue(CliRun.of("demo", "--learn", "--out", dir.toString()).assertOneLineError()
                .contains("--out needs --image"));
    }
}
