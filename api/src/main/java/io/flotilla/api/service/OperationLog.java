package io.flotilla.api.service;

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

/**
 * The admin operations this node drove (split, merge, transfer-leader): running ones and the
 * most recent finished ones, for {@code GET /v1/admin/operations}. Thread-safe.
 */
public final class OperationLog {
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

  private final String nodeId;
  private final Clock clock;
  private final AtomicLong sequence = new AtomicLong();
  private final List<Operation> running = new ArrayList<>();
  private final Deque<Operation> finished = new ArrayDeque<>();

  public OperationLog(String nodeId, Clock clock) {
    this.nodeId = nodeId;
    this.clock = clock;
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
      while (finished.size() > KEEP_FINISHED) {
        finished.removeLast();
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
