package org.conv4j.cli.npy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @TempDir
    Path dir;

    /** A .npy file built byte by byte, so tests control every detail of the header. */
    private static byte[] npy(int major, String header, byte[] data) {
        byte[] headerBytes = header.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        int lengthBytes = major == 1 ? 2 : 4;
        ByteBuffer b = ByteBuffer.allocate(8 + lengthBytes + headerBytes.length + data.length)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            b.putShort((short) headerBytes.length);
        } else {
            b.putInt(headerBytes.length);
        }
        b.put(headerBytes).put(data);
        return b.array();
    }

    private static byte[] floats(ByteOrder order, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(order);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    private Path file(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(dir, "t", ".npy");
        Files.write(p, bytes);
        return p;
    }

    private NpyArray readBytes(byte[] bytes) throws IOException {
        return Npy.read(file(bytes));
    }

    private String rejection(byte[] bytes) {
        return assertThrows(NpyFormatException.class, () -> readBytes(bytes)).getMessage();
    }

    private Path writeFile(NpyArray array) throws IOException {
        Path p = dir.resolve("w" + System.nanoTime() + ".npy");
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            Npy.write(ch, array);
        }
        return p;
    }

    @Test
    void roundTripKeepsShapeAndExactBits() throws IOException {
        float[] data = {0f, -0f, 1.5f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            Float.MIN_VALUE, Float.MAX_VALUE, -3.25e-20f, 7f, 8f, 9f};
        Path p = writeFile(new NpyArray(data, 2, 3, 2));
        NpyArray back = Npy.read(p);
        assertArrayEquals(new int[] {2, 3, 2}, back.shape());
        for (int i = 0; i < data.length; i++) {
            assertEquals(Float.floatToRawIntBits(data[i]), Float.floatToRawIntBits(back.data()[i]), "element " + i);
        }
    }

    @Test
    void roundTripOfScalarEmptyAndLargeArrays() throws IOException {
        assertArrayEquals(new int[0], Npy.read(writeFile(new NpyArray(new float[] {4f}))).shape());
        NpyArray empty = Npy.read(writeFile(new NpyArray(new float[0], 0, 3)));
        assertArrayEquals(new int[] {0, 3}, empty.shape());
        assertEquals(0, empty.data().length);
        // Larger than one 1 MiB I/O chunk, with a length that is not a multiple of it.
        float[] big = new float[(1 << 18) * 3 + 5];
        for (int i = 0; i < big.length; i++) {
            big[i] = i * 0.5f;
        }
        assertArrayEquals(big, Npy.read(writeFile(new NpyArray(big, big.length))).data());
    }

    @Test
    void writesVersion1LittleEndianHeaderAlignedTo64() throws IOException {
        byte[] bytes = Files.readAllBytes(writeFile(new NpyArray(new float[] {1f, 2f}, 1, 2)));
        assertEquals((byte) 0x93, bytes[0]);
        assertEquals("NUMPY", new String(bytes, 1, 5, StandardCharsets.ISO_8859_1));
        assertEquals(1, bytes[6]);
        assertEquals(0, bytes[7]);
        int headerLength = (bytes[8] & 0xFF) | (bytes[9] & 0xFF) << 8;
        assertEquals(0, (10 + headerLength) % 64);
        String header = new String(bytes, 10, headerLength, StandardCharsets.ISO_8859_1);
        assertTrue(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }"), header);
        assertTrue(header.endsWith("\n"));
        assertEquals(10 + headerLength + 8, bytes.length);
        assertEquals(2f, ByteBuffer.wrap(bytes, 10 + headerLength + 4, 4).order(ByteOrder.LITTLE_ENDIAN).getFloat());
    }

    @Test
    void pythonTupleSpelling() {
        assertEquals("()", Npy.pythonTuple(new int[0]));
        assertEquals("(5,)", Npy.pythonTuple(new int[] {5}));
        assertEquals("(1, 8, 8, 1)", Npy.pythonTuple(new int[] {1, 8, 8, 1}));
    }

    @Test
    void readsBigEndianFloat32() throws IOException {
        NpyArray a = readBytes(npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }\n",
                floats(ByteOrder.BIG_ENDIAN, 1.5f, -2f, 1e-30f)));
        assertArrayEquals(new float[] {1.5f, -2f, 1e-30f}, a.data());
        assertArrayEquals(new int[] {3}, a.shape());
    }

    @Test
    void readsVersion2And3Headers() throws IOException {
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }\n";
        byte[] data = floats(ByteOrder.LITTLE_ENDIAN, 3f, 4f);
        assertArrayEquals(new float[] {3f, 4f}, readBytes(npy(2, header, data)).data());
        assertArrayEquals(new float[] {3f, 4f}, readBytes(npy(3, header, data)).data());
    }

    @Test
    void headerSpellingVariantsAreAccepted() throws IOException {
        byte[] data = floats(ByteOrder.LITTLE_ENDIAN, 1f, 2f, 3f, 4f, 5f, 6f);
        String[] headers = {
            "{\"shape\": (2, 3), \"fortran_order\": False, \"descr\": \"<f4\"}",  // other order, double quotes
            "{'descr':'<f4','fortran_order':False,'shape':(2,3)}        \n",       // no spaces, no trailing comma
            "  {\n 'descr' : '<f4' ,\n 'fortran_order' : False ,\n 'shape' : ( 2 , 3 , ) ,\n }\n",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n",     // Python 2 longs
        };
        for (String header : headers) {
            NpyArray a = readBytes(npy(1, header, data));
            assertArrayEquals(new int[] {2, 3}, a.shape(), header);
            assertArrayEquals(new float[] {1f, 2f, 3f, 4f, 5f, 6f}, a.data(), header);
        }
        NpyArray scalar = readBytes(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n",
                floats(ByteOrder.LITTLE_ENDIAN, 9f)));
        assertArrayEquals(new int[0], scalar.shape());
        assertArrayEquals(new float[] {9f}, scalar.data());
    }

    @Test
    void rejectsOtherDtypesNamingThem() {
        String f8 = rejection(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }\n", new byte[8]));
        assertTrue(f8.contains("'<f8'") && f8.contains("float64") && f8.contains("float32"), f8);
        String i4 = rejection(npy(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }\n", new byte[4]));
        assertTrue(i4.contains("'<i4'") && i4.contains("int32"), i4);
        String f2 = rejection(npy(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }\n", new byte[4]));
        assertTrue(f2.contains("float16"), f2);
        String b1 = rejection(npy(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }\n", new byte[4]));
        assertTrue(b1.contains("'|b1'") && b1.contains("bool"), b1);
        String structured = rejection(npy(1,
                "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n", new byte[4]));
        assertTrue(structured.contains("structured"), structured);
    }

    @Test
    void rejectsFortranOrder() {
        String m = rejection(npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }\n", new byte[16]));
        assertTrue(m.contains("Fortran"), m);
    }

    @Test
    void rejectsTruncatedData() {
        String m = rejection(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", new byte[20]));
        assertTrue(m.contains("truncated") && m.contains("24") && m.contains("20"), m);
    }

    @Test
    void rejectsShapeThatDoesNotAccountForAllData() {
        String m = rejection(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", new byte[12]));
        assertTrue(m.contains("12") && m.contains("8"), m);
    }

    @Test
    void rejectsShapeTooLargeForJavaArrays() {
        String m = rejection(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536), }\n",
                new byte[4]));
        assertTrue(m.contains("(65536, 65536)"), m);
        String huge = rejection(npy(1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }\n", new byte[4]));
        assertTrue(huge.contains("too large"), huge);
    }

    @Test
    void rejectsBadMagicVersionAndTruncatedHeader() {
        assertTrue(rejection("just text, not numpy".getBytes(StandardCharsets.US_ASCII)).contains("not a .npy"));
        assertTrue(rejection(new byte[] {(byte) 0x93, 'N', 'U'}).contains("truncated"));
        byte[] v4 = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", new byte[4]);
        v4[6] = 4;
        assertTrue(rejection(v4).contains("version 4.0"));
        byte[] shortHeader = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", new byte[0]);
        shortHeader[8] = (byte) 0xFF; // claims a longer header than the file has
        assertTrue(rejection(shortHeader).contains("truncated"));
    }

    @Test
    void capsTheHeaderLength() {
        ByteBuffer b = ByteBuffer.allocate(12 + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0}).putInt(Npy.MAX_HEADER_BYTES + 1);
        String m = rejection(b.array());
        assertTrue(m.contains("exceeds"), m);
    }

    @Test
    void rejectsMalformedHeaders() {
        String[] headers = {
            "{'descr': '<f4', 'fortran_order': False}",                          // no shape
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",   // unknown key
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': [1]}",            // list, not tuple
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1)}",            // the int 1
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1.0,)}",
            "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)",            // unclosed
            "{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}",            // broken quote
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk",
            "{'descr': '<f4', 'fortran_order': __import__('os'), 'shape': (1,)}",
            "['descr', '<f4']",
            "",
            "(".repeat(100),
        };
        for (String header : headers) {
            NpyFormatException e = assertThrows(NpyFormatException.class,
                    () -> readBytes(npy(1, header + "\n", new byte[4])), header);
            assertTrue(!e.getMessage().isBlank() && !e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void arrayShapeMustMatchData() {
        assertThrows(IllegalArgumentException.class, () -> new NpyArray(new float[3], 2, 2));
        assertThrows(IllegalArgumentException.class, () -> new NpyArray(new float[0], -1));
    }
}
