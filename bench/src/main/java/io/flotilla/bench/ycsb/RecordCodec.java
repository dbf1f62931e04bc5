package io.flotilla.bench.ycsb;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A YCSB record (field name -> bytes) as one value: a field count, then for each field its UTF-8
 * name and its bytes, both length-prefixed. Binary rather than JSON so a 1 KB record costs about
 * 1 KB, as a raw value of the built-in generator does.
 */
public final class RecordCodec {
  private static final int FORMAT = 1;

  private RecordCodec() {}

  public static byte[] encode(Map<String, byte[]> fields) {
    int size = 8;
    for (Map.Entry<String, byte[]> f : fields.entrySet()) {
      size += 8 + f.getKey().length() * 3 + f.getValue().length;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(size);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(FORMAT);
      out.writeInt(fields.size());
      for (Map.Entry<String, byte[]> f : fields.entrySet()) {
        out.writeUTF(f.getKey());
        out.writeInt(f.getValue().length);
        out.write(f.getValue());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array stream does not fail
    }
    return bytes.toByteArray();
  }

  /** The fields of an encoded record, in their stored order. */
  public static Map<String, byte[]> decode(byte[] record) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(record))) {
      int format = in.readUnsignedByte();
      if (format != FORMAT) {
        throw new IllegalArgumentException("not a YCSB record written by this binding (format " + format + ")");
      }
      int count = in.readInt();
      Map<String, byte[]> fields = new LinkedHashMap<>();
      for (int i = 0; i < count; i++) {
        String name = in.readUTF();
        byte[] value = new byte[in.readInt()];
        in.readFully(value);
        fields.put(name, value);
      }
      return fields;
    } catch (IOException e) {
      throw new IllegalArgumentException("a truncated YCSB record (" + record.length + " bytes)", e);
    }
  }
}
