package io.flotilla.client.http;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * The key operations of shared/API.md as HTTP calls over a {@link Transport}: builds each
 * request, sends it, and turns the answer into a result or a {@link FlotillaClientException}.
 * Reads also report the revision the answer showed, for {@link Session}.
 */
final class HttpKv {
  /** A read's result and the highest revision of the key's range it showed (0 if none). */
  record Observed<T>(T value, long revision) {}

  private final Transport transport;

  HttpKv(Transport transport) {
    this.transport = transport;
  }

  Transport transport() {
    return transport;
  }

  CompletableFuture<PutResult> put(String key, byte[] value, PutOptions options) {
    String target = Wire.keyPath(key) + new Wire.Query()
        .add("ttl", options.ttlSeconds() > 0 ? options.ttlSeconds() : null).add("if_version", options.ifVersion());
    return send(new Transport.Call("PUT", target, value, Wire.OCTETS, true), Wire::putResult);
  }

  CompletableFuture<DeleteResult> delete(String key, Long ifVersion) {
    String target = Wire.keyPath(key) + new Wire.Query().add("if_version", ifVersion);
    return send(new Transport.Call("DELETE", target, null, null, true), Wire::deleteResult);
  }

  CompletableFuture<IncrResult> incr(String key, long delta) {
    return send(new Transport.Call("POST", Wire.keyPath(key) + "/incr", Wire.incrBody(delta), Wire.JSON, true),
        Wire::incrResult);
  }

  /** {@code GET /v1/kv/{key}}; {@code minRevision} 0 sends none. */
  CompletableFuture<Observed<Optional<KeyValue>>> get(String key, Consistency consistency, long minRevision) {
    String target = Wire.keyPath(key) + readParams(new Wire.Query(), consistency, minRevision);
    return transport.send(Transport.Call.read("GET", target)).thenApply(reply -> {
      long applied = Wire.longHeader(reply, Wire.APPLIED_REVISION);
      if (reply.status() == 200) {
        KeyValue kv = Wire.keyValue(reply);
        return new Observed<>(Optional.of(kv), Math.max(applied, kv.revision()));
      }
      if (reply.status() == 404) {
        return new Observed<>(Optional.<KeyValue>empty(), applied);
      }
      throw Wire.failure(reply, false);
    });
  }

  /** {@code HEAD /v1/kv/{key}}: the version without the value. */
  CompletableFuture<Observed<OptionalLong>> version(String key, Consistency consistency, long minRevision) {
    String target = Wire.keyPath(key) + readParams(new Wire.Query(), consistency, minRevision);
    return transport.send(Transport.Call.read("HEAD", target)).thenApply(reply -> {
      long applied = Wire.longHeader(reply, Wire.APPLIED_REVISION);
      if (reply.status() == 200) {
        return new Observed<>(OptionalLong.of(Wire.longHeader(reply, Wire.VERSION)),
            Math.max(applied, Wire.longHeader(reply, Wire.REVISION)));
      }
      if (reply.status() == 404) {
        return new Observed<>(OptionalLong.empty(), applied);
      }
      throw Wire.failure(reply, false);
    });
  }

  /** One page of {@code GET /v1/kv}; {@code minRevision} 0 sends none. */
  CompletableFuture<ScanPage> scan(ScanRequest r, long minRevision) {
    Wire.Query q = new Wire.Query().add("start", r.start()).add("end", r.end()).add("prefix", r.prefix())
        .add("limit", r.limit()).flag("reverse", r.reverse()).flag("keys_only", r.keysOnly())
        .add("cursor", r.cursor());
    String target = "/v1/kv" + readParams(q, r.consistency(), minRevision);
    return send(Transport.Call.read("GET", target), Wire::scanPage);
  }

  /** {@code DELETE /v1/kv?start&end}: how many keys went. */
  CompletableFuture<Long> deleteRange(String start, String end) {
    return delete(java.util.Objects.requireNonNull(start, "start"), java.util.Objects.requireNonNull(end, "end"), null);
  }

  /** {@code DELETE /v1/kv?prefix}: how many keys went. An empty prefix is refused here. */
  CompletableFuture<Long> deletePrefix(String prefix) {
    if (prefix == null || prefix.isEmpty()) {
      throw new IllegalArgumentException("the prefix must not be empty (that would delete every key)");
    }
    return delete(null, null, prefix);
  }

  private CompletableFuture<Long> delete(String start, String end, String prefix) {
    String target = "/v1/kv" + new Wire.Query().add("start", start).add("end", end).add("prefix", prefix);
    return send(new Transport.Call("DELETE", target, null, null, true), reply -> Wire.json(reply).path("deleted")
        .asLong());
  }

  CompletableFuture<BatchResult> batch(boolean atomic, List<BatchOp> ops) {
    boolean write = ops.stream().anyMatch(BatchOp::isWrite);
    return send(new Transport.Call("POST", "/v1/batch", Wire.batchBody(atomic, ops), Wire.JSON, write),
        reply -> Wire.batchResult(reply, ops));
  }

  private <T> CompletableFuture<T> send(Transport.Call call, java.util.function.Function<Transport.Reply, T> ok) {
    return transport.send(call).thenApply(reply -> {
      if (reply.status() != 200) {
        throw Wire.failure(reply, call.write());
      }
      return ok.apply(reply);
    });
  }

  private static Wire.Query readParams(Wire.Query q, Consistency consistency, long minRevision) {
    if (consistency != Consistency.STRONG) {
      q.add("consistency", consistency.wire());
    }
    if (minRevision > 0) {
      q.add("min_revision", minRevision);
    }
    return q;
  }
}
