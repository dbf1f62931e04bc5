package io.flotilla.api.service;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.statemachine.ColumnFamily;
import io.flotilla.statemachine.KvEngine;
import io.flotilla.statemachine.KvIterator;
import io.flotilla.statemachine.MetaKeys;
import io.flotilla.statemachine.Mutations;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin operations this node drove (split, merge, move, transfer-leader): running ones and
 * the most recent finished ones, for {@code GET /v1/admin/operations} (which gathers every
 * node's). Each is kept in the node's storage as it starts and as it ends, so a restart loses
 * none; one that was running when the node stopped is listed as {@code unknown}: the range
 * change it asked for may or may not have taken effect. Thread-safe.
 */
public final class OperationLog {
  private static final Logger LOG = LoggerFactory.getLogger(OperationLog.class);
  private static final int KEEP_FINISHED = 200;

  /** One operation's record; its outcome fields are set once, when it finishes. */
  public static final class Operation {
    private final String id;
    private final String type;
    private final Map<String, Object> target;
    private final Instant startedAt;
    private volatile Instant finishedAt;
    private volatile String status = "running";
    private volatile String message;
    private volatile Map<String, Object> result = Map.of();

    private Operation(String id, String type, Map<String, Object> target, Instant startedAt) {
      this.id = id;
      this.type = type;
      this.target = target;
      this.startedAt = startedAt;
    }

    /** An operation as the storage kept it. */
    private static Operation stored(Map<String, Object> v) {
      Map<String, Object> target = new LinkedHashMap<>(v);
      for (String k : List.of("id", "type", "status", "started_at", "finished_at", "message", "result")) {
        target.remove(k);
      }
      Operation op = new Operation((String) v.get("id"), (String) v.get("type"), target,
          Instant.parse((String) v.get("started_at")));
      op.status = (String) v.get("status");
      op.message = (String) v.get("message");
      op.finishedAt = v.get("finished_at") == null ? null : Instant.parse((String) v.get("finished_at"));
      @SuppressWarnings("unchecked")
      Map<String, Object> result = (Map<String, Object>) v.getOrDefault("result", Map.of());
      op.result = result;
      return op;
    }

    private long sequence() {
      return Long.parseLong(id.substring(id.lastIndexOf('-') + 1));
    }

    public String id() {
      return id;
    }

    /** What the operation produced (empty until it succeeded): the body of its 200 answer. */
    public Map<String, Object> result() {
      return result;
    }

    public Map<String, Object> view() {
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("id", id);
      v.put("type", type);
      v.putAll(target);
      v.put("status", status);
      v.put("started_at", startedAt.toString());
      v.put("finished_at", finishedAt == null ? null : finishedAt.toString());
      v.put("message", message);
      if (!result.isEmpty()) {
        v.put("result", result);
      }
      return v;
    }
  }

  private static final String KEY_PREFIX = "operations/";
  private final String nodeId;
  private final Clock clock;
  private final KvEngine engine;
  private final ObjectMapper json;
  private final AtomicLong sequence = new AtomicLong();
  private final List<Operation> running = new ArrayList<>();
  private final Deque<Operation> finished = new ArrayDeque<>();

  /** Loads the operations {@code engine} kept; those that were running when the node stopped are unknown now. */
  public OperationLog(String nodeId, Clock clock, KvEngine engine, ObjectMapper json) {
    this.nodeId = nodeId;
    this.clock = clock;
    this.engine = engine;
    this.json = json;
    byte[] start = MetaKeys.node(KEY_PREFIX);
    byte[] end = MetaKeys.node(KEY_PREFIX + "\u007f");
    List<Operation> loaded = new ArrayList<>();
    try (KvIterator it = engine.iterate(ColumnFamily.META, start, end, false)) {
      for (; it.valid(); it.next()) {
        Operation op;
        try {
          op = Operation.stored(json.readValue(it.value(), new TypeReference<Map<String, Object>>() { }));
        } catch (IOException | RuntimeException unreadable) {
          // Never keep a node from starting over its history: drop the record.
          LOG.warn("node {}: dropping an unreadable operation record: {}", nodeId, unreadable.toString());
          engine.write(new Mutations().delete(ColumnFamily.META, it.key()));
          continue;
        }
        if ("running".equals(op.status)) {
          op.status = "unknown";
          op.message = "node " + nodeId + " stopped while it ran; whether it took effect shows in the ranges";
          save(op);
        }
        loaded.add(op); // in start order
        sequence.set(Math.max(sequence.get(), op.sequence()));
      }
    }
    loaded.forEach(finished::addFirst);
    while (finished.size() > KEEP_FINISHED) {
      forget(finished.removeLast());
    }
  }

  private static byte[] key(Operation op) {
    return MetaKeys.node(KEY_PREFIX + String.format("%016x", op.sequence()));
  }

  private void save(Operation op) {
    try {
      engine.write(new Mutations().put(ColumnFamily.META, key(op), json.writeValueAsBytes(op.view())));
    } catch (IOException | RuntimeException e) {
      LOG.warn("node {}: could not keep operation {} in its storage: {}", nodeId, op.id, e.toString());
    }
  }

  private void forget(Operation op) {
    try {
      engine.write(new Mutations().delete(ColumnFamily.META, key(op)));
    } catch (RuntimeException e) {
      LOG.warn("node {}: could not drop operation {} from its storage: {}", nodeId, op.id, e.toString());
    }
  }

  /**
   * Records {@code work} as an operation; the returned future completes as the work does, after
   * the record holds its outcome (and {@code describe} of its value when it succeeded).
   */
  public <T> Tracked<T> track(String type, Map<String, Object> target, CompletableFuture<T> work,
      java.util.function.Function<T, Map<String, Object>> describe) {
    Operation op = new Operation(nodeId + "-" + sequence.incrementAndGet(), type, Map.copyOf(target),
        clock.instant());
    synchronized (this) {
      running.add(op);
      save(op);
    }
    CompletableFuture<T> done = work.whenComplete((value, error) -> {
      if (error == null) {
        op.result = describe.apply(value);
      }
      finish(op, error);
    });
    return new Tracked<>(op, done);
  }

  /** An operation and its outcome. */
  public record Tracked<T>(Operation operation, CompletableFuture<T> outcome) {}

  private void finish(Operation op, Throwable error) {
    op.finishedAt = clock.instant();
    op.status = error == null ? "succeeded" : "failed";
    op.message = error == null ? null : KeyService.unwrap(error).getMessage();
    synchronized (this) {
      running.remove(op);
      finished.addFirst(op);
      save(op);
      while (finished.size() > KEEP_FINISHED) {
        forget(finished.removeLast());
      }
    }
  }

  /** Running operations first, then finished ones, newest first. */
  public synchronized List<Map<String, Object>> views() {
    List<Map<String, Object>> out = new ArrayList<>();
    running.forEach(op -> out.add(op.view()));
    finished.forEach(op -> out.add(op.view()));
    return out;
  }
}
