package io.flotilla.api.service;

import com.google.protobuf.ByteString;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.common.Keys;
import io.flotilla.common.Ranges;
import io.flotilla.proto.ChecksumOp;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.MergeCallOffOp;
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
import java.util.concurrent.ConcurrentHashMap;
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
  /** How long a consistency check waits for every replica's checksum. */
  private static final long CHECK_WAIT_MILLIS = 30_000;

  private final NodeHost host;
  private final ReplicaReader replicas;
  private final Peers peers;
  private final Clock clock;
  private final Executor blocking;
  private final long waitMillis;
  private final java.util.Set<String> stopChangesOfNodesForTests = ConcurrentHashMap.newKeySet();
  private final int replication;
  private final SecureRandom random = new SecureRandom();

  private final RouteResolver resolver;

  public RangeOperations(NodeHost host, ReplicaReader replicas, Peers peers, RouteResolver resolver, Clock clock,
      Executor blocking, long waitMillis, int replication) {
    this.replication = replication;
    this.resolver = resolver;
    this.host = host;
    this.replicas = replicas;
    this.peers = peers;
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
      if (!new HashSet<>(left.getReplicasList()).equals(new HashSet<>(right.getReplicasList()))) {
        // Merging needs both ranges' replicas on the same nodes: move the right range's first
        // (thawing it if an earlier attempt froze it: a frozen range refuses the moves).
        CompletableFuture<Void> thawed = right.getFrozenInto() != 0 ? unfreeze(right)
            : CompletableFuture.completedFuture(null);
        return thawed.thenCompose(x -> leaderStatus(rightId, false))
            .thenCompose(s -> colocate(s.getRange(), left.getReplicasList()))
            .thenCompose(x -> merge(leftId, rightId, attempt + 1));
      }
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
  }

  /**
   * Moves the range's replicas onto {@code nodes}, one move at a time (each keeps the range
   * available): a replica on a node outside the set goes to a node of the set that lacks one.
   */
  private CompletableFuture<RangeDescriptor> colocate(RangeDescriptor range, List<String> nodes) {
    List<String> extra = range.getReplicasList().stream().filter(n -> !nodes.contains(n)).toList();
    List<String> missing = nodes.stream().filter(n -> !range.getReplicasList().contains(n)).toList();
    LOG.info("colocating {} with the replicas {} before merging: moving {} to {}", Ranges.describe(range), nodes,
        extra, missing);
    CompletableFuture<RangeDescriptor> done = CompletableFuture.completedFuture(range);
    for (int i = 0; i < Math.max(extra.size(), missing.size()); i++) {
      String from = i < extra.size() ? extra.get(i) : null;
      String to = i < missing.size() ? missing.get(i) : null;
      done = done.thenCompose(r -> from == null ? addReplicaTo(r.getId(), to)
          : to == null ? removeReplicaFrom(r.getId(), from) : move(r.getId(), from, to));
    }
    return done;
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
   * Waits until every replica of the frozen range applied this freeze (its data is then final
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
          // The freeze's own epoch, not only "frozen into the left range": a replica far behind
          // may still hold an earlier freeze of a merge that was called off, the writes the
          // range took after that thaw not yet applied.
          if (r == null || !r.hasStatus() || !r.getStatus().getRange().getEpoch().equals(frozen.getEpoch())
              || r.getStatus().getRange().getFrozenInto() != frozen.getFrozenInto()) {
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
        if (result.getRejected().getReason() == Rejection.Reason.MERGE_CALLED_OFF && attempt + 1 < ATTEMPTS) {
          // An earlier attempt gave this freeze up but could not thaw the range: thaw it and
          // merge afresh (a new freeze, with the writes taken since).
          return unfreeze(frozenRight).thenCompose(x -> merge(left.getId(), frozenRight.getId(), attempt + 1));
        }
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

  /**
   * Thaws a range that a merge froze and no coordinator finished (it died, or its thaw failed):
   * the merge is called off first, so a coordinator still under way cannot commit it after the
   * range takes writes again (it then thaws and merges afresh); if the merge had been committed,
   * nothing is thawed. Never fails: a range still frozen afterwards can be given up again.
   */
  public CompletableFuture<Void> giveUpMerge(RangeDescriptor frozen) {
    if (frozen.getFrozenInto() == 0) {
      return CompletableFuture.completedFuture(null);
    }
    return unfreeze(frozen);
  }

  /**
   * Gives a merge up: calls it off in the left range's log, then thaws the right range. Once the
   * call-off applied, no commit of this freeze applies (another coordinator's, still under way),
   * so the writes the thawed range takes cannot be left behind by a merge; if the left range
   * had committed it already, the merge happened and nothing is thawed. Best effort: a range
   * left frozen is thawed or merged when the merge is called again.
   */
  private CompletableFuture<Void> unfreeze(RangeDescriptor frozen) {
    return callOff(frozen, 0).thenCompose(mergedAlready -> {
      if (mergedAlready) {
        LOG.info("the merge of range {} into {} had been committed (by another coordinator); not thawing it",
            frozen.getId(), frozen.getFrozenInto());
        return CompletableFuture.completedFuture(null);
      }
      // Sent with the freeze's own epoch: if the range was thawed and frozen again meanwhile
      // (another attempt, perhaps about to commit), this stale thaw is refused. (Through the
      // client of the range as it is now: the frozen descriptor's members may be old.)
      return leaderStatus(frozen.getId(), false).thenCompose(s -> host.client(s.getRange()).write(command(frozen)
          .setMergeUnfreeze(MergeUnfreezeOp.newBuilder().setIntoRangeId(frozen.getFrozenInto())).build()))
          .thenAccept(result -> {
            if (result.hasRejected()) {
              throw new FlotillaException(ErrorCode.UNAVAILABLE, result.getRejected().getMessage());
            }
          });
    }).handle((x, error) -> {
      if (error != null) {
        LOG.warn("could not unfreeze range {} after a failed merge ({}); merging again finishes the merge",
            frozen.getId(), KeyService.unwrap(error).getMessage());
      }
      return null;
    });
  }

  /**
   * Whether the range {@code frozen} was to merge into is surely gone: another range now ends
   * where {@code frozen} starts, as that range's leader says (the left range was itself merged
   * away). "Not found" alone may
   * only mean that this node's routing does not know the range and its peers did not answer;
   * thawing then, without a call-off, could let a commit still under way land after the thaw.
   */
  private CompletableFuture<Boolean> leftRangeIsGone(RangeDescriptor frozen) {
    java.util.Optional<RangeDescriptor> neighbour = host.routing().all().stream()
        .filter(r -> r.getId() != frozen.getFrozenInto() && r.getEnd().equals(frozen.getStart())).findFirst();
    if (neighbour.isEmpty()) {
      return CompletableFuture.completedFuture(false);
    }
    // Asked of that range's leader: a routing entry may be a stale parent of the left range.
    return leaderStatus(neighbour.get().getId(), false).handle((status, e) -> e == null
        && status.getRange().getEnd().equals(frozen.getStart()));
  }

  /** Calls off the merge of {@code frozen} in its left range; true when the left range had committed it. */
  private CompletableFuture<Boolean> callOff(RangeDescriptor frozen, int attempt) {
    String what = "call off the merge of range " + frozen.getId() + " into range " + frozen.getFrozenInto();
    return leaderStatus(frozen.getFrozenInto(), false).handle((left, error) -> {
      if (error != null) {
        FlotillaException failed = KeyService.unwrap(error);
        if (failed.code() != ErrorCode.NOT_FOUND) {
          return CompletableFuture.<Boolean>failedFuture(failed);
        }
        // No left range to commit the merge any more: nothing to call off.
        return leftRangeIsGone(frozen).thenApply(gone -> {
          if (!gone) {
            throw failed;
          }
          return false;
        });
      }
      return host.client(left.getRange()).write(command(left.getRange())
          .setMergeCallOff(MergeCallOffOp.newBuilder().setRight(frozen)).build()).thenCompose(result -> {
            if (isStale(result) && attempt + 1 < ATTEMPTS) {
              return callOff(frozen, attempt + 1);
            }
            return CompletableFuture.completedFuture(changeOf(result, what).getMergedAlready());
          });
    }).thenCompose(f -> f);
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
      // A leader handing over to a dead node refuses writes until the handover times out.
      return peers.isUp(to).thenCompose(up -> {
        if (!up) {
          throw new FlotillaException(ErrorCode.UNPROCESSABLE, "node " + to + " does not answer: it cannot lead "
              + Ranges.describe(range));
        }
        return blocking(() -> host.client(range).transferLeader(to, waitMillis)).thenCompose(x -> poll(() ->
            leaderOn(rangeId, to).thenApply(leader -> to.equals(leader) ? to : null)
                .exceptionally(e -> null), clock.millis() + waitMillis))
            .thenApply(leader -> {
              if (leader == null) {
                throw new FlotillaException(ErrorCode.UNAVAILABLE, "range " + rangeId
                    + " accepted the transfer but " + to + " was not seen leading within " + waitMillis + " ms");
              }
              return leader;
            });
      });
    });
  }

  // ---- move ------------------------------------------------------------------------------

  /**
   * Moves the range's replica on {@code from} to {@code to}: seeds {@code to} with a snapshot,
   * adds it to the Raft group (it catches up on the log), records it in the descriptor, then
   * removes {@code from} the same way (handing leadership over first if it leads) and has it
   * drop its copy. The range keeps a quorum and serves throughout. Calling it again after a
   * failure continues from the step reached.
   */
  public CompletableFuture<RangeDescriptor> move(long rangeId, String from, String to) {
    if (from == null || to == null || from.isEmpty() || to.isEmpty() || from.equals(to)) {
      return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.INVALID_ARGUMENT,
          "\"from\" and \"to\" must name two different nodes"));
    }
    for (String node : List.of(from, to)) {
      if (!host.nodes().containsKey(node)) {
        return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.NOT_FOUND, "there is no node " + node));
      }
    }
    return leaderStatus(rangeId, false).thenCompose(status -> {
      RangeDescriptor range = status.getRange();
      boolean hasFrom = range.getReplicasList().contains(from);
      boolean hasTo = range.getReplicasList().contains(to);
      if (range.getFrozenInto() != 0) {
        throw new FlotillaException(ErrorCode.UNAVAILABLE, Ranges.describe(range) + " is being merged; retry after");
      }
      if (!hasFrom && hasTo) {
        return CompletableFuture.completedFuture(range); // done already (a retried move)
      }
      if (!hasFrom) {
        throw new FlotillaException(ErrorCode.UNPROCESSABLE, "node " + from + " holds no replica of "
            + Ranges.describe(range) + " (replicas: " + range.getReplicasList() + ")");
      }
      if (hasTo && range.getReplicasCount() <= replication) {
        throw new FlotillaException(ErrorCode.UNPROCESSABLE, "node " + to + " already holds a replica of "
            + Ranges.describe(range) + " (replicas: " + range.getReplicasList() + ")");
      }
      // With both and one replica too many, an earlier move stopped half-way: finish it.
      CompletableFuture<RangeDescriptor> withTo = hasTo ? CompletableFuture.completedFuture(range)
          : addReplica(range, to);
      return withTo.thenCompose(r -> removeReplica(r, from));
    });
  }

  /** Adds a replica of the range on {@code node} (done already when it is a replica). */
  public CompletableFuture<RangeDescriptor> addReplicaTo(long rangeId, String node) {
    return leaderStatus(rangeId, false).thenCompose(s -> s.getRange().getReplicasList().contains(node)
        ? CompletableFuture.completedFuture(s.getRange()) : addReplica(s.getRange(), node));
  }

  /** Removes the range's replica on {@code node} (done already when it is none). */
  public CompletableFuture<RangeDescriptor> removeReplicaFrom(long rangeId, String node) {
    return leaderStatus(rangeId, false).thenCompose(s -> s.getRange().getReplicasList().contains(node)
        ? removeReplica(s.getRange(), node) : CompletableFuture.completedFuture(s.getRange()));
  }

  private CompletableFuture<RangeDescriptor> addReplica(RangeDescriptor range, String to) {
    return addReplica(range, to, 0);
  }

  /**
   * Copies the range to {@code to}, adds it to the group, and records it once its copy is known
   * complete. A merge that commits between the copy and the record reaches the new replica
   * through the log without the absorbed range's data (that range had no replica there): then
   * the new replica is taken out and dropped, and copied again.
   */
  private CompletableFuture<RangeDescriptor> addReplica(RangeDescriptor range, String to, int copies) {
    List<String> members = new java.util.ArrayList<>(range.getReplicasList());
    members.add(to);
    String source = host.leaderOf(range).filter(range.getReplicasList()::contains).orElse(range.getReplicas(0));
    return peers.isUp(to).thenCompose(up -> {
      if (!up) {
        throw new FlotillaException(ErrorCode.UNPROCESSABLE, "node " + to + " is down: a replica cannot move there");
      }
      return peers.seed(to, range, members, source);
    }).thenCompose(x -> changeMembers(range, range.getReplicasList(), members))
        .thenCompose(x -> stoppedForTests(to, "the addition of " + to + " to range " + range.getId()))
        .thenCompose(x -> recordAddition(range.getId(), members, to, range.getEpoch().getConf(),
            clock.millis() + 4 * waitMillis))
        .thenCompose(r -> r != null ? CompletableFuture.completedFuture(r) : copyAgain(range.getId(), to, copies))
        .whenComplete((r, e) -> {
          if (e != null) {
            LOG.warn("adding a replica of range {} on {} failed: {}", range.getId(), to, e.toString());
          } else {
            LOG.info("added a replica of {} on {} (copied from {})", Ranges.describe(r), to, source);
          }
        });
  }

  private CompletableFuture<RangeDescriptor> removeReplica(RangeDescriptor range, String from) {
    List<String> members = range.getReplicasList().stream().filter(n -> !n.equals(from)).toList();
    if (members.isEmpty()) {
      return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.UNPROCESSABLE,
          "cannot remove the last replica of " + Ranges.describe(range)));
    }
    return leadershipAwayFrom(range, from, members.get(0))
        .thenCompose(x -> changeMembers(range, range.getReplicasList(), members))
        .thenCompose(x -> stoppedForTests(from, "the removal of " + from + " from range " + range.getId()))
        .thenCompose(x -> recordReplicas(range.getId(), members, range.getEpoch().getConf(), 0))
        .thenCompose(r -> dropAll(List.of(from), r).thenApply(x -> {
          LOG.info("removed the replica of {} on {}", Ranges.describe(r), from);
          return r;
        }));
  }

  /**
   * Hands the range's leadership to {@code to} when {@code from} leads it. Under load leadership
   * may move on its own meanwhile (the handover then answers "different leader"): what matters
   * is only that {@code from} no longer leads.
   */
  private CompletableFuture<Void> leadershipAwayFrom(RangeDescriptor range, String from, String to) {
    if (!from.equals(host.leaderOf(range).orElse(null))) {
      return CompletableFuture.completedFuture(null);
    }
    return blocking(() -> host.client(range).transferLeader(to, waitMillis))
        .exceptionallyCompose(e -> leaderStatus(range.getId(), false).thenAccept(now -> {
          if (from.equals(now.getLeader())) {
            throw e instanceof CompletionException ce ? ce : new CompletionException(e);
          }
        }));
  }

  /**
   * Changes the range's Raft members from exactly {@code current} to {@code next}, compare and
   * set: refused when the group has other members (a change by someone else, or one stopped
   * half-way, which {@link #repairMembership} mends). Done already when the group's settled
   * members are {@code next}: the Ratis client resends a change whose answer it lost, and the
   * resend then fails the comparison although the first one went through.
   */
  private CompletableFuture<Void> changeMembers(RangeDescriptor range, List<String> current, List<String> next) {
    return blocking(() -> host.client(range).changeMembers(raftPeers(current), raftPeers(next)))
        .exceptionallyCompose(e -> leaderStatus(range.getId(), false).thenAccept(now -> {
          if (!now.getRaftMembersList().equals(next.stream().sorted().toList())) {
            throw e instanceof CompletionException ce ? ce : new CompletionException(e);
          }
        }));
  }

  /**
   * Records a new replica in the range's descriptor once its copy is complete: it has applied the
   * range's current span and no merge reached it without its data (see
   * {@code RangeStateMachine.incomplete}). The record is refused if the span changes after that
   * check ({@code expected_version}), and then checked again. It is refused for good when the
   * range's replicas were changed by anyone else since {@code expectedConf}, the conf epoch read
   * before the group's members were changed (a membership repair, see {@link #repairMembership}).
   * Completes with null when the copy is incomplete.
   */
  private CompletableFuture<RangeDescriptor> recordAddition(long rangeId, List<String> members, String added,
      long expectedConf, long deadline) {
    Query status = Query.newBuilder().setRangeId(rangeId).setStatus(StatusQuery.getDefaultInstance()).build();
    return leaderStatus(rangeId, false).thenCompose(now -> {
      RangeDescriptor range = now.getRange();
      if (range.getReplicasList().equals(members)) {
        return CompletableFuture.completedFuture(range); // recorded already (a retried step)
      }
      if (range.getEpoch().getConf() != expectedConf) {
        throw replicasChanged(range, expectedConf);
      }
      return replicas.query(added, status).exceptionally(e -> null).thenCompose(answer -> {
        if (answer != null && answer.hasStatus() && answer.getStatus().getState().getIncomplete()) {
          return CompletableFuture.<RangeDescriptor>completedFuture(null);
        }
        long version = answer != null && answer.hasStatus() ? answer.getStatus().getRange().getEpoch().getVersion() : -1;
        if (version != range.getEpoch().getVersion()) {
          // The new replica has not applied the range's latest span change yet.
          return retryAddition(rangeId, members, added, expectedConf, deadline, "node " + added
              + " did not catch up on "
              + Ranges.describe(range) + " (its replica answered " + (answer == null ? "nothing" : answer) + ")");
        }
        Command change = command(range).setChangeReplicas(replicasChange(members, expectedConf)
            .setExpectedVersion(version)).build();
        return host.client(range).write(change).thenCompose(result -> {
          if (result.hasRejected()) {
            // A stale epoch, or the span changed after the check: check again.
            return retryAddition(rangeId, members, added, expectedConf, deadline, result.getRejected().getMessage());
          }
          return CompletableFuture.completedFuture(recorded(result, rangeId));
        });
      });
    });
  }

  private CompletableFuture<RangeDescriptor> retryAddition(long rangeId, List<String> members, String added,
      long expectedConf, long deadline, String why) {
    if (clock.millis() >= deadline) {
      return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.UNAVAILABLE, "could not record the new "
          + "replica of range " + rangeId + " on " + added + " within " + 4 * waitMillis + " ms: " + why + "; retry"));
    }
    return io.flotilla.client.Completions.after(POLL_MILLIS)
        .thenCompose(x -> recordAddition(rangeId, members, added, expectedConf, deadline));
  }

  /** Takes an incomplete new replica out of the group, has its node drop it, and copies the range again. */
  private CompletableFuture<RangeDescriptor> copyAgain(long rangeId, String to, int copies) {
    if (copies + 1 >= ATTEMPTS) {
      return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.UNAVAILABLE, "range " + rangeId
          + " merged while its new replica on " + to + " was being copied, " + (copies + 1) + " times; retry"));
    }
    LOG.warn("the new replica of range {} on {} missed data merged in while it was copied: copying it again",
        rangeId, to);
    return leaderStatus(rangeId, false).thenCompose(now -> {
      RangeDescriptor range = now.getRange();
      List<String> withCopy = new java.util.ArrayList<>(range.getReplicasList());
      withCopy.add(to);
      return changeMembers(range, withCopy, range.getReplicasList())
          .thenCompose(x -> peers.drop(to, range))
          .thenCompose(x -> addReplica(range, to, copies + 1));
    });
  }

  /** A record of the range's replicas, conditional on its conf epoch (whoever changes them reads it first). */
  private static io.flotilla.proto.ChangeReplicasOp.Builder replicasChange(List<String> replicas, long expectedConf) {
    return io.flotilla.proto.ChangeReplicasOp.newBuilder().addAllReplicas(replicas).setExpectedConf(expectedConf);
  }

  private static FlotillaException replicasChanged(RangeDescriptor range, long expectedConf) {
    return new FlotillaException(ErrorCode.UNAVAILABLE, "the replicas of " + Ranges.describe(range)
        + " were changed by someone else since conf epoch " + expectedConf + " (now "
        + Ranges.epochString(range.getEpoch()) + ", replicas " + range.getReplicasList() + "); retry");
  }

  /**
   * Brings a range's descriptor and its Raft group's voting members together again after a
   * replica change stopped between its two steps: its coordinator died or gave up after changing
   * the group and before recording the change. Called on the range's leader with the members it
   * {@code seen} settled; refused if they changed since.
   * <ul>
   *   <li>Members the descriptor does not list (an addition never recorded; the copy may even
   *       lack merged data) leave the group. First the descriptor's conf epoch moves on with the
   *       same replicas, so that the stalled coordinator's record (which names the old epoch) is
   *       refused from then on; then the group changes, compare-and-set from the members seen.
   *       When this node is such a member, it hands the leadership to a listed one instead, which
   *       repairs the range.
   *   <li>Replicas the descriptor lists that are no longer members (a removal never recorded)
   *       leave the descriptor, in one record conditional on the conf epoch read.
   * </ul>
   * The nodes of those replicas then drop their copies, unless they are members again by then.
   * Completes with the range as it is after; a range that has both kinds at once is refused (no
   * replica change leaves it so).
   */
  public CompletableFuture<RangeDescriptor> repairMembership(long rangeId, NodeHost.Members seen) {
    if (!host.settledMembers(rangeId).equals(java.util.Optional.of(seen))) {
      return CompletableFuture.failedFuture(new FlotillaException(ErrorCode.UNAVAILABLE, "the Raft members of range "
          + rangeId + " changed since they were seen as " + seen.ids() + ", or this node no longer leads it"));
    }
    List<String> members = seen.ids();
    return leaderStatus(rangeId, false).thenCompose(status -> {
      RangeDescriptor range = status.getRange();
      List<String> extra = members.stream().filter(n -> !range.getReplicasList().contains(n)).toList();
      List<String> missing = range.getReplicasList().stream().filter(n -> !members.contains(n)).toList();
      List<String> kept = range.getReplicasList().stream().filter(members::contains).toList();
      if (extra.isEmpty() && missing.isEmpty()) {
        return CompletableFuture.completedFuture(range);
      }
      if (kept.isEmpty() || (!extra.isEmpty() && !missing.isEmpty())) {
        throw new FlotillaException(ErrorCode.UNPROCESSABLE, Ranges.describe(range) + " lists "
            + range.getReplicasList() + " while its Raft group has " + members + "; not repaired automatically");
      }
      String self = host.self().id();
      if (extra.contains(self)) {
        // A member about to leave the group does not lead its removal: a listed one does.
        return leadershipAwayFrom(range, self, kept.get(0)).thenApply(x -> {
          throw new FlotillaException(ErrorCode.UNAVAILABLE, "node " + self + " is not among the replicas of "
              + Ranges.describe(range) + ": it handed the range's leadership to " + kept.get(0) + " to repair it");
        });
      }
      long conf = range.getEpoch().getConf();
      CompletableFuture<RangeDescriptor> repaired = missing.isEmpty()
          ? writeReplicas(range, range.getReplicasList(), conf)
              .thenCompose(fenced -> changeMembers(fenced, members, kept).thenApply(x -> fenced))
          : writeReplicas(range, kept, conf);
      List<String> gone = missing.isEmpty() ? extra : missing;
      return repaired.thenCompose(r -> {
        // Dropped only while still out of the group as this leader holds it: a replica change
        // started since may have added one back.
        List<String> now = host.settledMembers(rangeId).map(NodeHost.Members::ids).orElse(null);
        List<String> drop = now == null ? List.of() : gone.stream().filter(n -> !now.contains(n)).toList();
        if (drop.size() < gone.size()) {
          LOG.warn("range {}: not dropping the copies on {}: they are members again, or this node no longer "
              + "leads the range", rangeId, gone.stream().filter(n -> !drop.contains(n)).toList());
        }
        return dropAll(drop, r).thenApply(x -> {
          LOG.warn("repaired the membership of {}: its Raft group had {}, its descriptor {} (a replica change "
              + "stopped half-way); copies dropped on {}", Ranges.describe(r), members, range.getReplicasList(), drop);
          return r;
        });
      });
    });
  }

  /** Writes the replicas into the range's descriptor, conditional on its conf epoch; even when unchanged. */
  private CompletableFuture<RangeDescriptor> writeReplicas(RangeDescriptor range, List<String> replicas,
      long expectedConf) {
    Command change = command(range).setChangeReplicas(replicasChange(replicas, expectedConf)).build();
    return host.client(range).write(change).thenApply(result -> recorded(result, range.getId()));
  }

  /** The range as a replica record left it (routing learns it too); throws if the record was refused. */
  private RangeDescriptor recorded(CommandResult result, long rangeId) {
    RangeDescriptor changed = changeOf(result, "record the replicas of range " + rangeId).getRange();
    host.routing().update(changed);
    return changed;
  }

  private CompletableFuture<Void> dropAll(List<String> nodes, RangeDescriptor current) {
    return CompletableFuture.allOf(nodes.stream().map(n -> peers.drop(n, current).exceptionally(e -> {
      // The range is whole without it; the leftover copy is only disk space on that node.
      LOG.warn("node {} did not drop its copy of range {}: {}", n, current.getId(), e.toString());
      return null;
    })).toArray(CompletableFuture[]::new));
  }

  /** With the failpoint on for {@code node}, fails right after its Raft step: as if the coordinator died. */
  private CompletableFuture<Void> stoppedForTests(String node, String what) {
    return stopChangesOfNodesForTests.contains(node)
        ? CompletableFuture.failedFuture(new FlotillaException(ErrorCode.UNAVAILABLE,
            "failpoint " + STOP_AFTER_RAFT_CHANGE + node + ": " + what + " stopped after the Raft change"))
        : CompletableFuture.completedFuture(null);
  }

  /**
   * Failpoint, followed by a node id: adding a replica on that node, or removing its replica,
   * stops after changing the Raft group's members, before recording the change.
   */
  public static final String STOP_AFTER_RAFT_CHANGE = "stop-replica-changes-after-raft-step-for-tests=";

  /** Turns on the failpoint {@link #STOP_AFTER_RAFT_CHANGE} for {@code node}. */
  public void stopReplicaChangesAfterRaftStepForTests(String node) {
    stopChangesOfNodesForTests.add(node);
  }

  /**
   * Records the group's members in the range's descriptor (through its log), unless its replicas
   * were changed by anyone else since {@code expectedConf}.
   */
  private CompletableFuture<RangeDescriptor> recordReplicas(long rangeId, List<String> members, long expectedConf,
      int attempt) {
    return leaderStatus(rangeId, false).thenCompose(status -> {
      RangeDescriptor range = status.getRange();
      if (range.getReplicasList().equals(members)) {
        return CompletableFuture.completedFuture(range);
      }
      if (range.getEpoch().getConf() != expectedConf) {
        throw replicasChanged(range, expectedConf);
      }
      Command change = command(range).setChangeReplicas(replicasChange(members, expectedConf)).build();
      return host.client(range).write(change).thenCompose(result -> {
        if (isStale(result) && attempt + 1 < ATTEMPTS) {
          return recordReplicas(rangeId, members, expectedConf, attempt + 1);
        }
        return CompletableFuture.completedFuture(recorded(result, rangeId));
      });
    });
  }

  private List<org.apache.ratis.protocol.RaftPeer> raftPeers(List<String> members) {
    return members.stream().map(id -> io.flotilla.client.RangeGroups.peer(host.nodes().get(id))).toList();
  }

  /** A blocking call (a Ratis admin request) run on the admin executor, never on a request thread. */
  private CompletableFuture<Void> blocking(IoAction action) {
    return CompletableFuture.runAsync(() -> {
      try {
        action.run();
      } catch (java.io.IOException e) {
        throw new CompletionException(new FlotillaException(ErrorCode.UNAVAILABLE, e.getMessage() + "; retry"));
      }
    }, blocking);
  }

  @FunctionalInterface
  private interface IoAction {
    void run() throws java.io.IOException;
  }

  // ---- consistency checks ----------------------------------------------------------------

  /**
   * Checks that the range's replicas hold the same data: a checksum entry goes through the
   * range's log, every replica computes a checksum of its span as of that entry, and their
   * results are compared once all are ready (or after {@code CHECK_WAIT_MILLIS}).
   */
  public CompletableFuture<ConsistencyCheck> checkConsistency(long rangeId) {
    return checkConsistency(rangeId, 0);
  }

  private CompletableFuture<ConsistencyCheck> checkConsistency(long rangeId, int attempt) {
    return leaderStatus(rangeId, false).thenCompose(status -> {
      RangeDescriptor range = status.getRange();
      long checkId = random.nextLong() | 1; // never 0, which asks for no check
      Command check = command(range).setChecksum(ChecksumOp.newBuilder().setId(checkId)).build();
      return host.client(range).write(check).thenCompose(result -> {
        if (isStale(result) && attempt + 1 < ATTEMPTS) {
          return checkConsistency(rangeId, attempt + 1);
        }
        if (result.hasRejected()) {
          throw new FlotillaException(ErrorCode.UNAVAILABLE, Ranges.describe(range) + " refused the check: "
              + result.getRejected().getMessage() + "; retry");
        }
        // The replicas as of now, after the entry: a membership change meanwhile (which keeps
        // the epoch's version) does not leave a new replica unasked.
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CHECK_WAIT_MILLIS);
        return leaderStatus(rangeId, false).thenCompose(now -> collectChecksums(now.getRange(), checkId, deadline, 200));
      });
    });
  }

  private CompletableFuture<ConsistencyCheck> collectChecksums(RangeDescriptor range, long checkId, long deadline,
      long pauseMillis) {
    Query q = Query.newBuilder().setRangeId(range.getId()).setStatus(StatusQuery.newBuilder().setChecksumId(checkId))
        .build();
    List<CompletableFuture<ConsistencyCheck.Replica>> answers = range.getReplicasList().stream()
        .map(node -> replicas.query(node, q).handle((r, e) -> {
          if (e != null) {
            return new ConsistencyCheck.Replica(node, null, KeyService.unwrap(e).getMessage());
          }
          if (!r.hasStatus() || !r.getStatus().hasConsistency()) {
            return new ConsistencyCheck.Replica(node, null, r.hasRejected() ? r.getRejected().getMessage()
                : "no result: it has not applied the check (or caught up past it from a snapshot)");
          }
          return new ConsistencyCheck.Replica(node, r.getStatus().getConsistency(), null);
        })).toList();
    return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenCompose(x -> {
      ConsistencyCheck check = new ConsistencyCheck(range.getId(), checkId,
          answers.stream().map(CompletableFuture::join).toList());
      if (check.settled() || System.nanoTime() > deadline) {
        return CompletableFuture.completedFuture(check);
      }
      return io.flotilla.client.Completions.after(pauseMillis)
          .thenCompose(y -> collectChecksums(range, checkId, deadline, Math.min(2000, pauseMillis * 2)));
    });
  }

  // ---- helpers ----------------------------------------------------------------------------

  /** The range as its leader knows it now (a linearizable status read). */
  public CompletableFuture<RangeStatus> leaderStatus(long rangeId, boolean withMiddleKey) {
    return findRange(rangeId).thenCompose(found -> leaderStatus(found.orElseThrow(() ->
        new FlotillaException(ErrorCode.NOT_FOUND, "there is no range " + rangeId)), withMiddleKey));
  }

  private CompletableFuture<RangeStatus> leaderStatus(RangeDescriptor known, boolean withMiddleKey) {
    long rangeId = known.getId();
    Query q = Query.newBuilder().setRangeId(rangeId).setStatus(StatusQuery.newBuilder().setWithMiddleKey(withMiddleKey))
        .build();
    return readOrGone(known, q).thenApply(found -> {
      QueryResult r = found.orElseThrow(() -> new FlotillaException(ErrorCode.NOT_FOUND, "there is no range " + rangeId
          + " (it was merged into its left neighbour)"));
      if (!r.hasStatus()) {
        throw new FlotillaException(ErrorCode.UNAVAILABLE, "range " + rangeId + " did not report its status: "
            + (r.hasRejected() ? r.getRejected().getMessage() : "no answer") + "; retry");
      }
      host.routing().update(r.getStatus().getRange());
      return r.getStatus();
    });
  }

  /**
   * Every range this node knows, in key order. When they leave a gap (a split whose new right
   * half this node has not heard of yet), routing is refreshed from the peers a few times first,
   * so a listing does not show a key space with a hole in it when waiting briefly avoids that.
   */
  public CompletableFuture<List<RangeDescriptor>> allRanges() {
    return allRanges(0);
  }

  private CompletableFuture<List<RangeDescriptor>> allRanges(int attempt) {
    if (host.routing().isComplete() || attempt >= 5) {
      return CompletableFuture.completedFuture(host.routing().all());
    }
    return resolver.refresh().thenCompose(x -> host.routing().isComplete()
        ? CompletableFuture.completedFuture(host.routing().all())
        : io.flotilla.client.Completions.after(100L << attempt)
            .thenCompose(y -> allRanges(attempt + 1)));
  }

  /**
   * A linearizable read of the range; empty when the range no longer exists. When no replica
   * this node knows hosts it any more, routing is refreshed from the peers: a newer layout
   * without the range means it was merged away; a newer descriptor of it is read again.
   */
  public CompletableFuture<java.util.Optional<QueryResult>> readOrGone(RangeDescriptor range, Query query) {
    return host.client(range).read(query).handle((result, error) -> {
      if (error == null) {
        return CompletableFuture.completedFuture(java.util.Optional.of(result));
      }
      Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
      if (!(cause instanceof io.flotilla.client.RangeNotHostedException)) {
        return CompletableFuture.<java.util.Optional<QueryResult>>failedFuture(cause);
      }
      return resolver.refresh().thenCompose(x -> {
        RangeDescriptor now = host.routing().byId(range.getId()).orElse(null);
        if (now == null) {
          return CompletableFuture.completedFuture(java.util.Optional.<QueryResult>empty());
        }
        if (now.equals(range)) {
          return CompletableFuture.<java.util.Optional<QueryResult>>failedFuture(cause);
        }
        return host.client(now).read(query).thenApply(java.util.Optional::of);
      });
    }).thenCompose(f -> f);
  }

  /**
   * The range with this id as this node knows it; when it knows none (a range split off where
   * this node holds no replica), after asking its peers.
   */
  public CompletableFuture<java.util.Optional<RangeDescriptor>> findRange(long rangeId) {
    java.util.Optional<RangeDescriptor> known = host.routing().byId(rangeId);
    if (known.isPresent()) {
      return CompletableFuture.completedFuture(known);
    }
    return resolver.refresh().thenApply(x -> host.routing().byId(rangeId));
  }

  /** The range's leader as {@code node}'s own replica knows it (a read that replica serves). */
  private CompletableFuture<String> leaderOn(long rangeId, String node) {
    RangeDescriptor known = host.routing().byId(rangeId).orElseThrow(() ->
        new FlotillaException(ErrorCode.NOT_FOUND, "there is no range " + rangeId));
    Query q = Query.newBuilder().setRangeId(rangeId).setStatus(StatusQuery.getDefaultInstance()).build();
    return host.client(known).readOn(q, node).thenApply(r -> r.hasStatus() ? r.getStatus().getLeader() : null);
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
      case MERGE_CALLED_OFF -> new FlotillaException(ErrorCode.UNAVAILABLE, "cannot " + what + ": "
          + r.getMessage() + " by another attempt; the range is thawed, retry");
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
      return io.flotilla.client.Completions.after(POLL_MILLIS)
          .thenCompose(x -> poll(attempt, deadline));
    });
  }
}
