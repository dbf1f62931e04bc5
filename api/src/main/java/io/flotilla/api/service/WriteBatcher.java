package io.flotilla.api.service;

import com.google.protobuf.ByteString;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.proto.BatchEntry;
import io.flotilla.proto.BatchOp;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.EntryResult;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.Rejection;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.function.LongSupplier;

/**
 * Groups a node's concurrent single-key writes to one range into one log entry.
 *
 * <p>Every log entry costs the range's leader an admission under its Raft lock and, unless
 * entries queue up behind it, an fsync on each replica; one entry per write makes a range's
 * write rate one over that cost, however many clients write. Here a put or delete goes out on
 * its own while fewer than {@link #IN_FLIGHT} entries of its range are under way from this node
 * (no wait when writes do not overlap); otherwise it waits for one to finish and leaves with the writes that
 * queued meanwhile, as one non-atomic batch command whose entries are applied or refused each
 * on its own. Each caller gets back a result shaped like its own command's.
 *
 * <p>A batch never holds two writes of one key (they share the command's revision, and a key's
 * version must grow with every write), nor commands routed with different range epochs (the
 * batch is proposed with its first command's epoch). A
 * rejection of the whole batch (a stale epoch, a frozen range) is every member's rejection:
 * nothing was applied, and each caller's own retry routes it again. One exception: a batch is
 * refused as a whole when one of its keys is locked by a transaction; only that key's writer
 * gets the refusal, the others go again at the head of the queue. A failure (an unknown
 * outcome) is every member's.
 *
 * <p>A range's queue is bounded ({@link BatchLanes}): a write it has no room for, or that
 * waited in it longer than its limit, is refused as {@code overloaded} (429, retry later) and
 * never proposed.
 */
final class WriteBatcher {
  /**
   * Entries of one range a node keeps under way before it starts batching. One, as etcd batches
   * proposals: with two, 16 clients over 3 nodes and 4 ranges rarely formed a batch at all.
   */
  static final int IN_FLIGHT = 1;
  /** The most writes one batch carries. */
  static final int MAX_OPS = 256;

  private final BiFunction<RangeDescriptor, Command, CompletableFuture<CommandResult>> send;
  private final LongSupplier clock;
  private final long maxBatchBytes;
  private final Lanes lanes;

  /**
   * @param send proposes one command to the range (the node's write: in-process or through the range client)
   * @param maxBatchBytes the most key and value bytes one batch carries (well under the
   *     largest log entry)
   * @param limits how many writes, of how many bytes, wait how long for a range (a write past
   *     them is refused as {@code overloaded}, nothing applied)
   */
  WriteBatcher(BiFunction<RangeDescriptor, Command, CompletableFuture<CommandResult>> send, LongSupplier clock,
      long maxBatchBytes, BatchLanes.Limits limits) {
    this.send = send;
    this.clock = clock;
    this.maxBatchBytes = maxBatchBytes;
    this.lanes = new Lanes(limits);
  }

  /** Proposes {@code command} to {@code range}, maybe together with other writes. */
  CompletableFuture<CommandResult> write(RangeDescriptor range, Command command) {
    if (!command.hasPut() && !command.hasDelete()) {
      return send.apply(range, command);
    }
    Pending p = new Pending(range, command, lanes.now(), new CompletableFuture<>());
    lanes.submit(range.getId(), p);
    return p.result();
  }

  /** See {@link BatchLanes#refusal}: what a write of {@code bytes} to the range would be refused with now. */
  FlotillaException refusal(long rangeId, long bytes) {
    return lanes.refusal(rangeId, bytes);
  }

  /** Writes refused for want of room in their range's queue, and dropped after waiting too long. */
  long refusedCount() {
    return lanes.refusedCount();
  }

  long expiredCount() {
    return lanes.expiredCount();
  }

  private record Pending(RangeDescriptor range, Command command, long queuedAtNanos,
      CompletableFuture<CommandResult> result) implements BatchLanes.Queued {
    ByteString key() {
      return command.hasPut() ? command.getPut().getKey() : command.getDelete().getKey();
    }

    @Override
    public long bytes() {
      return key().size() + (command.hasPut() ? command.getPut().getValue().size() : 0);
    }

    @Override
    public void fail(Throwable error) {
      result.completeExceptionally(error);
    }

    BatchEntry entry() {
      return command.hasPut() ? BatchEntry.newBuilder().setPut(command.getPut()).build()
          : BatchEntry.newBuilder().setDelete(command.getDelete()).build();
    }
  }

