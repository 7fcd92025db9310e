package org.conv4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The repository carries its shapes (bench/shapes.csv): the default, and the same rows as the shared set. */
class ShapesFileTest {
    @Test
    void defaultIsTheRepositorysOwnFile() throws Exception {
        Assumptions.assumeTrue(System.getProperty(Shape.SHAPES_PROPERTY) == null);
        assertEquals(Path.of("shapes.csv").toRealPath(), Shape.shapesFile().toRealPath());
        List<Shape> shapes = Shape.load();
        assertEquals(13, shapes.size());
        assertEquals("seed1d", shapes.get(0).name());
        assertEquals("wavenet1d", shapes.get(shapes.size() - 1).name());
    }

    /** When the shared folder sits beside the checkout (CI), both files hold the same shapes. */
    @Test
    void sameShapesAsTheSharedSet() throws Exception {
        Path shared = Path.of("../../shared/bench-shapes.csv");
        Assumptions.assumeTrue(Files.isRegularFile(shared), "no ../shared beside the checkout");
        assertEquals(Shape.load(shared), Shape.load(Path.of("shapes.csv")));
    }
}
