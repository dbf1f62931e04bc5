package io.flotilla.api.service;

import com.google.protobuf.ByteString;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.common.Keys;
import io.flotilla.common.Ranges;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.MergeCommitOp;
import io.flotilla.proto.MergeFreezeOp;
import io.flotilla.proto.MergeUnfreezeOp;
import io.flotilla.proto.Query;
import io.flotilla.proto.QueryResult;
import io.flotilla.proto.RangeChange;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeStatus;
import io.flotilla.proto.Rejection;
import io.flotilla.proto.SplitOp;
import io.flotilla.proto.StatusQuery;
import io.flotilla.raft.NodeHost;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin operations on ranges that one node can drive to completion by itself: split,
 * merge of two colocated neighbours, and leader transfer. Each change is decided in the
 * ranges' own Raft logs, so a crash of this node at any point leaves every range whole; the
 * steps here only propose, wait and check.
 *
 * <p>Merge is two-phase: the right range is frozen through its log (it refuses every command
 * from then on, so its data is final), every replica of it is seen frozen, and only then does
 * the left range absorb its span through the left log. If the left range refuses, the right is
 * unfrozen; if this node dies in between, calling merge again finishes the job.
 */
public final class RangeOperations {
  private static final Logger LOG = LoggerFactory.getLogger(RangeOperations.class);
  /** New range ids: random below 2^53 (exact in JSON numbers), far above bootstrap ids. */
  private static final long MIN_NEW_ID = 1L << 20;
  private static final long MAX_NEW_ID = 1L << 53;
  private static final int ATTEMPTS = 4;
  private static final long POLL_MILLIS = 50;

  private final NodeHost host;
  private final ReplicaReader replicas;
  private final Clock clock;
  private final Executor blocking;
  private final long waitMillis;
  private final SecureRandom random = new SecureRandom();

  public RangeOperations(NodeHost host, ReplicaReader replicas, Clock clock, Executor blocking, long waitMillis) {
    this.host = host;
    this.replicas = replicas;
    this.clock = clock;
    this.blocking = blocking;
    this.waitMillis = waitMillis;
  }

  // ---- split ----------------------------------------------------------------------------

  /** Splits a range at {@code at}, or at its middle key when {@code at} is null. */
  public CompletableFuture<RangeChange> split(long rangeId, byte[] at) {
    return split(rangeId, at, 0);
  }

  private CompletableFuture<RangeChange> split(long rangeId, byte[] at, int attempt) {
    return leaderStatus(rangeId, at == null).thenCompose(status -> {
      RangeDescriptor range = status.getRange();
      byte[] key = at != null ? at : status.getMiddleKey().toByteArray();
      if (key.length == 0) {
        throw new FlotillaException(ErrorCode.UNPROCESSABLE, Ranges.describe(range)
            + " has fewer than two keys, so it has no middle: give the split key as \"at\"");
      }
      if (Keys.compare(key, range.getStart().toByteArray()) <= 0 || !Ranges.contains(range, key)) {
        throw new FlotillaException(ErrorCode.UNPROCESSABLE, "the split key lies outside "
            + Ranges.describe(range) + " or on its start");
      }
      long childId = MIN_NEW_ID + (long) (random.nextDouble() * (MAX_NEW_ID - MIN_NEW_ID));
      Command split = command(range).setSplit(SplitOp.newBuilder().setSplitKey(ByteString.copyFrom(key))
          .setNewRangeId(childId)).build();
      return host.client(range).write(split).thenCompose(result -> {
        if (isStale(result) && attempt + 1 < ATTEMPTS) {
          return split(rangeId, at, attempt + 1);
        }
        RangeChange change = changeOf(result, "split " + Ranges.describe(range));
        LOG.info("split {} into {} and {}", Ranges.describe(range), Ranges.describe(change.getRange()),
            Ranges.describe(change.getCreated()));
        return awaitLeader(change.getCreated()).thenApply(x -> change);
      });
    });
  }

  // ---- merge ----------------------------------------------------------------------------