  /** Each range's writes from this node, by range id. */
  private final class Lanes extends BatchLanes<Long, Pending> {
    Lanes(BatchLanes.Limits limits) {
      super(IN_FLIGHT, limits);
    }

    @Override
    protected List<Pending> take(Long rangeId, ArrayDeque<Pending> waiting) {
      List<Pending> batch = new ArrayList<>();
      Set<ByteString> keys = new HashSet<>();
      long bytes = 0;
      while (!waiting.isEmpty() && batch.size() < MAX_OPS) {
        Pending p = waiting.peek();
        // The batch is proposed with its first command's epoch, so it only takes commands routed
        // with that same epoch (a write forwarded by a node with older routing is checked on its own).
        boolean fits = batch.isEmpty() || (p.range().getEpoch().equals(batch.get(0).range().getEpoch())
            && p.command().getEpoch().equals(batch.get(0).command().getEpoch())
            && !keys.contains(p.key()) && bytes + p.bytes() <= maxBatchBytes);
        if (!fits) {
          break;
        }
        batch.add(waiting.poll());
        keys.add(p.key());
        bytes += p.bytes();
      }
      return batch;
    }

    @Override
    protected CompletableFuture<Answered<Pending>> send(Long rangeId, List<Pending> batch) {
      CompletableFuture<CommandResult> sent;
      try {
        sent = batch.size() == 1 ? send.apply(batch.get(0).range(), batch.get(0).command())
            : send.apply(batch.get(0).range(), batchCommand(batch));
      } catch (RuntimeException e) {
        sent = CompletableFuture.failedFuture(e);
      }
      return sent.handle((result, error) -> {
        List<Pending> again = lockedOut(batch, result, error);
        return new Answered<>(again, () -> answer(batch, again, result, error));
      });
    }

    @Override
    protected FlotillaException full(Long rangeId, String why) {
      return new FlotillaException(ErrorCode.OVERLOADED, "range " + rangeId
          + " has no room for more writes on this node (" + why + "); nothing was applied");
    }

    @Override
    protected FlotillaException expired(Long rangeId, long waitedMillis) {
      return new FlotillaException(ErrorCode.OVERLOADED, "the write waited " + waitedMillis
          + " ms behind other writes of range " + rangeId + " and was not proposed; nothing was applied");
    }
  }

  private static void answer(List<Pending> batch, List<Pending> again, CommandResult result, Throwable error) {
    for (int i = 0; i < batch.size(); i++) {
      Pending p = batch.get(i);
      if (again.contains(p)) {
        continue;
      }
      try {
        if (error != null) {
          p.result().completeExceptionally(error);
        } else if (batch.size() == 1 || result.hasRejected()) {
          p.result().complete(result);
        } else {
          p.result().complete(memberResult(result, i));
        }
      } catch (RuntimeException e) {
        p.result().completeExceptionally(FlotillaException.outcomeUnknown("the write", e));
      }
    }
  }

  /**
   * The members of a batch refused because one key is locked by a transaction that should go
   * again without that key: the refusal is only the locked key's writer's (nothing was applied).
   */
  private static List<Pending> lockedOut(List<Pending> batch, CommandResult result, Throwable error) {
    if (error != null || batch.size() < 2 || !result.hasRejected()
        || result.getRejected().getReason() != Rejection.Reason.LOCKED) {
      return List.of();
    }
    ByteString locked = result.getRejected().getLock().getKey();
    List<Pending> others = batch.stream().filter(p -> !p.key().equals(locked)).toList();
    return others.size() == batch.size() ? List.of() : others;
  }

  private Command batchCommand(List<Pending> batch) {
    Command first = batch.get(0).command();
    BatchOp.Builder op = BatchOp.newBuilder().setAtomic(false);
    batch.forEach(p -> op.addEntries(p.entry()));
    return Command.newBuilder().setRangeId(first.getRangeId()).setEpoch(first.getEpoch())
        .setProposedAtMillis(clock.getAsLong()).setBatch(op).build();
  }

  /** Member {@code i}'s share of a batch's result, as its own command would have had it. */
  static CommandResult memberResult(CommandResult batch, int i) {
    EntryResult entry = batch.getBatch().getResults(i);
    CommandResult.Builder mine = CommandResult.newBuilder().setRevision(batch.getRevision());
    switch (entry.getOutcomeCase()) {
      case PUT -> mine.setPut(entry.getPut());
      case DELETE -> mine.setDelete(entry.getDelete());
      case ERROR -> mine.setRejected(entry.getError());
      default -> throw new IllegalStateException("batch entry " + i + " answered " + entry.getOutcomeCase());
    }
    return mine.build();
  }
}
