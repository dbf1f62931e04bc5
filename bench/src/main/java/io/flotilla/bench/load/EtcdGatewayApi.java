package io.flotilla.bench.load;

import io.flotilla.client.http.Consistency;
import java.io.IOException;
import java.util.List;

/**
 * The generator's operations over etcd's v3 JSON gateway, etcd's HTTP counterpart of Flotilla's
 * API: {@code POST /v3/kv/put} and {@code POST /v3/kv/range} with {@link EtcdJson} bodies.
 * etcd has two read modes for Flotilla's three: serializable reads (answered by the member that
 * got the request, without a quorum round) stand in for {@link Consistency#STALE}, linearizable
 * ones for {@link Consistency#STRONG} and {@link Consistency#FOLLOWER}. A range answer without
 * {@code "kvs"} means the key is absent.
 */
public final class EtcdGatewayApi implements StoreApi {
  private static final String JSON = "application/json";

  @Override
  public String name() {
    return "etcd";
  }

  @Override
  public Outcome read(HttpConnection connection, String key, Consistency mode) throws IOException {
    HttpResponse r = connection.send("POST", "/v3/kv/range", EtcdJson.get(key, mode == Consistency.STALE), JSON);
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
  public Outcome writeAll(HttpConnection connection, List<String> keys, byte[] value) throws IOException {
    return Outcome.of(connection.send("POST", "/v3/kv/txn", EtcdJson.putAll(keys, value), JSON));
  }

  @Override
  public Outcome scan(HttpConnection connection, String startKey, int limit, Consistency mode) throws IOException {
    return Outcome.of(connection.send("POST", "/v3/kv/range", EtcdJson.scan(startKey, limit, mode == Consistency.STALE),
        JSON));
  }

}
