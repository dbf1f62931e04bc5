package io.flotilla.api.service;

import com.google.protobuf.ByteString;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.common.Keys;
import io.flotilla.proto.BatchOp;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.EntryResult;
import io.flotilla.proto.GetResult;
import io.flotilla.proto.Intent;
import io.flotilla.proto.QueryResult;
import io.flotilla.proto.Rejection;
import io.flotilla.proto.TxnDecideOp;
import io.flotilla.proto.TxnPrepareOp;
import io.flotilla.proto.TxnResolveOp;
import io.flotilla.proto.TxnStatus;
import io.flotilla.statemachine.Intents;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Atomic batches over several ranges, as transactions with intents (two-phase commit whose
 * decision lives in one range's log), and the resolution of transactions others left behind.
 *
 * <p>Protocol. The coordinator (this node) names the transaction and its <em>anchor</em>, the
 * batch's first key. (1) It prepares the anchor's range: conditions are checked and every key
 * of that range is locked by an intent; the anchor's intent is the transaction's record, with
 * status PENDING and the list of every key. (2) It prepares the other ranges. (3) It decides
 * COMMITTED at the anchor, (4) resolves the intents of every other key (applying them), and
 * (5) resolves the record last.
 *
 * <p>Why it is safe. Only the anchor's log decides, and a decision moves PENDING to COMMITTED
 * or ABORTED once, so commit and abort can never both win. Only a coordinator ever asks for
 * COMMITTED, and only after every prepare succeeded; anyone else only aborts. So a batch whose
 * coordinator never sent its commit is certainly not applied, whatever else failed. Intents
 * other than the record are resolved before the record is released, so an intent whose record
 * is gone belongs to a transaction that was resolved (or never prepared at its anchor, which
 * means it never committed): treating it as aborted is right. Readers of a key with an intent
 * whose record says COMMITTED resolve the transaction before answering; PENDING or ABORTED
 * means the committed value is still the current one (the commit point, if any, comes later).
 *
 * <p>Liveness. Conflicts are settled by wait-die on the batch's first start time: a prepare
 * that meets a younger transaction's lock keeps its own locks and waits; one that meets an
 * older transaction's lock gives its own transaction up and starts over later, keeping its
 * start time (so it eventually is the oldest). Waits only ever go from older to younger, so
 * there is no deadlock. Requests give up with 503 (nothing applied) at their deadline.
 * Pushing a transaction finishes it when decided, and aborts it when its record is older than
 * {@code abandonAfterMillis}; plain writes that meet a lock do the same. Every node also sweeps
 * the intents of the ranges it leads (see {@link Sweeper}), so a coordinator that crashed
 * mid-way never leaves keys locked for long.
 */
public final class Transactions {
  /** Optimistic double reads of a read-only batch before it falls back to locking its keys. */
  private static final int SNAPSHOT_READ_ATTEMPTS = 5;
  /** Rounds of resolving a decided transaction's keys before leaving the rest to readers and the sweeper. */
  private static final int FINISH_ATTEMPTS = 4;
  private static final Logger LOG = LoggerFactory.getLogger(Transactions.class);

  /** The routed calls transactions need from the key service. */
  interface Ranges {
    /** Proposes to the range owning {@code routeKey} (routing refreshed and retried). */
    CompletableFuture<CommandResult> propose(byte[] routeKey, Command.Builder command);

    /** A linearizable read of one key's committed state and intent, without resolving anything. */
    CompletableFuture<GetResult> strongGet(byte[] key);

    /** A linearizable read of keys of one range, committed transactions on them resolved first. */
    CompletableFuture<QueryResult> strongMultiGet(List<byte[]> keys);

    /** The id of the range owning {@code key} in this node's routing table. */
    long rangeOf(byte[] key);
  }

  private final Ranges ranges;
  private final Clock clock;
  private final long abandonAfterMillis;
  private final int maxEntryBytes;
  /** Transactions being finished by this node right now, so the sweeper does not pile up. */
  private final Map<ByteString, CompletableFuture<Void>> finishing = new ConcurrentHashMap<>();

  Transactions(Ranges ranges, Clock clock, long abandonAfterMillis, int maxEntryBytes) {
    this.ranges = ranges;
    this.clock = clock;
    this.abandonAfterMillis = abandonAfterMillis;
    this.maxEntryBytes = maxEntryBytes;
  }

  // ---- coordinator ----------------------------------------------------------------------

  /** Runs an atomic batch whose keys lie in more than one range. */
  CompletableFuture<List<OpOutcome>> run(List<BatchOpSpec> ops, long deadlineMillis) {
    if (ops.stream().allMatch(op -> op.kind() == BatchOpSpec.Kind.GET)) {
      return readSnapshot(ops, deadlineMillis, 0);
    }
    return attempt(ops, deadlineMillis, clock.millis(), 0);
  }

  /**
   * One attempt with a fresh transaction id. {@code priority} is the first attempt's start
   * time and stays with the batch across attempts, so a batch that keeps losing conflicts
   * becomes the oldest and then wins (wait-die: older transactions wait, younger give up).
   */
  private CompletableFuture<List<OpOutcome>> attempt(List<BatchOpSpec> ops, long deadline, long priority, int n) {
    Plan plan;
    try {
      plan = plan(ops, priority);
    } catch (FlotillaException e) {
      return CompletableFuture.failedFuture(e);
    }
    Command.Builder prepareAnchor = plan.prepare(plan.anchorRange, true, clock.millis());
    if (prepareAnchor.build().getSerializedSize() > maxEntryBytes) {
      return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.TOO_LARGE,
          "this atomic batch spans several ranges, and its keys plus the anchor range's ops exceed the "
              + maxEntryBytes + "-byte log entry limit; send fewer or smaller keys"));
    }
    return ranges.propose(plan.anchor, prepareAnchor).handle((res, error) -> {
      if (error != null) {
        // Never committed: only this coordinator could commit, and it will not.
        abortQuietly(plan);
        return CompletableFuture.<List<OpOutcome>>failedFuture(notApplied(error));
      }
      if (!res.hasRejected()) {
        plan.prepared.put(plan.anchorRange, res);
        List<Long> rest = plan.byRange.keySet().stream().filter(id -> id != plan.anchorRange).toList();
        return prepareRest(ops, deadline, plan, rest, n);
      }
      Rejection r = res.getRejected();
      if (r.getReason() != Rejection.Reason.LOCKED) {
        return CompletableFuture.<List<OpOutcome>>failedFuture(refusal(r));
      }
      // Nothing is locked yet: push the holder, pause, and try again.
      return afterPause(n, push(r.getLock()), () -> attempt(ops, deadline, priority, n + 1), deadline);
    }).thenCompose(f -> f);
  }

  /** Prepares the given non-anchor ranges in parallel; waits, retries or gives up on conflicts. */
  private CompletableFuture<List<OpOutcome>> prepareRest(List<BatchOpSpec> ops, long deadline, Plan plan,
      List<Long> todo, int n) {
    Map<Long, Object> failures = new ConcurrentHashMap<>();
    long now = clock.millis();
    List<CompletableFuture<Void>> calls = new ArrayList<>();
    for (long rangeId : todo) {
      byte[] routeKey = plan.ops.get(plan.byRange.get(rangeId).get(0)).key();
      calls.add(ranges.propose(routeKey, plan.prepare(rangeId, false, now)).handle((res, error) -> {
        if (error != null) {
          failures.put(rangeId, error);
        } else if (res.hasRejected()) {
          failures.put(rangeId, res.getRejected());
        } else {
          plan.prepared.put(rangeId, res);
        }
        return null;
      }));
    }
    return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).thenCompose(x -> {
      if (failures.isEmpty()) {
        return commit(ops, deadline, plan, n);
      }
      List<Rejection> refusals = failures.values().stream().filter(f -> f instanceof Rejection)
          .map(f -> (Rejection) f).toList();
      Throwable error = failures.values().stream().filter(f -> f instanceof Throwable).map(f -> (Throwable) f)
          .findFirst().orElse(null);
      boolean onlyLocks = error == null && refusals.stream().allMatch(r -> r.getReason() == Rejection.Reason.LOCKED);
      if (onlyLocks && refusals.stream().allMatch(r -> plan.olderThan(r.getLock())) && clock.millis() < deadline) {
        // Every lock in the way belongs to a younger transaction: keep ours and wait for them.
        CompletableFuture<?> pushes = CompletableFuture.allOf(refusals.stream().map(r -> push(r.getLock()))
            .toArray(CompletableFuture[]::new));
        List<Long> again = List.copyOf(failures.keySet());
        // No deadline check on the way: the next round gives the transaction up properly if late.
        return afterPause(n, pushes, () -> prepareRest(ops, deadline, plan, again, n + 1), Long.MAX_VALUE);
      }
      // Give the transaction up before anything else: its locks must not outlive the answer.
      return abort(plan).handle((ignored, abortError) -> {
        if (error != null) {
          return CompletableFuture.<List<OpOutcome>>failedFuture(notApplied(error));
        }
        Rejection conflict = refusals.stream().filter(r -> r.getReason() != Rejection.Reason.LOCKED)
            .findFirst().orElse(null);
        if (conflict != null) {
          return CompletableFuture.<List<OpOutcome>>failedFuture(refusal(conflict));
        }
        CompletableFuture<?> pushes = CompletableFuture.allOf(refusals.stream().map(r -> push(r.getLock()))
            .toArray(CompletableFuture[]::new));
        return afterPause(n, pushes, () -> attempt(ops, deadline, plan.priority, n + 1), deadline);
      }).thenCompose(f -> f);
    });
  }

  private CompletableFuture<List<OpOutcome>> commit(List<BatchOpSpec> ops, long deadline, Plan plan, int n) {
    Command.Builder decide = Command.newBuilder().setProposedAtMillis(clock.millis())
        .setTxnDecide(TxnDecideOp.newBuilder().setTxnId(plan.txnId).setAnchorKey(ByteString.copyFrom(plan.anchor))
            .setCommit(true));
    return ranges.propose(plan.anchor, decide).handle((res, error) -> {
      if (error != null) {
        // The commit may or may not have been decided: finish whatever it was, later.
        finishLater(plan.txnId, plan.anchor);
        return CompletableFuture.<List<OpOutcome>>failedFuture(
            FlotillaException.outcomeUnknown("the atomic batch's commit", error));
      }
      if (res.hasRejected()) {
        // Someone aborted it (it looked abandoned), or the anchor's range refused the decision
        // (frozen for a merge, say) and it is still pending: nothing was applied. Abort it (a
        // no-op when aborted already) so that its record does not hold up the next attempt.
        CompletableFuture<?> cleanup = abort(plan);
        return afterPause(n, cleanup, () -> attempt(ops, deadline, plan.priority, n + 1), deadline);
      }
      Map<ByteString, Long> resolved = new ConcurrentHashMap<>();
      return finish(plan.txnId, plan.anchor, TxnStatus.TXN_COMMITTED, plan.keys, resolved)
          .handle((x, e) -> {
            if (e != null) {
              // Committed, and readers and the sweeper will resolve what is left; its keys'
              // answers name no revision (0) for lack of one that holds them.
              LOG.warn("atomic batch {} committed, but resolving its keys failed: {}",
                  java.util.HexFormat.of().formatHex(plan.txnId.toByteArray()), e.toString());
              finishLater(plan.txnId, plan.anchor);
            }
            return plan.outcomes(resolved);
          });
    }).thenCompose(f -> f);
  }

  /** A definite refusal other than a lock: 409 for a failed condition, nothing applied. */
  private static FlotillaException refusal(Rejection r) {
    if (r.getReason() == Rejection.Reason.VERSION_CONFLICT) {
      return new FlotillaException(ErrorCode.VERSION_CONFLICT,
          "op " + r.getFailedIndex() + " of the atomic batch: " + r.getMessage() + "; nothing was applied",
          Map.of("failed_index", r.getFailedIndex(), "current_version", r.getCurrentVersion()), null);
    }
    return KeyService.rejectionError(r);
  }

  /** Runs {@code next} after {@code first} settles and a short random pause, unless past the deadline. */
  private <T> CompletableFuture<T> afterPause(int n, CompletableFuture<?> first,
      java.util.function.Supplier<CompletableFuture<T>> next, long deadline) {
    long pause = ThreadLocalRandom.current().nextLong(2, 4L << Math.min(n, 4));
    return first.handle((x, e) -> null)
        .thenCompose(x -> io.flotilla.client.Completions.after(pause))
        .thenCompose(x -> clock.millis() >= deadline
            ? CompletableFuture.failedFuture(new FlotillaException(ErrorCode.UNAVAILABLE,
                "the atomic batch kept meeting other transactions on the same keys and was not applied; retry"))
            : next.get());
  }

  // ---- read-only batches --------------------------------------------------------------------

  /**
   * An atomic batch of gets over several ranges, without locks: reads every range, reads
   * again, and answers when nothing changed in between. Every key then held the same value
   * from its first read to its second (a version is never reused, and an absent key's range
   * revision did not move), and every first read ended before any second one began, so all of
   * them held at one instant in between: the answer is a consistent snapshot. Busy keys that
   * keep changing fall back to a locking transaction.
   */
  private CompletableFuture<List<OpOutcome>> readSnapshot(List<BatchOpSpec> ops, long deadline, int n) {
    if (n >= SNAPSHOT_READ_ATTEMPTS) {
      return attempt(ops, deadline, clock.millis(), 0);
    }
    Map<Long, List<Integer>> byRange;
    try {
      byRange = groupByRange(ops);
    } catch (FlotillaException e) {
      return CompletableFuture.failedFuture(e);
    }
    return readAll(ops, byRange).thenCompose(first -> readAll(ops, byRange).thenCompose(second -> {
      if (sameSnapshot(byRange, first, second)) {
        OpOutcome[] out = new OpOutcome[ops.size()];
        byRange.forEach((rangeId, indexes) -> {
          QueryResult r = second.get(rangeId);
          for (int j = 0; j < indexes.size(); j++) {
            out[indexes.get(j)] = OpOutcome.ok(EntryResult.newBuilder().setGet(r.getMultiGet().getResults(j)).build(),
                r.getRevision());
          }
        });
        return CompletableFuture.completedFuture(List.of(out));
      }
      return readSnapshot(ops, deadline, n + 1);
    }));
  }

  private CompletableFuture<Map<Long, QueryResult>> readAll(List<BatchOpSpec> ops, Map<Long, List<Integer>> byRange) {
    Map<Long, QueryResult> out = new ConcurrentHashMap<>();
    List<CompletableFuture<Void>> reads = new ArrayList<>();
    byRange.forEach((rangeId, indexes) -> reads.add(ranges.strongMultiGet(
        indexes.stream().map(i -> ops.get(i).key()).toList()).thenAccept(r -> out.put(rangeId, r))));
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(x -> out);
  }

  private static boolean sameSnapshot(Map<Long, List<Integer>> byRange, Map<Long, QueryResult> a,
      Map<Long, QueryResult> b) {
    for (long rangeId : byRange.keySet()) {
      List<GetResult> x = a.get(rangeId).getMultiGet().getResultsList();
      List<GetResult> y = b.get(rangeId).getMultiGet().getResultsList();
      boolean anyAbsent = false;
      for (int j = 0; j < x.size(); j++) {
        if (x.get(j).getFound() != y.get(j).getFound()
            || (x.get(j).getFound() && x.get(j).getKv().getVersion() != y.get(j).getKv().getVersion())) {
          return false;
        }
        anyAbsent |= !x.get(j).getFound();
      }
      if (anyAbsent && a.get(rangeId).getRevision() != b.get(rangeId).getRevision()) {
        return false; // an absent key may have been created and deleted in between
      }
    }
    return true;
  }

  private CompletableFuture<Void> abort(Plan plan) {
    return decide(plan.txnId, plan.anchor, false)
        .thenCompose(status -> finish(plan.txnId, plan.anchor, status, plan.keys))
        .thenApply(x -> null);
  }

  private void abortQuietly(Plan plan) {
    abort(plan).exceptionally(e -> null);
  }

  private static FlotillaException notApplied(Throwable error) {
    FlotillaException cause = KeyService.unwrap(error);
    return new FlotillaException(ErrorCode.UNAVAILABLE,
        "the atomic batch was not applied (a range did not confirm its part: " + cause.getMessage() + "); retry",
        cause);
  }

  // ---- resolving ------------------------------------------------------------------------

  /**
   * Makes progress on the transaction holding {@code lock}: finishes it when decided, aborts
   * it when abandoned. Completes when there is nothing more to do now (the caller retries).
   */
  CompletableFuture<Void> push(Intent lock) {
    return recordOf(lock).thenCompose(record -> {
      if (record == null) {
        // No record: resolved, or never prepared at its anchor, so never committed.
        return resolve(lock.getTxnId(), false, List.of(lock.getKey().toByteArray())).thenApply(x -> null);
      }
      if (record.getStatus() != TxnStatus.TXN_PENDING) {
        return finishOnce(record, record.getStatus());
      }
      if (clock.millis() - record.getStartedAtMillis() < abandonAfterMillis) {
        return CompletableFuture.completedFuture(null); // its coordinator is probably still at it
      }
      return decide(record.getTxnId(), record.getAnchorKey().toByteArray(), false)
          .thenCompose(status -> finishOnce(record, status));
    });
  }

  /**
   * Whether the value a reader saw next to {@code lock} may be stale: true when the
   * transaction committed; it is then finished before this completes, and the read retried.
   *
   * <p>Also true when the record is gone. A finished transaction releases its record last, so
   * it may have committed (and its other keys been read with their new values) after the
   * reader's value was read: the key is read again. An intent still there without its record
   * never committed (a prepare that came late), so it is dropped first, as {@link #push} does.
   */
  CompletableFuture<Boolean> resolveIfCommitted(Intent lock) {
    return recordOf(lock).thenCompose(record -> {
      if (record == null) {
        return resolve(lock.getTxnId(), false, List.of(lock.getKey().toByteArray())).thenApply(x -> true);
      }
      if (record.getStatus() != TxnStatus.TXN_COMMITTED) {
        return CompletableFuture.completedFuture(false);
      }
      return finishOnce(record, TxnStatus.TXN_COMMITTED).thenApply(x -> true);
    });
  }

  /** The transaction's record (its anchor's intent), or null when the anchor holds none of it. */
  private CompletableFuture<Intent> recordOf(Intent lock) {
    if (Intents.isRecord(lock)) {
      return CompletableFuture.completedFuture(lock);
    }
    return ranges.strongGet(lock.getAnchorKey().toByteArray()).thenApply(g ->
        g.hasLock() && g.getLock().getTxnId().equals(lock.getTxnId()) && Intents.isRecord(g.getLock())
            ? g.getLock() : null);
  }

  private CompletableFuture<TxnStatus> decide(ByteString txnId, byte[] anchor, boolean commit) {
    Command.Builder c = Command.newBuilder().setProposedAtMillis(clock.millis()).setTxnDecide(TxnDecideOp.newBuilder()
        .setTxnId(txnId).setAnchorKey(ByteString.copyFrom(anchor)).setCommit(commit));
    return ranges.propose(anchor, c).thenApply(res -> {
      if (res.hasRejected()) {
        if (res.getRejected().getReason() == Rejection.Reason.TXN_DECIDED) {
          return res.getRejected().getStatus();
        }
        throw KeyService.rejectionError(res.getRejected());
      }
      return res.getTxnDecide().getStatus();
    });
  }

  private CompletableFuture<Void> finishOnce(Intent record, TxnStatus status) {
    List<byte[]> keys = record.getParticipantKeysList().stream().map(ByteString::toByteArray).toList();
    CompletableFuture<Void> mine = new CompletableFuture<>();
    CompletableFuture<Void> running = finishing.putIfAbsent(record.getTxnId(), mine);
    if (running != null) {
      return running;
    }
    CompletableFuture<?> finished;
    try {
      finished = finish(record.getTxnId(), record.getAnchorKey().toByteArray(), status, keys);
    } catch (RuntimeException e) {
      finished = CompletableFuture.failedFuture(e); // never leave the entry behind: every later push would wait on it
    }
    finished.whenComplete((r, e) -> {
      finishing.remove(record.getTxnId(), mine);
      if (e != null) {
        mine.completeExceptionally(e);
      } else {
        mine.complete(null);
      }
    });
    return mine;
  }

  private void finishLater(ByteString txnId, byte[] anchor) {
    CompletableFuture.delayedExecutor(abandonAfterMillis, TimeUnit.MILLISECONDS, io.flotilla.client.Completions.EXECUTOR).execute(() ->
        ranges.strongGet(anchor).thenCompose(g -> g.hasLock() && g.getLock().getTxnId().equals(txnId)
                ? push(g.getLock()) : CompletableFuture.completedFuture(null))
            .exceptionally(e -> null));
  }

  /**
   * Resolves every key of a decided transaction, the record last; returns the revision each
   * key's range had after its resolution (for read-your-writes on the batch's answer). Tries
   * again a few times: a committed transaction's keys are resolved by the sweeper and by
   * readers too, but its answer should name revisions that hold them.
   */
  private CompletableFuture<Void> finish(ByteString txnId, byte[] anchor, TxnStatus status, Collection<byte[]> keys) {
    return finish(txnId, anchor, status, keys, new ConcurrentHashMap<>());
  }

  private CompletableFuture<Void> finish(ByteString txnId, byte[] anchor, TxnStatus status, Collection<byte[]> keys,
      Map<ByteString, Long> revisions) {
    boolean commit = status == TxnStatus.TXN_COMMITTED;
    List<byte[]> others = keys.stream().filter(k -> Keys.compare(k, anchor) != 0).toList();
    return retried(() -> resolve(txnId, commit, others, revisions), FINISH_ATTEMPTS)
        .thenCompose(x -> retried(() -> resolve(txnId, commit, List.of(anchor), revisions), FINISH_ATTEMPTS));
  }

  private CompletableFuture<Void> retried(java.util.function.Supplier<CompletableFuture<Void>> call, int attempts) {
    return call.get().handle((x, e) -> {
      if (e == null || attempts <= 1) {
        return e == null ? CompletableFuture.<Void>completedFuture(null) : CompletableFuture.<Void>failedFuture(e);
      }
      return io.flotilla.client.Completions.after(20L * (FINISH_ATTEMPTS - attempts + 1))
          .thenCompose(y -> retried(call, attempts - 1));
    }).thenCompose(f -> f);
  }

  private CompletableFuture<Void> resolve(ByteString txnId, boolean commit, List<byte[]> keys) {
    return resolve(txnId, commit, keys, new ConcurrentHashMap<>());
  }

  /**
   * Resolves {@code keys} in one command per range of this node's routing. A key the routing
   * does not know, or a command refused because its range split or merged meanwhile, is
   * resolved on its own, routed afresh. Failures come back in the future, never thrown.
   */
  private CompletableFuture<Void> resolve(ByteString txnId, boolean commit, List<byte[]> keys,
      Map<ByteString, Long> revisions) {
    Map<Long, List<byte[]>> byRange = new LinkedHashMap<>();
    long unknown = -1;
    for (byte[] k : keys) {
      long rangeId;
      try {
        rangeId = ranges.rangeOf(k);
      } catch (RuntimeException notKnownYet) {
        rangeId = unknown--; // alone; proposing routes it, learning its range first
      }
      byRange.computeIfAbsent(rangeId, id -> new ArrayList<>()).add(k);
    }
    List<CompletableFuture<Void>> calls = new ArrayList<>();
    byRange.values().forEach(mine -> calls.add(resolveIn(txnId, commit, mine, revisions)));
    return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new));
  }

  private CompletableFuture<Void> resolveIn(ByteString txnId, boolean commit, List<byte[]> keys,
      Map<ByteString, Long> revisions) {
    TxnResolveOp.Builder op = TxnResolveOp.newBuilder().setTxnId(txnId).setCommit(commit);
    keys.forEach(k -> op.addKeys(ByteString.copyFrom(k)));
    return ranges.propose(keys.get(0), Command.newBuilder().setProposedAtMillis(clock.millis()).setTxnResolve(op))
        .thenCompose(res -> {
          if (!res.hasRejected()) {
            keys.forEach(k -> revisions.merge(ByteString.copyFrom(k), res.getRevision(), Math::max));
            return CompletableFuture.<Void>completedFuture(null);
          }
          Rejection.Reason why = res.getRejected().getReason();
          if (keys.size() > 1 && (why == Rejection.Reason.KEY_OUT_OF_RANGE || why == Rejection.Reason.EPOCH_MISMATCH)) {
            // The keys no longer share a range (it split): each on its own.
            return CompletableFuture.allOf(keys.stream().map(k -> resolveIn(txnId, commit, List.of(k), revisions))
                .toArray(CompletableFuture[]::new));
          }
          return CompletableFuture.<Void>failedFuture(KeyService.rejectionError(res.getRejected()));
        });
  }

  // ---- planning -------------------------------------------------------------------------

  private Map<Long, List<Integer>> groupByRange(List<BatchOpSpec> ops) {
    Map<Long, List<Integer>> byRange = new LinkedHashMap<>();
    for (int i = 0; i < ops.size(); i++) {
      byRange.computeIfAbsent(ranges.rangeOf(ops.get(i).key()), id -> new ArrayList<>()).add(i);
    }
    return byRange;
  }

  private Plan plan(List<BatchOpSpec> ops, long priority) {
    Plan p = new Plan(ops, priority);
    p.byRange.putAll(groupByRange(ops));
    ops.forEach(op -> p.keys.add(op.key()));
    p.anchorRange = ranges.rangeOf(p.anchor);
    return p;
  }

  /** One attempt of one transaction. */
  private static final class Plan {
    final ByteString txnId = newTxnId();
    final List<BatchOpSpec> ops;
    final byte[] anchor;
    final Map<Long, List<Integer>> byRange = new LinkedHashMap<>();
    /** Every distinct key of the batch, in key order. */
    final TreeSet<byte[]> keys = new TreeSet<>(Keys.ORDER);
    final Map<Long, CommandResult> prepared = new ConcurrentHashMap<>();
    final long priority;
    long anchorRange;

    Plan(List<BatchOpSpec> ops, long priority) {
      this.ops = ops;
      this.anchor = ops.get(0).key();
      this.priority = priority;
    }

    /** Wait-die order: the earlier first attempt is older; transaction ids break ties. */
    boolean olderThan(Intent other) {
      if (priority != other.getPriority()) {
        return priority < other.getPriority();
      }
      return ByteString.unsignedLexicographicalComparator().compare(txnId, other.getTxnId()) < 0;
    }

    Command.Builder prepare(long rangeId, boolean isAnchor, long now) {
      List<Integer> indexes = byRange.get(rangeId);
      BatchOp entries = KeyService.batchOp(true, indexes.stream().map(ops::get).toList(), now);
      TxnPrepareOp.Builder op = TxnPrepareOp.newBuilder().setTxnId(txnId).setAnchorKey(ByteString.copyFrom(anchor))
          .addAllEntries(entries.getEntriesList()).addAllIndexes(indexes).setPriority(priority);
      if (isAnchor) {
        keys.forEach(k -> op.addParticipantKeys(ByteString.copyFrom(k)));
      }
      return Command.newBuilder().setProposedAtMillis(now).setTxnPrepare(op);
    }

    /**
     * Each op's result in the client's order, at the revision of the range that resolved its
     * key (0 when that did not happen: no revision then holds the write for stale reads).
     */
    List<OpOutcome> outcomes(Map<ByteString, Long> revisions) {
      OpOutcome[] out = new OpOutcome[ops.size()];
      byRange.forEach((rangeId, indexes) -> {
        CommandResult res = prepared.get(rangeId);
        for (int j = 0; j < indexes.size(); j++) {
          EntryResult r = res.getTxnPrepare().getResults(j);
          long revision = revisions.getOrDefault(ByteString.copyFrom(ops.get(indexes.get(j)).key()), 0L);
          out[indexes.get(j)] = OpOutcome.ok(r, revision);
        }
      });
      return List.of(out);
    }

    private static ByteString newTxnId() {
      UUID id = UUID.randomUUID();
      return ByteString.copyFrom(ByteBuffer.allocate(16).putLong(id.getMostSignificantBits())
          .putLong(id.getLeastSignificantBits()).array());
    }
  }
}