  /** Merges {@code rightId} into its left neighbour {@code leftId}. */
  public CompletableFuture<RangeChange> merge(long leftId, long rightId) {
    if (leftId == rightId) {
      return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.INVALID_ARGUMENT,
          "left and right must be two different ranges"));
    }
    return merge(leftId, rightId, 0);
  }

  private CompletableFuture<RangeChange> merge(long leftId, long rightId, int attempt) {
    if (attempt >= ATTEMPTS) {
      return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.UNAVAILABLE,
          "ranges " + leftId + " and " + rightId + " kept changing during the merge; retry"));
    }
    CompletableFuture<RangeStatus> leftStatus = leaderStatus(leftId, false);
    CompletableFuture<RangeStatus> rightStatus = leaderStatus(rightId, false);
    return leftStatus.thenCombine(rightStatus, (l, r) -> {
      checkMergeable(l.getRange(), r.getRange());
      return new RangeStatus[] {l, r};
    }).thenCompose(pair -> {
      RangeDescriptor left = pair[0].getRange();
      RangeDescriptor right = pair[1].getRange();
      CompletableFuture<RangeStatus> frozen = right.getFrozenInto() == leftId
          ? CompletableFuture.completedFuture(pair[1])
          : freeze(right, leftId);
      return frozen.thenCompose(f -> f == null
          ? merge(leftId, rightId, attempt + 1) // routing went stale meanwhile
          : awaitFrozenEverywhere(f.getRange())
              .thenCompose(revision -> commit(left, f.getRange(), revision, attempt)));
    });
  }

  private static void checkMergeable(RangeDescriptor left, RangeDescriptor right) {
    if (left.getEnd().isEmpty() || !left.getEnd().equals(right.getStart())) {
      throw new FlotillaException(ErrorCode.UNPROCESSABLE, Ranges.describe(left) + " and "
          + Ranges.describe(right) + " are not adjacent: the left range must end where the right one starts");
    }
    if (right.getFrozenInto() != 0 && right.getFrozenInto() != left.getId()) {
      throw new FlotillaException(ErrorCode.UNPROCESSABLE, "range " + right.getId()
          + " is already being merged into range " + right.getFrozenInto());
    }
    if (left.getFrozenInto() != 0) {
      throw new FlotillaException(ErrorCode.UNPROCESSABLE, "range " + left.getId()
          + " is itself being merged into range " + left.getFrozenInto());
    }
    if (!new HashSet<>(left.getReplicasList()).equals(new HashSet<>(right.getReplicasList()))) {
      throw new FlotillaException(ErrorCode.UNPROCESSABLE, "ranges " + left.getId() + " and " + right.getId()
          + " have replicas on different nodes (" + left.getReplicasList() + " vs " + right.getReplicasList()
          + "): move replicas so they match first");
    }
  }

  /** Freezes the right range; completes with its frozen status, or null if the epoch moved on. */
  private CompletableFuture<RangeStatus> freeze(RangeDescriptor right, long leftId) {
    Command freeze = command(right).setMergeFreeze(MergeFreezeOp.newBuilder().setIntoRangeId(leftId)).build();
    return host.client(right).write(freeze).thenApply(result -> {
      if (isStale(result)) {
        return null;
      }
      RangeChange change = changeOf(result, "freeze range " + right.getId() + " for the merge");
      return RangeStatus.newBuilder().setRange(change.getRange())
          .setState(io.flotilla.proto.RangeState.newBuilder().setRevision(result.getRevision())).build();
    });
  }

  /**
   * Waits until every replica of the frozen range applied the freeze (its data is then final
   * on every node); completes with the range's final revision. Unfreezes it on timeout.
   */
  private CompletableFuture<Long> awaitFrozenEverywhere(RangeDescriptor frozen) {
    Query status = Query.newBuilder().setRangeId(frozen.getId()).setStatus(StatusQuery.getDefaultInstance()).build();
    long deadline = clock.millis() + waitMillis;
    return poll(() -> {
      List<CompletableFuture<QueryResult>> answers = frozen.getReplicasList().stream()
          .map(node -> replicas.query(node, status).exceptionally(e -> null)).toList();
      return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(x -> {
        long revision = 0;
        for (CompletableFuture<QueryResult> a : answers) {
          QueryResult r = a.join();
          if (r == null || !r.hasStatus() || r.getStatus().getRange().getFrozenInto() != frozen.getFrozenInto()) {
            return null;
          }
          revision = Math.max(revision, r.getStatus().getState().getRevision());
        }
        return revision;
      });
    }, deadline).thenCompose(revision -> {
      if (revision != null) {
        return CompletableFuture.completedFuture(revision);
      }
      return unfreeze(frozen).thenApply(x -> {
        throw new FlotillaException(ErrorCode.UNAVAILABLE, "not every replica of range " + frozen.getId()
            + " confirmed the freeze within " + waitMillis + " ms (one may be down or far behind); "
            + "the merge was called off and the range unfrozen");
      });
    });
  }

  private CompletableFuture<RangeChange> commit(RangeDescriptor left, RangeDescriptor frozenRight, long rightRevision,
      int attempt) {
    Command commit = command(left).setMergeCommit(MergeCommitOp.newBuilder().setRight(frozenRight)
        .setRightRevision(rightRevision)).build();
    return host.client(left).write(commit).thenCompose(result -> {
      if (isStale(result) && attempt + 1 < ATTEMPTS) {
        // The left range changed (a split or membership change): check again with its new span.
        return leaderStatus(left.getId(), false).thenCompose(l -> {
          try {
            checkMergeable(l.getRange(), frozenRight);
          } catch (FlotillaException e) {
            return unfreeze(frozenRight).thenApply(x -> {
              throw e;
            });
          }
          return commit(l.getRange(), frozenRight, rightRevision, attempt + 1);
        });
      }
      if (result.hasRejected()) {
        FlotillaException refused = rejection(result.getRejected(), "merge into range " + left.getId());
        return unfreeze(frozenRight).thenApply(x -> {
          throw refused;
        });
      }
      RangeChange change = result.getRangeChange();
      LOG.info("merged range {} into {}", frozenRight.getId(), Ranges.describe(change.getRange()));
      return CompletableFuture.completedFuture(change);
    });
  }

  /** Best effort: a failed unfreeze leaves the range frozen until the merge is called again. */
  private CompletableFuture<Void> unfreeze(RangeDescriptor frozen) {
    return leaderStatus(frozen.getId(), false).thenCompose(s -> host.client(s.getRange()).write(command(s.getRange())
            .setMergeUnfreeze(MergeUnfreezeOp.newBuilder().setIntoRangeId(frozen.getFrozenInto())).build()))
        .handle((result, error) -> {
          if (error != null || result.hasRejected()) {
            LOG.warn("could not unfreeze range {} after a failed merge ({}); merging again finishes the merge",
                frozen.getId(), error != null ? error.toString() : result.getRejected().getMessage());
          }
          return null;
        });
  }

  // ---- leader transfer --------------------------------------------------------------------

  /** Makes {@code to} the range's leader; completes with the leader's node id. */
  public CompletableFuture<String> transferLeader(long rangeId, String to) {
    if (!host.nodes().containsKey(to)) {
      return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.NOT_FOUND, "there is no node " + to));
    }
    return leaderStatus(rangeId, false).thenCompose(status -> {
      RangeDescriptor range = status.getRange();
      if (!range.getReplicasList().contains(to)) {
        throw new FlotillaException(ErrorCode.UNPROCESSABLE, "node " + to + " holds no replica of "
            + Ranges.describe(range) + " (replicas: " + range.getReplicasList() + ")");
      }
      return CompletableFuture.runAsync(() -> {
        try {
          host.client(range).transferLeader(to, waitMillis);
        } catch (java.io.IOException e) {
          throw new CompletionException(new FlotillaException(ErrorCode.UNAVAILABLE, e.getMessage() + "; retry"));
        }
      }, blocking).thenCompose(x -> poll(() -> leaderStatus(rangeId, false)
          .thenApply(s -> to.equals(host.leaderOf(s.getRange()).orElse(null)) ? to : null)
          .exceptionally(e -> null), clock.millis() + waitMillis))
          .thenApply(leader -> {
            if (leader == null) {
              throw new FlotillaException(ErrorCode.UNAVAILABLE, "range " + rangeId
                  + " accepted the transfer but " + to + " was not seen leading within " + waitMillis + " ms");
            }
            return leader;
          });
    });
  }

  // ---- helpers ----------------------------------------------------------------------------

  /** The range as its leader knows it now (a linearizable status read). */
  public CompletableFuture<RangeStatus> leaderStatus(long rangeId, boolean withMiddleKey) {
    RangeDescriptor known = host.routing().byId(rangeId).orElse(null);
    if (known == null) {
      return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.NOT_FOUND, "there is no range " + rangeId));
    }
    Query q = Query.newBuilder().setRangeId(rangeId).setStatus(StatusQuery.newBuilder().setWithMiddleKey(withMiddleKey))
        .build();
    return host.client(known).read(q).thenApply(r -> {
      if (!r.hasStatus()) {
        throw new FlotillaException(ErrorCode.UNAVAILABLE, "range " + rangeId + " did not report its status: "
            + (r.hasRejected() ? r.getRejected().getMessage() : "no answer") + "; retry");
      }
      host.routing().update(r.getStatus().getRange());
      return r.getStatus();
    });
  }

  private Command.Builder command(RangeDescriptor range) {
    return Command.newBuilder().setRangeId(range.getId()).setEpoch(range.getEpoch())
        .setProposedAtMillis(clock.millis());
  }

  private boolean isStale(CommandResult result) {
    if (result.hasRejected() && result.getRejected().getReason() == Rejection.Reason.EPOCH_MISMATCH) {
      if (result.getRejected().hasCurrent()) {
        host.routing().update(result.getRejected().getCurrent());
      }
      return true;
    }
    return false;
  }

  private static RangeChange changeOf(CommandResult result, String what) {
    if (result.hasRejected()) {
      throw rejection(result.getRejected(), what);
    }
    if (!result.hasRangeChange()) {
      throw new FlotillaException(ErrorCode.INTERNAL, "the " + what + " returned no range change");
    }
    return result.getRangeChange();
  }

  private static FlotillaException rejection(Rejection r, String what) {
    return switch (r.getReason()) {
      case UNPROCESSABLE -> new FlotillaException(ErrorCode.UNPROCESSABLE, "cannot " + what + ": " + r.getMessage());
      case RANGE_FROZEN -> new FlotillaException(ErrorCode.UNAVAILABLE, "cannot " + what + ": " + r.getMessage()
          + "; retry when the merge is done");
      case EPOCH_MISMATCH -> new FlotillaException(ErrorCode.UNAVAILABLE, "cannot " + what
          + ": the range kept changing meanwhile; retry");
      default -> KeyService.rejectionError(r);
    };
  }

  /** Waits (without blocking a thread) until this node's replica of a new range knows a leader. */
  private CompletableFuture<Void> awaitLeader(RangeDescriptor range) {
    if (!range.getReplicasList().contains(host.self().id())) {
      return CompletableFuture.completedFuture(null);
    }
    return poll(() -> CompletableFuture.completedFuture(
        host.division(range.getId()).map(d -> d.getLeaderId() != null ? Boolean.TRUE : null).orElse(null)),
        clock.millis() + waitMillis).thenApply(x -> null);
  }

  /** Calls {@code attempt} every {@link #POLL_MILLIS} until it yields non-null or the deadline passes (null). */
  private <T> CompletableFuture<T> poll(Supplier<CompletableFuture<T>> attempt, long deadline) {
    return attempt.get().thenCompose(v -> {
      if (v != null || clock.millis() >= deadline) {
        return CompletableFuture.completedFuture(v);
      }
      return CompletableFuture.supplyAsync(() -> null,
              CompletableFuture.delayedExecutor(POLL_MILLIS, TimeUnit.MILLISECONDS))
          .thenCompose(x -> poll(attempt, deadline));
    });
  }
}
