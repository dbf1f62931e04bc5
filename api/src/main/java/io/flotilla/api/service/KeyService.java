package io.flotilla.api.service;

import com.google.protobuf.ByteString;
import io.flotilla.client.RoutingTable;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.common.Keys;
import io.flotilla.proto.BatchEntry;
import io.flotilla.proto.BatchOp;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.DeleteOp;
import io.flotilla.proto.DeleteSpanOp;
import io.flotilla.proto.EntryResult;
import io.flotilla.proto.GetOp;
import io.flotilla.proto.IncrOp;
import io.flotilla.proto.KeyValue;
import io.flotilla.proto.MultiGetQuery;
import io.flotilla.proto.PutOp;
import io.flotilla.proto.Query;
import io.flotilla.proto.QueryResult;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.Rejection;
import io.flotilla.proto.ScanQuery;
import io.flotilla.raft.NodeHost;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Every key operation of shared/API.md, routed to the ranges that own the keys.
 *
 * <p>Routing: a command or query is stamped with the range id and epoch this node's routing
 * table holds; a replica that knows a newer span rejects it with its descriptor, the table is
 * refreshed and the call retried, at most {@value #ROUTING_ATTEMPTS} times. NotLeader and
 * elections are retried inside {@link io.flotilla.client.RangeClient}. Nothing here waits on a
 * thread: every call returns a future.
 *
 * <p>Time: proposal timestamps (TTL expiry) and read timestamps come from the injected clock.
 */
public final class KeyService {
  /** Re-routes after stale routing; with the backoff (20 ms doubling to 640 ms) about 2.5 s in all. */
  private static final int ROUTING_ATTEMPTS = 8;

  /** Reads that found a committed but unresolved transaction resolve it and read again, this often. */
  private static final int RESOLVE_ATTEMPTS = 4;

  private final NodeHost host;
  private final ReplicaReader replicas;
  private final Clock clock;
  private final long lockWaitMillis;
  private final long requestTimeoutMillis;
  /** Stale reads waiting now for their replica to apply their {@code min_revision}. */
  private final AtomicInteger staleReadsWaiting = new AtomicInteger();
  private final Transactions transactions;
  private final RouteResolver resolver;

  /** Deliberate bugs for proving the chaos checkers can fail; never set outside such tests. */
  public static final String FAIL_STRONG_READS_LOCAL = "strong-reads-from-local-replica";
  public static final String FAIL_ACK_BEFORE_COMMIT = "ack-writes-before-commit";

  private final java.util.Set<String> failpoints;
  private final LeaderWrites writes;
  private final ReadBatcher reads;
  private final RangeMetrics rangeMetrics;

  /**
   * @param requestTimeoutMillis how long a request may take (reads queued longer are dropped)
   * @param lockWaitMillis how long a write waits for a key locked by a transaction before it
   *     answers 503 (it applied nothing)
   * @param txnAbandonAfterMillis see {@link Transactions}
   * @param queues how many requests and write bytes may wait in the node's queues
   * @param forwardWrites see {@code NodeConfig.forwardWrites}
   * @param proposeInProcess see {@code NodeConfig.proposeInProcess}
   * @param rangeMetrics where calls are counted per range ({@code NodeConfig.perRangeMetrics})
   */
  public KeyService(NodeHost host, ReplicaReader replicas, RouteResolver resolver, Clock clock,
      long requestTimeoutMillis, long lockWaitMillis, long txnAbandonAfterMillis, int maxEntryBytes,
      Queues queues, java.util.Set<String> failpoints, boolean forwardWrites, boolean proposeInProcess,
      RangeMetrics rangeMetrics) {
    this.rangeMetrics = rangeMetrics;
    this.failpoints = java.util.Set.copyOf(failpoints);
    // A write waits at most half the request timeout in a queue, so that its caller learns it
    // was refused (nothing applied) rather than that its outcome is unknown.
    BatchLanes.Limits writeLimits = new BatchLanes.Limits(queues.delayNanos(), queues.perRange(),
        java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(requestTimeoutMillis / 2),
        new ByteBudget(queues.writeBytes()), System::nanoTime);
    this.writes = new LeaderWrites(LeaderWrites.Node.of(host), new WriteBatcher(proposeInProcess
        ? host::write : (range, command) -> host.client(range).write(command),
        clock::millis, maxEntryBytes / 4, writeLimits), maxEntryBytes / 2, requestTimeoutMillis, writeLimits,
        forwardWrites);
    host.serveForwardedWrites(writes::serve);
    this.reads = new ReadBatcher((range, query, mode) -> readOnce(range, query, mode, 0), ReadBatcher.IN_FLIGHT,
        new BatchLanes.Limits(queues.delayNanos(), queues.perRange(),
            java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(requestTimeoutMillis),
            ByteBudget.unbounded(), System::nanoTime));
    this.host = host;
    this.resolver = resolver;
    this.replicas = replicas;
    this.clock = clock;
    this.lockWaitMillis = lockWaitMillis;
    this.requestTimeoutMillis = requestTimeoutMillis;
    this.transactions = new Transactions(new Transactions.Ranges() {
      @Override
      public CompletableFuture<CommandResult> propose(byte[] routeKey, Command.Builder command) {
        return proposeOnce(routeKey, command);
      }

      @Override
      public CompletableFuture<io.flotilla.proto.GetResult> strongGet(byte[] key) {
        return rawQuery(key, Query.newBuilder().setGet(GetOp.newBuilder().setKey(ByteString.copyFrom(key))),
            ReadMode.STRONG, 0).thenApply(served -> served.result().getGet());
      }

      @Override
      public CompletableFuture<QueryResult> strongMultiGet(List<byte[]> keys) {
        MultiGetQuery.Builder mg = MultiGetQuery.newBuilder();
        keys.forEach(k -> mg.addKeys(ByteString.copyFrom(k)));
        return query(keys.get(0), Query.newBuilder().setMultiGet(mg), ReadMode.STRONG, 0)
            .thenApply(Served::result);
      }

      @Override
      public long rangeOf(byte[] key) {
        return routing().lookup(key).getId();
      }
    }, clock, txnAbandonAfterMillis, maxEntryBytes);
  }

  /**
   * Bounds on what waits in the node's queues: how long the oldest waiting request of a range
   * may have waited for its queue to take another, requests per range (writes, and
   * linearizable gets per read mode), and bytes of writes over all ranges (see {@link BatchLanes}).
   */
  public record Queues(long delayNanos, int perRange, long writeBytes) {}

  /**
   * How many single-key writes this node forwarded to leaders, had declined, served for peers,
   * and refused (429) for want of room or after waiting too long in its queues.
   */
  public java.util.Map<String, Long> forwardingCounts() {
    LeaderWrites.Counts c = writes.counts();
    return java.util.Map.of("forwarded", c.forwarded(), "forward-declined", c.declined(),
        "served-for-peers", c.servedForPeers(), "refused-overloaded", c.refused(), "dropped-overloaded", c.expired());
  }

  /** The transaction coordinator and resolver of this node (the sweeper uses it too). */
  public Transactions transactions() {
    return transactions;
  }

  private RoutingTable routing() {
    return host.routing();
  }

  // ---- single-key writes ----------------------------------------------------------------

  public CompletableFuture<CommandResult> put(byte[] key, byte[] value, long ttlSeconds, Long ifVersion) {
    long now = clock.millis();
    PutOp.Builder op = PutOp.newBuilder().setKey(ByteString.copyFrom(key)).setValue(ByteString.copyFrom(value))
        .setExpiresAtMillis(ttlSeconds > 0 ? now + ttlSeconds * 1000 : 0);
    if (ifVersion != null) {
      op.setIfVersion(ifVersion);
    }
    if (failpoints.contains(FAIL_ACK_BEFORE_COMMIT)) {
      // Failpoint: answer at once and propose a second later; a node killed meanwhile loses
      // writes it acknowledged.
      CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS, io.flotilla.client.Completions.EXECUTOR).execute(() ->
          propose(key, Command.newBuilder().setProposedAtMillis(now).setPut(op)));
      return CompletableFuture.completedFuture(CommandResult.newBuilder()
          .setPut(io.flotilla.proto.PutResult.getDefaultInstance()).build());
    }
    return propose(key, Command.newBuilder().setProposedAtMillis(now).setPut(op)).thenApply(KeyService::accepted);
  }

  /**
   * The refusal ({@code overloaded}, nothing applied) a put of a value of {@code valueBytes} to
   * {@code key} would get now, for want of room in the queue it would join, or null: so that a
   * node under a flood of large puts can answer them before reading their bodies. The queue
   * decides again when the put comes.
   */
  public FlotillaException refusalOfPut(byte[] key, long valueBytes) {
    return writes.refusal(routing().lookup(key), key.length + valueBytes);
  }

  public CompletableFuture<CommandResult> delete(byte[] key, Long ifVersion) {
    DeleteOp.Builder op = DeleteOp.newBuilder().setKey(ByteString.copyFrom(key));
    if (ifVersion != null) {
      op.setIfVersion(ifVersion);
    }
    return propose(key, Command.newBuilder().setProposedAtMillis(clock.millis()).setDelete(op))
        .thenApply(KeyService::accepted);
  }

  public CompletableFuture<CommandResult> incr(byte[] key, long delta) {
    return propose(key, Command.newBuilder().setProposedAtMillis(clock.millis())
        .setIncr(IncrOp.newBuilder().setKey(ByteString.copyFrom(key)).setDelta(delta)))
        .thenApply(KeyService::accepted);
  }

  /**
   * Removes expired keys of one range through its log, if they still hold the given versions
   * (the sweeper's part of TTL); returns how many went.
   */
  public CompletableFuture<Long> expire(List<io.flotilla.proto.KeyVersion> keys) {
    return proposeOnce(keys.get(0).getKey().toByteArray(), Command.newBuilder().setProposedAtMillis(clock.millis())
        .setExpire(io.flotilla.proto.ExpireOp.newBuilder().addAllKeys(keys)))
        .thenApply(res -> accepted(res).getExpire().getRemoved());
  }

  /** Deletes every key in [start, end) range by range; returns how many live keys went. */
  public CompletableFuture<Long> deleteSpan(byte[] start, byte[] end) {
    return deleteSpanFrom(start, end, 0L);
  }

  private CompletableFuture<Long> deleteSpanFrom(byte[] position, byte[] end, long deletedSoFar) {
    if (end.length != 0 && Keys.compare(position, end) >= 0) {
      return CompletableFuture.completedFuture(deletedSoFar);
    }
    Command.Builder cmd = Command.newBuilder().setProposedAtMillis(clock.millis())
        .setDeleteSpan(DeleteSpanOp.newBuilder().setStart(ByteString.copyFrom(position)).setEnd(ByteString.copyFrom(end)));
    CompletableFuture<CommandResult> here = propose(position, cmd).thenApply(KeyService::accepted);
    if (deletedSoFar > 0) {
      // The ranges before this one deleted their part: the span is not untouched, whatever this range says.
      here = here.exceptionallyCompose(e -> CompletableFuture.failedFuture(partlyDeleted(e, deletedSoFar, position)));
    }
    return here.thenCompose(res -> {
      long total = deletedSoFar + res.getDeleteSpan().getDeleted();
      // Resume where the range that actually applied it ends: after a split on the way, that
      // is the smaller range's end, not the one this node's routing table held.
      byte[] rangeEnd = res.getDeleteSpan().getCoveredEnd().toByteArray();
      if (rangeEnd.length == 0) {
        return CompletableFuture.completedFuture(total);
      }
      return deleteSpanFrom(rangeEnd, end, total);
    });
  }

  private static FlotillaException partlyDeleted(Throwable error, long deleted, byte[] position) {
    Throwable cause = io.flotilla.client.Completions.unwrap(error);
    FlotillaException known = cause instanceof FlotillaException f ? f
        : FlotillaException.outcomeUnknown("the delete of the span's next range", cause);
    String before = new String(position, java.nio.charset.StandardCharsets.UTF_8);
    return new FlotillaException(known.code(), "the span's keys before '" + before + "' were deleted (" + deleted
        + " keys); from there: " + known.getMessage() + " (repeating the request deletes the rest)", known.details(),
        known);
  }

  /**
   * Proposes a command to the range owning {@code routeKey}, refreshing routing on a stale
   * epoch; when a transaction holds one of its keys, pushes that transaction and tries again,
   * for at most {@code lockWaitMillis}.
   */
  private CompletableFuture<CommandResult> propose(byte[] routeKey, Command.Builder command) {
    return proposeAround(routeKey, command, clock.millis() + lockWaitMillis, 0);
  }

  private CompletableFuture<CommandResult> proposeAround(byte[] routeKey, Command.Builder command, long deadline,
      int attempt) {
    return proposeOnce(routeKey, command).thenCompose(res -> {
      if (!res.hasRejected() || res.getRejected().getReason() != Rejection.Reason.LOCKED) {
        return CompletableFuture.completedFuture(res);
      }
      if (clock.millis() >= deadline) {
        return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.UNAVAILABLE,
            "a key of this request is locked by a transaction that is still in progress; nothing was applied, retry"));
      }
      long pause = Math.min(100, 2L << Math.min(attempt, 6));
      return transactions.push(res.getRejected().getLock()).handle((x, e) -> null)
          .thenCompose(x -> io.flotilla.client.Completions.after(pause))
          .thenCompose(x -> proposeAround(routeKey, command.setProposedAtMillis(clock.millis()), deadline,
              attempt + 1));
    });
  }

  /** Proposes once (routing retries aside); a LOCKED rejection comes back as the result. */
  private CompletableFuture<CommandResult> proposeOnce(byte[] routeKey, Command.Builder command) {
    return withRouting(routeKey, range -> rangeMetrics.track(range.getId(), RangeMetrics.Kind.WRITE,
            writes.write(range, command.setRangeId(range.getId()).setEpoch(range.getEpoch()).build()),
            CommandResult::hasRejected),
        res -> res.hasRejected() ? res.getRejected() : null, 0);
  }

  /** Reads and writes this node carried out per range, for {@code /metrics}. */
  public RangeMetrics rangeMetrics() {
    return rangeMetrics;
  }

  // ---- reads ----------------------------------------------------------------------------

  public CompletableFuture<Served<QueryResult>> get(byte[] key, ReadMode mode, long minRevision) {
    return query(key, Query.newBuilder().setGet(GetOp.newBuilder().setKey(ByteString.copyFrom(key))), mode, minRevision);
  }

  /** As {@link #get}, but the answer carries the key's version and expiry, not its value (HEAD). */
  public CompletableFuture<Served<QueryResult>> exists(byte[] key, ReadMode mode, long minRevision) {
    return query(key, Query.newBuilder().setGet(GetOp.newBuilder().setKey(ByteString.copyFrom(key)).setKeysOnly(true)),
        mode, minRevision);
  }

  /**
   * A read of the range owning {@code routeKey}. Linearizable reads (strong, follower) that find
   * write intents of a committed but unresolved transaction resolve it and read again, so they
   * never miss a write whose batch already committed; stale reads take the committed state.
   */
  private CompletableFuture<Served<QueryResult>> query(byte[] routeKey, Query.Builder query, ReadMode mode,
      long minRevision) {
    return queryResolving(routeKey, query, mode, minRevision, 0);
  }

  private CompletableFuture<Served<QueryResult>> queryResolving(byte[] routeKey, Query.Builder query, ReadMode mode,
      long minRevision, int attempt) {
    return rawQuery(routeKey, query, mode, minRevision).thenCompose(served -> {
      List<io.flotilla.proto.Intent> intents = writeIntents(served.result());
      if (mode == ReadMode.STALE || intents.isEmpty()) {
        return CompletableFuture.completedFuture(served);
      }
      if (attempt + 1 >= RESOLVE_ATTEMPTS) {
        return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.UNAVAILABLE,
            "the keys read are being written by a committed transaction that could not be resolved yet; retry"));
      }
      List<CompletableFuture<Boolean>> checks = intents.stream().map(transactions::resolveIfCommitted).toList();
      return CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new)).thenCompose(x -> {
        boolean stale = checks.stream().anyMatch(CompletableFuture::join);
        return stale ? queryResolving(routeKey, query, mode, minRevision, attempt + 1)
            : CompletableFuture.completedFuture(served);
      });
    });
  }

  private static List<io.flotilla.proto.Intent> writeIntents(QueryResult result) {
    List<io.flotilla.proto.Intent> out = new ArrayList<>();
    switch (result.getOutcomeCase()) {
      case GET -> {
        if (result.getGet().hasLock() && result.getGet().getLock().getWrite()) {
          out.add(result.getGet().getLock());
        }
      }
      case MULTI_GET -> result.getMultiGet().getResultsList().stream()
          .filter(g -> g.hasLock() && g.getLock().getWrite()).forEach(g -> out.add(g.getLock()));
      case SCAN -> out.addAll(result.getScan().getLocksList());
      default -> { }
    }
    return out;
  }

  private CompletableFuture<Served<QueryResult>> rawQuery(byte[] routeKey, Query.Builder query, ReadMode mode,
      long minRevision) {
    return withRouting(routeKey, range -> rangeMetrics.track(range.getId(), RangeMetrics.Kind.READ,
            readFrom(range, query.setRangeId(range.getId()).setEpoch(range.getEpoch()).setNowMillis(clock.millis()).build(),
                mode, minRevision), served -> served.result().hasRejected()),
        served -> served.result().hasRejected() ? served.result().getRejected() : null, 0)
        .thenApply(served -> {
          if (served.result().hasRejected()) {
            throw rejectionError(served.result().getRejected());
          }
          return served;
        });
  }

  private CompletableFuture<Served<QueryResult>> readFrom(RangeDescriptor range, Query query, ReadMode mode, long minRevision) {
    return mode == ReadMode.STALE ? readOnce(range, query, mode, minRevision) : reads.read(range, query, mode);
  }

  /** One query, unbatched; the read batcher's way out too. */
  private CompletableFuture<Served<QueryResult>> readOnce(RangeDescriptor range, Query query, ReadMode mode,
      long minRevision) {
    String self = host.self().id();
    boolean local = range.getReplicasList().contains(self) && host.replica(range.getId()).isPresent();
    if (local && mode == ReadMode.STRONG && failpoints.contains(FAIL_STRONG_READS_LOCAL)) {
      // Failpoint: a "strong" read answered by whatever this node's replica has applied.
      QueryResult r = host.replica(range.getId()).orElseThrow().queryLocal(query);
      return CompletableFuture.completedFuture(new Served<>(r, self, r.getRevision()));
    }
    return switch (mode) {
      case STRONG -> strongRead(range, query);
      case FOLLOWER -> local ? followerReadHere(range, query)
          : firstAnswer(readTargets(range, false), target -> followerRead(range, query, target));
      case STALE -> staleRead(range, query, local, minRevision,
          System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(requestTimeoutMillis));
    };
  }

  /** In-process when this node leads the range, else (or if that fails) through the range's client. */
  private CompletableFuture<Served<QueryResult>> strongRead(RangeDescriptor range, Query query) {
    return hereElse(host.readAsLeader(range, query), () -> strongReadViaClient(range, query));
  }

  /** A read submitted in-process here, if there is one, else (or if it fails) {@code elsewhere}. */
  private CompletableFuture<Served<QueryResult>> hereElse(Optional<CompletableFuture<QueryResult>> here,
      java.util.function.Supplier<CompletableFuture<Served<QueryResult>>> elsewhere) {
    String self = host.self().id();
    return here.map(local -> local.thenApply(r -> new Served<>(r, self, r.getRevision()))
            .exceptionallyCompose(e -> elsewhere.get()))
        .orElseGet(elsewhere);
  }

  /** In-process on this node's replica, else (if that fails) through the range's client. */
  private CompletableFuture<Served<QueryResult>> followerReadHere(RangeDescriptor range, Query query) {
    return hereElse(host.readOnLocalReplica(range, query), () -> followerRead(range, query, host.self().id()));
  }

  private CompletableFuture<Served<QueryResult>> followerRead(RangeDescriptor range, Query query, String target) {
    return host.client(range).readOn(query, target).thenApply(r -> new Served<>(r, target, r.getRevision()));
  }

  private CompletableFuture<Served<QueryResult>> strongReadViaClient(RangeDescriptor range, Query query) {
    return host.client(range).read(query)
        .thenApply(r -> new Served<>(r, host.leaderOf(range).orElse(null), r.getRevision()));
  }

  /** Stale reads waiting now for their replica to apply their {@code min_revision} (a gauge). */
  public int staleReadsWaiting() {
    return staleReadsWaiting.get();
  }

  /**
   * A read of the replica this node prefers, once it has applied {@code minRevision}: until
   * {@code deadlineNanos} it looks again every 10 ms, then it gives up with {@code timeout}.
   */
  private CompletableFuture<Served<QueryResult>> staleRead(RangeDescriptor range, Query query, boolean local,
      long minRevision, long deadlineNanos) {
    return staleRead(range, query, local, minRevision, deadlineNanos, false);
  }

  private CompletableFuture<Served<QueryResult>> staleRead(RangeDescriptor range, Query query, boolean local,
      long minRevision, long deadlineNanos, boolean waiting) {
    List<String> targets = local ? List.of(host.self().id()) : readTargets(range, true);
    return firstAnswer(targets, target -> replicas.query(target, query).thenApply(r -> new Served<>(r, target,
        r.getRevision()))).thenCompose(served -> {
      if (served.result().hasRejected() || served.appliedRevision() >= minRevision) {
        return CompletableFuture.completedFuture(served);
      }
      if (!waiting) {
        staleReadsWaiting.incrementAndGet();
        return staleReadLater(range, query, local, minRevision, deadlineNanos)
            .whenComplete((r, e) -> staleReadsWaiting.decrementAndGet());
      }
      if (System.nanoTime() - deadlineNanos >= 0) {
        return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.TIMEOUT, "node " + served.servedBy()
            + " had applied revision " + served.appliedRevision() + " of range " + range.getId()
            + ", not min_revision " + minRevision + ", within the request timeout"));
      }
      return staleReadLater(range, query, local, minRevision, deadlineNanos);
    });
  }

  private CompletableFuture<Served<QueryResult>> staleReadLater(RangeDescriptor range, Query query, boolean local,
      long minRevision, long deadlineNanos) {
    return io.flotilla.client.Completions.after(10)
        .thenCompose(x -> staleRead(range, query.toBuilder().setNowMillis(clock.millis()).build(), local, minRevision,
            deadlineNanos, true));
  }

  /**
   * The replicas a node without one of its own asks for a read of the range, in turn: the
   * followers, then the leader (a follower read), or the leader first (a stale read: the
   * freshest). A replica that is down is skipped for the next, so a read does not wait for the
   * placement driver to repair the range.
   */
  private List<String> readTargets(RangeDescriptor range, boolean leaderFirst) {
    String leader = host.leaderOf(range).filter(range.getReplicasList()::contains).orElse(null);
    List<String> targets = new ArrayList<>();
    if (leaderFirst && leader != null) {
      targets.add(leader);
    }
    range.getReplicasList().stream().filter(id -> !id.equals(leader)).forEach(targets::add);
    if (!leaderFirst && leader != null) {
      targets.add(leader);
    }
    return targets;
  }

  /**
   * The first of {@code targets} to answer {@code read}: a read changes nothing, so asking the
   * next one is always safe. Each but the last gets an even share of the request timeout (a
   * replica that is down may take that long to fail: its clients retry), the last the rest.
   */
  private <T> CompletableFuture<T> firstAnswer(List<String> targets, Function<String, CompletableFuture<T>> read) {
    long share = Math.max(1, requestTimeoutMillis / targets.size());
    CompletableFuture<T> answer = null;
    for (int i = 0; i < targets.size(); i++) {
      String target = targets.get(i);
      boolean last = i == targets.size() - 1;
      Function<Throwable, CompletableFuture<T>> attempt = ignored -> {
        CompletableFuture<T> a = read.apply(target);
        return last ? a : a.orTimeout(share, TimeUnit.MILLISECONDS);
      };
      answer = answer == null ? attempt.apply(null) : answer.exceptionallyCompose(attempt);
    }
    return answer;
  }

  // ---- scans ----------------------------------------------------------------------------

  /**
   * One page of [start, end) (empty end = +infinity) across ranges, in order or reversed.
   * {@code position} is where this page starts: the start key going forward, the exclusive
   * end key going backward (empty = +infinity).
   */
  public CompletableFuture<ScanPage> scan(byte[] start, byte[] end, byte[] position, int limit, boolean reverse,
      boolean keysOnly, ReadMode mode, long minRevision) {
    return scanStep(new ScanState(start, end, limit, reverse, keysOnly, mode, minRevision), position);
  }

  private record ScanState(byte[] start, byte[] end, int limit, boolean reverse, boolean keysOnly, ReadMode mode,
      long minRevision, List<KeyValue> items, Served<?>[] lastServed) {
    ScanState(byte[] start, byte[] end, int limit, boolean reverse, boolean keysOnly, ReadMode mode, long minRevision) {
      this(start, end, limit, reverse, keysOnly, mode, minRevision, new ArrayList<>(), new Served<?>[1]);
    }

    boolean full() {
      return items.size() >= limit;
    }
  }

  private CompletableFuture<ScanPage> scanStep(ScanState s, byte[] position) {
    return scanStep(s, position, 0);
  }

  /**
   * Reads the next range of the scan, from {@code position} on (down from it, reversed). The
   * replica that answers reports the part of the span it looked at, and the scan goes on from
   * that part's far edge, not from the edge of the range this node routed to: a split or merge
   * the routing learned of on the way may have sent the query to a smaller or larger range.
   * When the part does not begin at {@code position} (the routing had a gap there), nothing of
   * the answer is used; the routing is refreshed and the step read again.
   */
  private CompletableFuture<ScanPage> scanStep(ScanState s, byte[] position, int attempt) {
    boolean exhausted = s.reverse()
        ? position.length != 0 && Keys.compare(position, s.start()) <= 0
        : s.end().length != 0 && Keys.compare(position, s.end()) >= 0;
    if (exhausted) {
      return CompletableFuture.completedFuture(page(s, null));
    }
    RangeDescriptor range;
    try {
      range = s.reverse() ? rangeBelow(position, s.start()) : routing().lookup(position);
    } catch (FlotillaException e) {
      if (attempt + 1 >= ROUTING_ATTEMPTS) {
        return CompletableFuture.failedFuture(e);
      }
      return resolver.refresh().thenCompose(x -> scanStep(s, position, attempt + 1));
    }
    byte[] qStart = s.reverse() ? Keys.maxStart(s.start(), range.getStart().toByteArray()) : position;
    byte[] qEnd = s.reverse() ? position : s.end();
    // Once the page is full, only peek (one key) to learn whether a next page exists.
    boolean peeking = s.full();
    ScanQuery.Builder scan = ScanQuery.newBuilder().setStart(ByteString.copyFrom(qStart)).setEnd(ByteString.copyFrom(qEnd))
        .setLimit(peeking ? 1 : s.limit() - s.items().size()).setReverse(s.reverse()).setKeysOnly(s.keysOnly() || peeking);
    byte[] routeKey = s.reverse() ? range.getStart().toByteArray() : position;
    byte[] routeKeyInRange = Keys.maxStart(routeKey, qStart);
    return query(routeKeyInRange, Query.newBuilder().setScan(scan), s.mode(), s.minRevision()).thenCompose(served -> {
      io.flotilla.proto.ScanResult result = served.result().getScan();
      // A replica of an older build names no scanned part: take the range routed to, as before.
      byte[] scannedStart = result.hasScanned() ? result.getScanned().getStart().toByteArray()
          : Keys.maxStart(qStart, range.getStart().toByteArray());
      byte[] scannedEnd = result.hasScanned() ? result.getScanned().getEnd().toByteArray()
          : Keys.minEnd(qEnd, range.getEnd().toByteArray());
      boolean fromPosition = s.reverse() ? Arrays.equals(scannedEnd, qEnd) : Arrays.equals(scannedStart, qStart);
      if (!fromPosition) {
        if (attempt + 1 >= ROUTING_ATTEMPTS) {
          return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.UNAVAILABLE,
              "the ranges of this scan kept changing while it was read; retry"));
        }
        return resolver.refresh().thenCompose(x -> scanStep(s, position, attempt + 1));
      }
      List<KeyValue> got = result.getItemsList();
      if (peeking && !got.isEmpty()) {
        return CompletableFuture.completedFuture(page(s, cursorAfterLast(s)));
      }
      if (!peeking) {
        s.items().addAll(got);
        s.lastServed()[0] = served;
        if (s.full() && result.getMore()) {
          return CompletableFuture.completedFuture(page(s, cursorAfterLast(s)));
        }
      }
      // This range holds nothing more of the scan: go on past it (an empty range after a full
      // page does not end the scan either; the next one may hold keys).
      byte[] next = s.reverse() ? scannedStart : scannedEnd;
      if (next.length == 0) {
        return CompletableFuture.completedFuture(page(s, null));
      }
      return scanStep(s, next, 0);
    });
  }

  /** The range holding the keys just below {@code position} (empty = +infinity), within [start, ...). */
  private RangeDescriptor rangeBelow(byte[] position, byte[] start) {
    List<RangeDescriptor> candidates = routing().overlapping(start, position, true);
    if (candidates.isEmpty()) {
      throw new FlotillaException(ErrorCode.UNAVAILABLE, "no known range owns part of this scan yet; retry shortly");
    }
    return candidates.get(0);
  }

  private static String cursorAfterLast(ScanState s) {
    byte[] last = s.items().get(s.items().size() - 1).getKey().toByteArray();
    if (s.reverse()) {
      return Cursors.encode(true, last);
    }
    byte[] successor = Arrays.copyOf(last, last.length + 1); // last + 0x00: the next key in order
    return Cursors.encode(false, successor);
  }

  private static ScanPage page(ScanState s, String cursor) {
    Served<?> last = s.lastServed()[0];
    return new ScanPage(List.copyOf(s.items()), cursor, last == null ? null : last.servedBy(),
        last == null ? -1 : last.appliedRevision());
  }

  // ---- batches --------------------------------------------------------------------------

  /**
   * Runs a batch. An atomic batch within one range is one log entry; across ranges it is a
   * transaction ({@link Transactions}). Gets are read in {@code mode}, one read per range; a
   * stale read waits until its range's replica applied {@code minRevision} (as scans do; 0: no
   * wait). A transaction reads strongly whatever the mode (stronger than asked is never wrong;
   * a strong read sees every acknowledged write, so it has no revision to wait for).
   */
  public CompletableFuture<List<OpOutcome>> batch(boolean atomic, List<BatchOpSpec> ops, ReadMode mode,
      long minRevision) {
    if (ops.isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    Map<Long, List<Integer>> byRange = new LinkedHashMap<>();
    try {
      for (int i = 0; i < ops.size(); i++) {
        byRange.computeIfAbsent(routing().lookup(ops.get(i).key()).getId(), id -> new ArrayList<>()).add(i);
      }
    } catch (FlotillaException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (atomic) {
      return byRange.size() > 1 ? transactions.run(ops, clock.millis() + lockWaitMillis)
          : atomicBatch(ops, mode, minRevision);
    }
    List<CompletableFuture<Void>> groups = new ArrayList<>();
    OpOutcome[] outcomes = new OpOutcome[ops.size()];
    for (List<Integer> indexes : byRange.values()) {
      groups.add(independentGroup(ops, indexes, outcomes, mode, minRevision));
    }
    return CompletableFuture.allOf(groups.toArray(CompletableFuture[]::new)).thenApply(x -> List.of(outcomes));
  }

  private CompletableFuture<List<OpOutcome>> atomicBatch(List<BatchOpSpec> ops, ReadMode mode, long minRevision) {
    if (ops.stream().allMatch(op -> op.kind() == BatchOpSpec.Kind.GET)) {
      return multiGet(ops, mode, minRevision).thenApply(served -> {
        List<OpOutcome> out = new ArrayList<>();
        served.result().getMultiGet().getResultsList().forEach(g ->
            out.add(OpOutcome.ok(EntryResult.newBuilder().setGet(g).build(), served.appliedRevision())));
        return out;
      });
    }
    long now = clock.millis();
    return propose(ops.get(0).key(), Command.newBuilder().setProposedAtMillis(now).setBatch(batchOp(true, ops, now)))
        .thenApply(res -> {
          if (res.hasRejected() && res.getRejected().getReason() == Rejection.Reason.VERSION_CONFLICT) {
            Rejection r = res.getRejected();
            throw new FlotillaException(ErrorCode.VERSION_CONFLICT, "op " + r.getFailedIndex() + " of the atomic batch: "
                + r.getMessage() + "; nothing was applied",
                Map.of("failed_index", r.getFailedIndex(), "current_version", r.getCurrentVersion()), null);
          }
          CommandResult ok = accepted(res);
          List<OpOutcome> out = new ArrayList<>();
          ok.getBatch().getResultsList().forEach(r -> out.add(OpOutcome.ok(r, ok.getRevision())));
          return out;
        });
  }

  private CompletableFuture<Served<QueryResult>> multiGet(List<BatchOpSpec> gets, ReadMode mode, long minRevision) {
    MultiGetQuery.Builder mg = MultiGetQuery.newBuilder();
    gets.forEach(op -> mg.addKeys(ByteString.copyFrom(op.key())));
    return query(gets.get(0).key(), Query.newBuilder().setMultiGet(mg), mode, minRevision);
  }

  /** Applies the ops of one range independently: writes in one command, gets in one read. */
  private CompletableFuture<Void> independentGroup(List<BatchOpSpec> ops, List<Integer> indexes, OpOutcome[] out,
      ReadMode mode, long minRevision) {
    List<Integer> writes = indexes.stream().filter(i -> ops.get(i).kind() != BatchOpSpec.Kind.GET).toList();
    List<Integer> reads = indexes.stream().filter(i -> ops.get(i).kind() == BatchOpSpec.Kind.GET).toList();
    CompletableFuture<Void> w = CompletableFuture.completedFuture(null);
    if (!writes.isEmpty()) {
      long now = clock.millis();
      List<BatchOpSpec> mine = writes.stream().map(ops::get).toList();
      w = propose(mine.get(0).key(), Command.newBuilder().setProposedAtMillis(now).setBatch(batchOp(false, mine, now)))
          .handle((res, error) -> {
            for (int j = 0; j < writes.size(); j++) {
              out[writes.get(j)] = error != null ? OpOutcome.failed(unwrap(error))
                  : res.hasRejected() ? OpOutcome.failed(rejectionError(res.getRejected()))
                  : entryOutcome(res.getBatch().getResults(j), res.getRevision());
            }
            return null;
          });
    }
    CompletableFuture<Void> r = CompletableFuture.completedFuture(null);
    if (!reads.isEmpty()) {
      r = multiGet(reads.stream().map(ops::get).toList(), mode, minRevision).handle((served, error) -> {
        for (int j = 0; j < reads.size(); j++) {
          out[reads.get(j)] = error != null ? OpOutcome.failed(unwrap(error)) : OpOutcome.ok(
              EntryResult.newBuilder().setGet(served.result().getMultiGet().getResults(j)).build(), served.appliedRevision());
        }
        return null;
      });
    }
    return CompletableFuture.allOf(w, r);
  }

  private static OpOutcome entryOutcome(EntryResult r, long revision) {
    return r.hasError() ? OpOutcome.failed(rejectionError(r.getError())) : OpOutcome.ok(r, revision);
  }

  static BatchOp batchOp(boolean atomic, List<BatchOpSpec> ops, long now) {
    BatchOp.Builder b = BatchOp.newBuilder().setAtomic(atomic);
    for (BatchOpSpec op : ops) {
      ByteString key = ByteString.copyFrom(op.key());
      switch (op.kind()) {
        case PUT -> {
          PutOp.Builder put = PutOp.newBuilder().setKey(key).setValue(ByteString.copyFrom(op.value()))
              .setExpiresAtMillis(op.ttlSeconds() > 0 ? now + op.ttlSeconds() * 1000 : 0);
          if (op.ifVersion() != null) {
            put.setIfVersion(op.ifVersion());
          }
          b.addEntries(BatchEntry.newBuilder().setPut(put));
        }
        case DELETE -> {
          DeleteOp.Builder del = DeleteOp.newBuilder().setKey(key);
          if (op.ifVersion() != null) {
            del.setIfVersion(op.ifVersion());
          }
          b.addEntries(BatchEntry.newBuilder().setDelete(del));
        }
        case GET -> b.addEntries(BatchEntry.newBuilder().setGet(GetOp.newBuilder().setKey(key)));
      }
    }
    return b.build();
  }

  // ---- routing and errors ---------------------------------------------------------------

  /**
   * Calls {@code call} on the range owning {@code routeKey}; when the replica says the routing
   * was stale, learns its descriptor and tries again (bounded), after a short pause.
   */
  private <T> CompletableFuture<T> withRouting(byte[] routeKey, Function<RangeDescriptor, CompletableFuture<T>> call,
      Function<T, Rejection> rejectionOf, int attempt) {
    try {
      host.checkRunning();
    } catch (FlotillaException e) {
      return CompletableFuture.failedFuture(e);
    }
    return route(routeKey).thenCompose(range -> call.apply(range)).handle((result, error) -> {
      Throwable cause = error;
      while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (cause instanceof io.flotilla.client.RangeNotHostedException && attempt + 1 < ROUTING_ATTEMPTS) {
        // This node's routing still names a range that was merged away or moved off the nodes
        // it knew: learn the current layout from the peers and go again (nothing was applied).
        return resolver.refresh().thenCompose(x -> withRouting(routeKey, call, rejectionOf, attempt + 1));
      }
      return error != null ? CompletableFuture.<T>failedFuture(cause) : afterCall(routeKey, call, rejectionOf, attempt,
          result);
    }).thenCompose(f -> f);
  }

  /** A replica answered: done, unless it refused for stale routing (then learn and go again). */
  private <T> CompletableFuture<T> afterCall(byte[] routeKey, Function<RangeDescriptor, CompletableFuture<T>> call,
      Function<T, Rejection> rejectionOf, int attempt, T result) {
    Rejection rejection = rejectionOf.apply(result);
    if (rejection == null || !isRouting(rejection) || attempt + 1 >= ROUTING_ATTEMPTS) {
      return CompletableFuture.completedFuture(result);
    }
    if (rejection.hasCurrent() && rejection.getCurrent().getId() != 0) {
      routing().update(rejection.getCurrent());
    }
    return io.flotilla.client.Completions.after(20L << Math.min(attempt, 5))
        .thenCompose(x -> withRouting(routeKey, call, rejectionOf, attempt + 1));
  }

  /** The range owning the key; when this node knows none, asks its peers once first. */
  private CompletableFuture<RangeDescriptor> route(byte[] key) {
    try {
      return CompletableFuture.completedFuture(routing().lookup(key));
    } catch (FlotillaException unknown) {
      return resolver.refresh().thenApply(x -> routing().lookup(key));
    }
  }

  private static boolean isRouting(Rejection r) {
    return r.getReason() == Rejection.Reason.EPOCH_MISMATCH || r.getReason() == Rejection.Reason.KEY_OUT_OF_RANGE
        || r.getReason() == Rejection.Reason.RANGE_FROZEN;
  }

  /** The result of an accepted command, or the API error its rejection means. */
  private static CommandResult accepted(CommandResult result) {
    if (result.hasRejected()) {
      throw rejectionError(result.getRejected());
    }
    return result;
  }

  static FlotillaException rejectionError(Rejection r) {
    return switch (r.getReason()) {
      case VERSION_CONFLICT -> FlotillaException.versionConflict(r.getMessage(), r.getCurrentVersion());
      case NOT_AN_INTEGER -> new FlotillaException(ErrorCode.UNPROCESSABLE, r.getMessage());
      case INVALID -> new FlotillaException(ErrorCode.INVALID_ARGUMENT, r.getMessage());
      case LOCKED, TXN_DECIDED -> new FlotillaException(ErrorCode.UNAVAILABLE,
          r.getMessage() + "; nothing was applied, retry");
      case UNPROCESSABLE -> new FlotillaException(ErrorCode.UNPROCESSABLE, r.getMessage());
      case RANGE_FROZEN -> new FlotillaException(ErrorCode.UNAVAILABLE,
          r.getMessage() + "; nothing was applied, retry shortly");
      case MERGE_CALLED_OFF -> new FlotillaException(ErrorCode.UNAVAILABLE, r.getMessage() + "; retry");
      case EPOCH_MISMATCH, KEY_OUT_OF_RANGE -> new FlotillaException(ErrorCode.UNAVAILABLE,
          "the range moved while the request was routed (" + r.getMessage() + "); retry");
      default -> new FlotillaException(ErrorCode.INTERNAL, "unexpected rejection: " + r.getMessage());
    };
  }

  public static FlotillaException unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof java.util.concurrent.CompletionException || c instanceof java.util.concurrent.ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof FlotillaException fe) {
      return fe;
    }
    return new FlotillaException(ErrorCode.INTERNAL, "internal error: " + c, c);
  }
}
