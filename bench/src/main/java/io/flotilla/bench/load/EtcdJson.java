package io.flotilla.bench.load;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * Request bodies of etcd's v3 JSON gateway ({@code /v3/kv/put}, {@code /v3/kv/range}): the
 * protobuf messages {@code PutRequest} and {@code RangeRequest} in proto3 JSON, bytes fields as
 * base64. Written by hand because base64 never needs JSON escaping, so no JSON library has to
 * run per request.
 */
public final class EtcdJson {
  /** {@code range_end} "\0": every key at or after {@code key} (etcd's "from key" convention). */
  private static final String FROM_KEY = base64(new byte[] {0});

  private EtcdJson() {}

  public static byte[] put(String key, byte[] value) {
    return ("{\"key\":\"" + base64(key) + "\",\"value\":\"" + base64(value) + "\"}").getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * A transaction of unconditional puts ({@code TxnRequest} with only {@code success} ops); etcd
   * refuses more than 128 ops per transaction by default ({@code --max-txn-ops}).
   */
  public static byte[] putAll(List<String> keys, byte[] value) {
    String b64 = base64(value);
    StringBuilder body = new StringBuilder("{\"success\":[");
    for (int i = 0; i < keys.size(); i++) {
      body.append(i == 0 ? "" : ",").append("{\"request_put\":{\"key\":\"").append(base64(keys.get(i)))
          .append("\",\"value\":\"").append(b64).append("\"}}");
    }
    return body.append("]}").toString().getBytes(StandardCharsets.US_ASCII);
  }

  /** A point read; {@code serializable} lets the receiving member answer from its own state. */
  public static byte[] get(String key, boolean serializable) {
    return ("{\"key\":\"" + base64(key) + "\"" + serializableField(serializable) + "}")
        .getBytes(StandardCharsets.US_ASCII);
  }

  /** Up to {@code limit} keys (with values) from {@code startKey} on, in key order. */
  public static byte[] scan(String startKey, int limit, boolean serializable) {
    return ("{\"key\":\"" + base64(startKey) + "\",\"range_end\":\"" + FROM_KEY + "\",\"limit\":" + limit
        + serializableField(serializable) + "}").getBytes(StandardCharsets.US_ASCII);
  }

  private static String serializableField(boolean serializable) {
    return serializable ? ",\"serializable\":true" : "";
  }

  private static String base64(String s) {
    return base64(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String base64(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }
}
