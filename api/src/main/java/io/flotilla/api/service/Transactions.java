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
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

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
 * <p>Liveness. A prepare that meets another transaction's lock gives up its own transaction
 * (no waiting while holding locks, so no deadlock), pushes the other one, and starts over.
 * Pushing a transaction finishes it when decided, and aborts it when its record is older than
 * {@code abandonAfterMillis}; plain writes that meet a lock do the same. Every node also sweeps
 * the intents of the ranges it leads (see {@link Sweeper}), so a coordinator that crashed
 * mid-way never leaves keys locked for long.
 */
public final class Transactions {
  /** Restarts of a transaction that lost a conflict, before giving up with 503. */
  private static final int ATTEMPTS = 8;

  /** The routed calls transactions need from the key service. */
  interface Ranges {
    /** Proposes to the range owning {@code routeKey} (routing refreshed and retried). */
    CompletableFuture<CommandResult> propose(byte[] routeKey, Command.Builder command);

    /** A linearizable read of one key's committed state and intent, without resolving anything. */
    CompletableFuture<GetResult> strongGet(byte[] key);

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
    return attempt(ops, deadlineMillis, 0);
  }

  private CompletableFuture<List<OpOutcome>> attempt(List<BatchOpSpec> ops, long deadline, int attempt) {
    Plan plan;
    try {
      plan = plan(ops);
    } catch (FlotillaException e) {
      return CompletableFuture.failedFuture(e);
    }
    Command.Builder prepareAnchor = plan.prepare(plan.anchorRange, true, clock.millis());
    if (prepareAnchor.build().getSerializedSize() > maxEntryBytes) {
      return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.TOO_LARGE,
          "this atomic batch spans several ranges, and its keys plus the anchor range's ops exceed the "
              + maxEntryBytes + "-byte log entry limit; send fewer or smaller keys"));
    }
    return ranges.propose(plan.anchor, prepareAnchor)
        .handle((res, error) -> {
          if (error != null) {
            // Never committed: only this coordinator could commit, and it will not.
            abortQuietly(plan);
            return CompletableFuture.<List<OpOutcome>>failedFuture(notApplied(error));
          }
          if (res.hasRejected()) {
            return retryOrFail(ops, deadline, attempt, plan, res.getRejected(), false);
          }
          plan.prepared.put(plan.anchorRange, res);
          return prepareParticipants(ops, deadline, attempt, plan);
        }).thenCompose(f -> f);
  }

  private CompletableFuture<List<OpOutcome>> prepareParticipants(List<BatchOpSpec> ops, long deadline, int attempt,
      Plan plan) {
    List<CompletableFuture<Void>> calls = new ArrayList<>();
    Map<Long, Object> failures = new ConcurrentHashMap<>();
    long now = clock.millis();
    for (long rangeId : plan.byRange.keySet()) {
      if (rangeId == plan.anchorRange) {
        continue;
      }
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
        return commit(ops, deadline, attempt, plan);
      }
      // Give the transaction up before anything else: its locks must not outlive the answer.
      Object first = failures.values().stream().filter(f -> f instanceof Rejection r
          && r.getReason() == Rejection.Reason.VERSION_CONFLICT).findFirst()
          .orElse(failures.values().iterator().next());
      return abort(plan).handle((ignored, abortError) -> {
        if (first instanceof Rejection r) {
          return retryOrFail(ops, deadline, attempt, plan, r, true);
        }
        return CompletableFuture.<List<OpOutcome>>failedFuture(notApplied((Throwable) first));
      }).thenCompose(f -> f);
    });
  }

  private CompletableFuture<List<OpOutcome>> commit(List<BatchOpSpec> ops, long deadline, int attempt, Plan plan) {
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
        // Someone aborted it (it looked abandoned): nothing was applied, so start over.
        return finish(plan.txnId, plan.anchor, TxnStatus.TXN_ABORTED, plan.keys)
            .handle((r, e) -> null)
            .thenCompose(y -> retryOrFail(ops, deadline, attempt, plan, res.getRejected(), true));
      }
      return finish(plan.txnId, plan.anchor, TxnStatus.TXN_COMMITTED, plan.keys)
          .handle((revisions, e) -> plan.outcomes(revisions == null ? Map.of() : revisions));
    }).thenCompose(f -> f);
  }

  /**
   * After a definite refusal: a failed condition fails the batch (409, nothing applied); a
   * lock or a lost race pushes the other transaction and starts over with a new id.
   */
  private CompletableFuture<List<OpOutcome>> retryOrFail(List<BatchOpSpec> ops, long deadline, int attempt,
      Plan plan, Rejection r, boolean abortedOwn) {
    if (r.getReason() == Rejection.Reason.VERSION_CONFLICT) {
      return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.VERSION_CONFLICT,
          "op " + r.getFailedIndex() + " of the atomic batch: " + r.getMessage() + "; nothing was applied",
          Map.of("failed_index", r.getFailedIndex(), "current_version", r.getCurrentVersion()), null));
    }
    boolean retryable = r.getReason() == Rejection.Reason.LOCKED || r.getReason() == Rejection.Reason.TXN_DECIDED;
    if (!retryable) {
      return CompletableFuture.failedFuture(KeyService.rejectionError(r));
    }
    if (attempt + 1 >= ATTEMPTS || clock.millis() >= deadline) {
      return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.UNAVAILABLE,
          "the atomic batch kept conflicting with other transactions on the same keys and was not applied; retry"));
    }
    CompletableFuture<Void> push = r.hasLock() ? push(r.getLock()) : CompletableFuture.completedFuture(null);
    long pause = ThreadLocalRandom.current().nextLong(5, 20L << Math.min(attempt, 4));
    return push.handle((x, e) -> null)
        .thenCompose(x -> CompletableFuture.supplyAsync(() -> null,
            CompletableFuture.delayedExecutor(pause, TimeUnit.MILLISECONDS)))
        .thenCompose(x -> attempt(ops, deadline, attempt + 1));
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
   */
  CompletableFuture<Boolean> resolveIfCommitted(Intent lock) {
    return recordOf(lock).thenCompose(record -> {
      if (record == null || record.getStatus() != TxnStatus.TXN_COMMITTED) {
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
    finish(record.getTxnId(), record.getAnchorKey().toByteArray(), status, keys).whenComplete((r, e) -> {
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
    CompletableFuture.delayedExecutor(abandonAfterMillis, TimeUnit.MILLISECONDS).execute(() ->
        ranges.strongGet(anchor).thenCompose(g -> g.hasLock() && g.getLock().getTxnId().equals(txnId)
                ? push(g.getLock()) : CompletableFuture.completedFuture(null))
            .exceptionally(e -> null));
  }

  /**
   * Resolves every key of a decided transaction, the record last; returns each range's
   * revision after its resolution (for read-your-writes on the batch's answer).
   */
  private CompletableFuture<Map<Long, Long>> finish(ByteString txnId, byte[] anchor, TxnStatus status,
      Collection<byte[]> keys) {
    boolean commit = status == TxnStatus.TXN_COMMITTED;
    List<byte[]> others = keys.stream().filter(k -> Keys.compare(k, anchor) != 0).toList();
    Map<Long, Long> revisions = new ConcurrentHashMap<>();
    return resolve(txnId, commit, others, revisions)
        .thenCompose(x -> resolve(txnId, commit, List.of(anchor), revisions))
        .thenApply(x -> revisions);
  }

  private CompletableFuture<Void> resolve(ByteString txnId, boolean commit, List<byte[]> keys) {
    return resolve(txnId, commit, keys, new ConcurrentHashMap<>());
  }

  private CompletableFuture<Void> resolve(ByteString txnId, boolean commit, List<byte[]> keys,
      Map<Long, Long> revisions) {
    Map<Long, List<byte[]>> byRange = new LinkedHashMap<>();
    for (byte[] k : keys) {
      byRange.computeIfAbsent(ranges.rangeOf(k), id -> new ArrayList<>()).add(k);
    }
    List<CompletableFuture<Void>> calls = new ArrayList<>();
    byRange.forEach((rangeId, mine) -> {
      TxnResolveOp.Builder op = TxnResolveOp.newBuilder().setTxnId(txnId).setCommit(commit);
      mine.forEach(k -> op.addKeys(ByteString.copyFrom(k)));
      calls.add(ranges.propose(mine.get(0), Command.newBuilder().setProposedAtMillis(clock.millis()).setTxnResolve(op))
          .thenAccept(res -> {
            if (res.hasRejected()) {
              throw KeyService.rejectionError(res.getRejected());
            }
            revisions.merge(rangeId, res.getRevision(), Math::max);
          }));
    });
    return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new));
  }

  // ---- planning -------------------------------------------------------------------------

  private Plan plan(List<BatchOpSpec> ops) {
    Plan p = new Plan(ops);
    for (int i = 0; i < ops.size(); i++) {
      p.byRange.computeIfAbsent(ranges.rangeOf(ops.get(i).key()), id -> new ArrayList<>()).add(i);
      p.keySet.add(ops.get(i).key());
    }
    p.keys.addAll(p.keySet);
    p.anchorRange = ranges.rangeOf(p.anchor);
    return p;
  }

  /** One attempt of one transaction. */
  private static final class Plan {
    final ByteString txnId = newTxnId();
    final List<BatchOpSpec> ops;
    final byte[] anchor;
    final Map<Long, List<Integer>> byRange = new LinkedHashMap<>();
    final TreeSet<byte[]> keySet = new TreeSet<>(Keys.ORDER);
    final List<byte[]> keys = new ArrayList<>();
    final Map<Long, CommandResult> prepared = new ConcurrentHashMap<>();
    long anchorRange;

    Plan(List<BatchOpSpec> ops) {
      this.ops = ops;
      this.anchor = ops.get(0).key();
    }

    Command.Builder prepare(long rangeId, boolean isAnchor, long now) {
      List<Integer> indexes = byRange.get(rangeId);
      BatchOp entries = KeyService.batchOp(true, indexes.stream().map(ops::get).toList(), now);
      TxnPrepareOp.Builder op = TxnPrepareOp.newBuilder().setTxnId(txnId).setAnchorKey(ByteString.copyFrom(anchor))
          .addAllEntries(entries.getEntriesList()).addAllIndexes(indexes);
      if (isAnchor) {
        keys.forEach(k -> op.addParticipantKeys(ByteString.copyFrom(k)));
      }
      return Command.newBuilder().setProposedAtMillis(now).setTxnPrepare(op);
    }

    /** Each op's result in the client's order, at its range's revision after resolution. */
    List<OpOutcome> outcomes(Map<Long, Long> revisions) {
      OpOutcome[] out = new OpOutcome[ops.size()];
      TreeMap<Long, List<Integer>> sorted = new TreeMap<>(byRange);
      sorted.forEach((rangeId, indexes) -> {
        CommandResult res = prepared.get(rangeId);
        long revision = revisions.getOrDefault(rangeId, 0L);
        for (int j = 0; j < indexes.size(); j++) {
          EntryResult r = res.getTxnPrepare().getResults(j);
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
