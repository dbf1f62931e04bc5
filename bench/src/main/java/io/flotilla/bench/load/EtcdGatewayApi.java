package io.flotilla.bench.load;

import java.io.IOException;

/**
 * The generator's operations over etcd's v3 JSON gateway, etcd's HTTP counterpart of Flotilla's
 * API: {@code POST /v3/kv/put} and {@code POST /v3/kv/range} with {@link EtcdJson} bodies. Reads
 * in {@link ReadMode#STALE} are serializable, the others linearizable. A range answer without
 * {@code "kvs"} means the key is absent.
 */
public final class EtcdGatewayApi implements StoreApi {
  private static final String JSON = "application/json";

  @Override
  public String name() {
    return "etcd";
  }

  @Override
  public Outcome read(HttpConnection connection, String key, ReadMode mode) throws IOException {
    HttpResponse r = connection.send("POST", "/v3/kv/range", EtcdJson.get(key, mode == ReadMode.STALE), JSON);
    if (r.status() != 200) {
      return Outcome.failed(r.failureCause());
    }
    return r.bodyContains("\"kvs\"") ? Outcome.OK : Outcome.MISSING;
  }

  @Override
  public Outcome write(HttpConnection connection, String key, byte[] value) throws IOException {
    return Outcome.of(connection.send("POST", "/v3/kv/put", EtcdJson.put(key, value), JSON));
  }

  @Override
  public Outcome scan(HttpConnection connection, String startKey, int limit, ReadMode mode) throws IOException {
    return Outcome.of(connection.send("POST", "/v3/kv/range", EtcdJson.scan(startKey, limit, mode == ReadMode.STALE),
        JSON));
  }

}
