package org.conv4j.cli.npy;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads and writes float32 arrays in NumPy's .npy format
 * (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
 * Reading accepts format versions 1.0, 2.0 and 3.0, little- and big-endian float32, C order only;
 * writing produces version 1.0 little-endian ('&lt;f4').
 */
public final class Npy {
    /** Far above any real header (numpy itself refuses headers over 10 KB by default). */
    public static final int MAX_HEADER_BYTES = 1 << 20;

    /** Java arrays cannot be quite Integer.MAX_VALUE long on common VMs. */
    static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int HEADER_ALIGNMENT = 64;
    private static final int CHUNK_BYTES = 1 << 20;
    private static final Set<String> HEADER_KEYS = Set.of("descr", "fortran_order", "shape");

    private Npy() {
    }

    /** What a header says: byte order and shape of a float32 array, and where its data starts. */
    record Header(ByteOrder order, int[] shape, long dataOffset) {
        long elementCount() {
            return NpyArray.elementCount(shape);
        }
    }

    /** Reads a whole float32 array, checking that the data is exactly as long as the shape says. */
    public static NpyArray read(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            Header header = readHeader(channel);
            long needed = header.elementCount() * Float.BYTES;
            long present = channel.size() - header.dataOffset();
            if (present < needed) {
                throw new NpyFormatException("truncated data: shape " + shapeText(header.shape()) + " needs "
                        + needed + " bytes of float32 data but the file holds only " + present);
            }
            if (present > needed) {
                throw new NpyFormatException("the file holds " + present + " bytes of data but shape "
                        + shapeText(header.shape()) + " accounts for only " + needed
                        + " (wrong shape in the header, or trailing bytes)");
            }
            float[] data = new float[(int) header.elementCount()];
            readFloats(channel, header.order(), data);
            return new NpyArray(data, header.shape());
        }
    }

    /** Parses and validates the magic string, version and header dict; leaves the channel at the data. */
    static Header readHeader(FileChannel channel) throws IOException {
        ByteBuffer preamble = ByteBuffer.allocate(MAGIC.length + 2).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, preamble, "the .npy preamble");
        for (int i = 0; i < MAGIC.length; i++) {
            if (preamble.get(i) != MAGIC[i]) {
                throw new NpyFormatException("not a .npy file (it does not start with \\x93NUMPY)");
            }
        }
        int major = Byte.toUnsignedInt(preamble.get(MAGIC.length));
        int minor = Byte.toUnsignedInt(preamble.get(MAGIC.length + 1));
        if (minor != 0 || major < 1 || major > 3) {
            throw new NpyFormatException("unsupported .npy format version " + major + "." + minor
                    + " (supported: 1.0, 2.0, 3.0)");
        }
        int lengthBytes = major == 1 ? 2 : 4;
        ByteBuffer lengthBuffer = ByteBuffer.allocate(lengthBytes).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, lengthBuffer, "the header length");
        long headerLength = major == 1 ? Short.toUnsignedInt(lengthBuffer.getShort(0))
                : Integer.toUnsignedLong(lengthBuffer.getInt(0));
        if (headerLength > MAX_HEADER_BYTES) {
            throw new NpyFormatException("header length " + headerLength + " exceeds the limit of "
                    + MAX_HEADER_BYTES + " bytes");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        readFully(channel, headerBytes, "the header (" + headerLength + " bytes)");
        headerBytes.flip();
        String text = decodeHeader(headerBytes, major);
        long dataOffset = MAGIC.length + 2 + lengthBytes + headerLength;
        return interpretHeader(text, dataOffset);
    }

    private static String decodeHeader(ByteBuffer bytes, int major) throws NpyFormatException {
        if (major < 3) {
            return StandardCharsets.ISO_8859_1.decode(bytes).toString();
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw new NpyFormatException("header of a version 3.0 file is not valid UTF-8");
        }
    }

    /** Checks the header dict: exactly the keys descr, fortran_order and shape, describing float32 C order. */
    static Header interpretHeader(String text, long dataOffset) throws NpyFormatException {
        Object parsed = PyLiteral.parse(text);
        if (!(parsed instanceof Map)) {
            throw new NpyFormatException("header is not a dict: " + PyLiteral.quoteForMessage(text));
        }
        Map<?, ?> dict = (Map<?, ?>) parsed;
        for (String key : HEADER_KEYS) {
            if (!dict.containsKey(key)) {
                throw new NpyFormatException("header has no '" + key + "' key: " + PyLiteral.quoteForMessage(text));
            }
        }
        for (Object key : dict.keySet()) {
            if (!HEADER_KEYS.contains(key)) {
                throw new NpyFormatException("header has an unexpected key '" + key + "'");
            }
        }
        ByteOrder order = float32Order(dict.get("descr"));
        Object fortran = dict.get("fortran_order");
        if (!(fortran instanceof Boolean)) {
            throw new NpyFormatException("header 'fortran_order' must be True or False, got " + pythonText(fortran));
        }
        if ((Boolean) fortran) {
            throw new NpyFormatException("Fortran-order (column-major) arrays are not supported;"
                    + " save a C-order array, e.g. with numpy.ascontiguousarray");
        }
        int[] shape = shape(dict.get("shape"));
        return new Header(order, shape, dataOffset);
    }

    private static ByteOrder float32Order(Object descr) throws NpyFormatException {
        if (!(descr instanceof String)) {
            throw new NpyFormatException("unsupported dtype " + pythonText(descr)
                    + " (a structured dtype); only float32 ('<f4' or '>f4') is supported");
        }
        String dtype = (String) descr;
        if (dtype.equals("<f4")) {
            return ByteOrder.LITTLE_ENDIAN;
        }
        if (dtype.equals(">f4")) {
            return ByteOrder.BIG_ENDIAN;
        }
        String name = DtypeNames.describe(dtype);
        throw new NpyFormatException("unsupported dtype '" + dtype + "'" + (name.isEmpty() ? "" : " (" + name + ")")
                + "; only float32 ('<f4' or '>f4') is supported");
    }

    private static int[] shape(Object value) throws NpyFormatException {
        if (!(value instanceof PyLiteral.Tuple)) {
            throw new NpyFormatException("header 'shape' must be a tuple of integers, got " + pythonText(value));
        }
        List<Object> items = ((PyLiteral.Tuple) value).items();
        int[] shape = new int[items.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            Object item = items.get(i);
            if (!(item instanceof BigInteger)) {
                throw new NpyFormatException("header 'shape' must be a tuple of integers, got " + pythonText(value));
            }
            BigInteger dim = (BigInteger) item;
            if (dim.signum() < 0) {
                throw new NpyFormatException("header 'shape' " + pythonText(value) + " has a negative dimension");
            }
            if (dim.compareTo(BigInteger.valueOf(MAX_ELEMENTS)) > 0) {
                throw new NpyFormatException("header 'shape' " + pythonText(value) + " is too large");
            }
            shape[i] = dim.intValue();
            count *= shape[i]; // cannot overflow: both factors are at most MAX_ELEMENTS before the check below
            if (count > MAX_ELEMENTS) {
                throw new NpyFormatException("header 'shape' " + pythonText(value)
                        + " has more elements than a Java array can hold");
            }
        }
        return shape;
    }

    /** Writes a version 1.0 little-endian float32 file to the channel. */
    public static void write(WritableByteChannel channel, NpyArray array) throws IOException {
        byte[] header = headerBytes(array.shape());
        writeFully(channel, ByteBuffer.wrap(header));
        float[] data = array.data();
        ByteBuffer chunk = ByteBuffer.allocate(chunkBytes(data.length))
                .order(ByteOrder.LITTLE_ENDIAN);
        int perChunk = chunk.capacity() / Float.BYTES;
        for (int start = 0; start < data.length; start += perChunk) {
            int n = Math.min(perChunk, data.length - start);
            chunk.clear();
            chunk.asFloatBuffer().put(data, start, n);
            chunk.limit(n * Float.BYTES);
            writeFully(channel, chunk);
        }
    }

    /** Preamble plus header dict, padded with spaces and a newline so the data starts 64-byte aligned. */
    static byte[] headerBytes(int[] shape) {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + pythonTuple(shape) + ", }";
        int preamble = MAGIC.length + 2 + 2;
        int unpadded = preamble + dict.length() + 1;
        int padded = (unpadded + HEADER_ALIGNMENT - 1) / HEADER_ALIGNMENT * HEADER_ALIGNMENT;
        int headerLength = padded - preamble;
        if (headerLength > 0xFFFF) {
            throw new IllegalArgumentException("shape " + shapeText(shape) + " is too long for a version 1.0 header");
        }
        ByteBuffer out = ByteBuffer.allocate(padded).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) headerLength);
        out.put(dict.getBytes(StandardCharsets.ISO_8859_1));
        while (out.position() < padded - 1) {
            out.put((byte) ' ');
        }
        out.put((byte) '\n');
        return out.array();
    }

    /** Python's spelling of a tuple of ints: (), (5,), (2, 3). */
    static String pythonTuple(int[] shape) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        return sb.append(shape.length == 1 ? ",)" : ")").toString();
    }

    /** Shape as the CLI prints it, e.g. [1, 8, 1]. */
    public static String shapeText(int[] shape) {
        return Arrays.toString(shape);
    }

    private static int chunkBytes(int elements) {
        return (int) Math.min(CHUNK_BYTES, Math.max(Float.BYTES, (long) elements * Float.BYTES));
    }

    private static void readFloats(FileChannel channel, ByteOrder order, float[] data) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(chunkBytes(data.length));
        int perChunk = chunk.capacity() / Float.BYTES;
        for (int start = 0; start < data.length; start += perChunk) {
            int n = Math.min(perChunk, data.length - start);
            chunk.clear().limit(n * Float.BYTES);
            readFully(channel, chunk, "the data");
            chunk.flip();
            chunk.order(order).asFloatBuffer().get(data, start, n);
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, String what) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new NpyFormatException("truncated file: it ends inside " + what);
            }
        }
    }

    private static void writeFully(WritableByteChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /** A parsed header value spelled roughly as Python would, for messages. */
    private static String pythonText(Object value) {
        if (value instanceof String) {
            return "'" + value + "'";
        }
        if (value instanceof Boolean) {
            return (Boolean) value ? "True" : "False";
        }
        if (value instanceof PyLiteral.None) {
            return "None";
        }
        if (value instanceof PyLiteral.Tuple) {
            List<Object> items = ((PyLiteral.Tuple) value).items();
            List<String> parts = new ArrayList<>();
            for (Object item : items) {
                parts.add(pythonText(item));
            }
            return "(" + String.join(", ", parts) + (items.size() == 1 ? ",)" : ")");
        }
        if (value instanceof List) {
            List<String> parts = new ArrayList<>();
            for (Object item : (List<?>) value) {
                parts.add(pythonText(item));
            }
            return "[" + String.join(", ", parts) + "]";
        }
        if (value instanceof Map) {
            List<String> parts = new ArrayList<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                parts.add(pythonText(e.getKey()) + ": " + pythonText(e.getValue()));
            }
            return "{" + String.join(", ", parts) + "}";
        }
        return String.valueOf(value);
    }
}
