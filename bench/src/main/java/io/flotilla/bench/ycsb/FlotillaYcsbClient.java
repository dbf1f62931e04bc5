package io.flotilla.bench.ycsb;

import io.flotilla.client.http.Consistency;
import io.flotilla.client.http.FlotillaClient;
import io.flotilla.client.http.FlotillaClientException;
import io.flotilla.client.http.KeyValue;
import io.flotilla.client.http.PutOptions;
import io.flotilla.client.http.ScanItem;
import io.flotilla.client.http.ScanRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.Vector;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import site.ycsb.ByteArrayByteIterator;
import site.ycsb.ByteIterator;
import site.ycsb.DB;
import site.ycsb.DBException;
import site.ycsb.Status;

/**
 * YCSB's {@code DB} over Flotilla's HTTP API, through the Java SDK ({@link FlotillaClient}).
 *
 * <p>Properties: {@code flotilla.nodes} (comma-separated base URLs, required),
 * {@code flotilla.consistency} (strong, follower or stale; default strong) and
 * {@code flotilla.timeout.ms} (default 10000).
 *
 * <p>Each instance (YCSB makes one per client thread) starts on a different node of the list, so
 * the threads spread over the cluster; the SDK fails over to the others. An update merges the
 * given fields into the stored record with a compare-and-set on the record's version, retried on
 * a conflict, so concurrent updates of one record never lose each other's fields.
 */
public final class FlotillaYcsbClient extends DB {
  /** How often an update retries after another writer changed the record in between. */
  static final int UPDATE_ATTEMPTS = 10;
  private static final AtomicInteger INSTANCES = new AtomicInteger();

  private FlotillaClient client;
  private Consistency consistency;

  @Override
  public void init() throws DBException {
    Properties p = getProperties();
    String nodes = p.getProperty("flotilla.nodes");
    if (nodes == null || nodes.isBlank()) {
      throw new DBException("set -p flotilla.nodes=http://127.0.0.11:7001,... (the nodes' base URLs)");
    }
    try {
      consistency = Consistency.valueOf(p.getProperty("flotilla.consistency", "strong").toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new DBException("flotilla.consistency must be strong, follower or stale");
    }
    List<String> list = new ArrayList<>(Arrays.asList(nodes.split(",")));
    Collections.rotate(list, -(INSTANCES.getAndIncrement() % list.size()));
    client = FlotillaClient.builder().nodes(list)
        .requestTimeout(Duration.ofMillis(Long.parseLong(p.getProperty("flotilla.timeout.ms", "10000")))).build();
  }

  @Override
  public Status read(String table, String key, Set<String> fields, Map<String, ByteIterator> result) {
    try {
      Optional<KeyValue> kv = client.get(YcsbKeys.of(table, key), consistency).join();
      if (kv.isEmpty()) {
        return Status.NOT_FOUND;
      }
      copyFields(RecordCodec.decode(kv.get().value()), fields, result);
      return Status.OK;
    } catch (CompletionException | FlotillaClientException e) {
      return Status.ERROR;
    }
  }

  @Override
  public Status scan(String table, String startKey, int recordCount, Set<String> fields,
      Vector<HashMap<String, ByteIterator>> result) {
    try {
      ScanRequest request = ScanRequest.range(YcsbKeys.of(table, startKey), YcsbKeys.tableEnd(table))
          .withLimit(recordCount).withConsistency(consistency);
      for (ScanItem item : client.scan(request).join().items()) {
        HashMap<String, ByteIterator> record = new HashMap<>();
        copyFields(RecordCodec.decode(item.value()), fields, record);
        result.add(record);
      }
      return Status.OK;
    } catch (CompletionException | FlotillaClientException e) {
      return Status.ERROR;
    }
  }

  @Override
  public Status update(String table, String key, Map<String, ByteIterator> values) {
    String k = YcsbKeys.of(table, key);
    try {
      for (int attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
        Optional<KeyValue> current = client.get(k, Consistency.STRONG).join();
        if (current.isEmpty()) {
          return Status.NOT_FOUND;
        }
        Map<String, byte[]> record = RecordCodec.decode(current.get().value());
        record.putAll(bytesOf(values));
        if (putIf(k, RecordCodec.encode(record), PutOptions.ifVersion(current.get().version()))) {
          return Status.OK;
        }
      }
      return Status.UNEXPECTED_STATE;
    } catch (CompletionException | FlotillaClientException e) {
      return Status.ERROR;
    }
  }

  @Override
  public Status insert(String table, String key, Map<String, ByteIterator> values) {
    try {
      client.put(YcsbKeys.of(table, key), RecordCodec.encode(bytesOf(values)), PutOptions.none()).join();
      return Status.OK;
    } catch (CompletionException | FlotillaClientException e) {
      return Status.ERROR;
    }
  }

  @Override
  public Status delete(String table, String key) {
    try {
      return client.delete(YcsbKeys.of(table, key)).join().deleted() ? Status.OK : Status.NOT_FOUND;
    } catch (CompletionException | FlotillaClientException e) {
      return Status.ERROR;
    }
  }

  /** Puts with a version condition; false when another write got there first (409). */
  private boolean putIf(String key, byte[] value, PutOptions condition) {
    try {
      client.put(key, value, condition).join();
      return true;
    } catch (CompletionException e) {
      if (e.getCause() instanceof FlotillaClientException f && "version_conflict".equals(f.code())) {
        return false;
      }
      throw e;
    }
  }

  /** YCSB's values are iterators that can be read once: read each into bytes. */
  static Map<String, byte[]> bytesOf(Map<String, ByteIterator> values) {
    Map<String, byte[]> bytes = new LinkedHashMap<>();
    values.forEach((name, value) -> bytes.put(name, value.toArray()));
    return bytes;
  }

  /** The requested fields of a record (all of them when {@code fields} is null, as YCSB asks). */
  static void copyFields(Map<String, byte[]> record, Set<String> fields, Map<String, ByteIterator> into) {
    record.forEach((name, value) -> {
      if (fields == null || fields.contains(name)) {
        into.put(name, new ByteArrayByteIterator(value));
      }
    });
  }
}
