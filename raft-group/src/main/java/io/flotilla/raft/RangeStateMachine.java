package io.flotilla.raft;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.common.AppliedCalls;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.Query;
import io.flotilla.proto.QueryResult;
import io.flotilla.proto.RangeChange;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeState;
import io.flotilla.proto.RangeStatus;
import io.flotilla.proto.Rejection;
import io.flotilla.proto.SnapshotHeader;
import io.flotilla.statemachine.ColumnFamily;
import io.flotilla.statemachine.KvEngine;
import io.flotilla.statemachine.MetaKeys;
import io.flotilla.statemachine.Mutations;
import io.flotilla.statemachine.StoredValue;
import io.flotilla.statemachine.RangeLogic;
import io.flotilla.statemachine.RangeQueries;
import io.flotilla.statemachine.RangeSnapshots;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Raft state machine of one range replica: applies committed commands to the node's shared
 * engine through {@link RangeLogic}, answers reads through {@link RangeQueries}, and catches up
 * from a peer's range snapshot when the leader has purged the entries it needs.
 *
 * <p>Invariants: the applied index and revision are written in the same engine batch as the
 * data they cover, so {@code persistedIndex} on disk always matches the data; entries at or
 * below it (replayed after a restart) are skipped. A snapshot is just that persisted index,
 * made durable by {@link KvEngine#sync()} before Ratis may purge the log below it.
 *
 * <p>Threads: apply and {@link #takeSnapshot()} run on this range's Ratis updater thread;
 * queries run on Ratis server threads and read volatile fields plus the engine; snapshot
 * installs run on {@code installExecutor}.
 */
public final class RangeStateMachine extends BaseStateMachine {
  private static final Logger LOG = LoggerFactory.getLogger(RangeStateMachine.class);

  private final io.flotilla.statemachine.WriteSample recentWrites = new io.flotilla.statemachine.WriteSample();
  /** The latest consistency checks' results on this replica, by check id (a few are kept). */
  private final java.util.Map<Long, io.flotilla.proto.ConsistencyChecksum> checksums =
      java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(java.util.Map.Entry<Long, io.flotilla.proto.ConsistencyChecksum> eldest) {
          return size() > 4;
        }
      });
  private final String nodeId;
  private final long rangeId;
  private final KvEngine engine;
  private final SnapshotSource snapshots;
  private final Executor installExecutor;
  private final RangeEvents events;

  /**
   * Guards the engine writes of applies, snapshots and snapshot installs of this range: an
   * install may complete while the updater thread still runs, and neither may overwrite the
   * other's applied state with an older one.
   */
  private final Object applyLock = new Object();
  private volatile RangeDescriptor range;
  private volatile long revision;
  private volatile long persistedIndex;
  private volatile TermIndex snapshot;
  /** Each client's last applied write calls (persisted with the applied index); under applyLock. */
  private AppliedCalls calls = AppliedCalls.of(List.of());
  /** The Raft client id under which this node proposes in-process ({@link LocalWrites}). */
  private final org.apache.ratis.protocol.ClientId localWriterId;
  private final com.google.protobuf.ByteString localWriter;
  /** The node's in-process writes as they enter a leader's log, by call id (see {@link LocalWrites}). */
  private final java.util.Map<Long, TransactionContext> localAppends;
  /** Held while the local writer takes a call id and submits it, so ids enter the log in order. */
  private final Object localWriteOrder = new Object();
  /** Callers waiting to learn what became of a local call (see {@link #fateOf}); under applyLock. */
  private final java.util.Map<Long, Awaited> awaitedLocalCalls = new java.util.HashMap<>();
  /**
   * The last index an installed range snapshot brought; under applyLock. The local log at or
   * below it may still hold entries that never committed, so it cannot tell a call's fate there.
   */
  private long installedThrough;
  /** Set once this node's replica left the group: the division lingers but never writes again. */
  private volatile boolean retired;
  /**
   * This replica applied a merge of data it never held: it was being copied in (a move's new
   * replica, not yet in the descriptor) when the merge committed, so the absorbed range's keys
   * are missing here. It answers no reads; the move drops it and copies the range again.
   * Persisted in the range's state record (node-local).
   */
  private volatile boolean incomplete;
  /** Generations of every replica on this node, so that no two replica instances share one. */
  private static final java.util.concurrent.atomic.AtomicLong TTL_GENERATIONS = new java.util.concurrent.atomic.AtomicLong();
  /**
   * Changes whenever keys with a TTL may have arrived in this replica's span: an applied write
   * of one, a snapshot install, a change of the span. It changes after the change is visible
   * (written, span assigned), so a sweeper that read it before its scan saw everything it covers.
   * The sweeper skips a range whose last full scan found no TTL key and started at the current value.
   */
  private volatile long ttlGeneration = TTL_GENERATIONS.incrementAndGet();

  /** When this replica last applied an entry or served a request ({@link Hibernation}). */
  private volatile long lastUseNanos = System.nanoTime();
  /** Set once Ratis closed this replica's division; a division opened again gets a new replica. */
  private volatile boolean closed;

  /**
   * Computes consistency checksums off the apply thread, for every replica of the node (each
   * reads a range's span from an engine snapshot taken when its entry was applied).
   */
  private final Executor checksumExecutor;

  RangeStateMachine(String nodeId, long rangeId, KvEngine engine, SnapshotSource snapshots,
      Executor installExecutor, RangeEvents events, org.apache.ratis.protocol.ClientId localWriter,
      java.util.Map<Long, TransactionContext> localAppends, Executor checksumExecutor) {
    this.checksumExecutor = checksumExecutor;
    this.localAppends = localAppends;
    this.localWriterId = localWriter;
    this.localWriter = com.google.protobuf.ByteString.copyFrom(localWriter.toByteString().toByteArray());
    this.nodeId = nodeId;
    this.rangeId = rangeId;
    this.engine = engine;
    this.snapshots = snapshots;
    this.installExecutor = installExecutor;
    this.events = events;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage storage) throws IOException {
    super.initialize(server, groupId, storage);
    getLifeCycle().startAndTransition(this::loadFromEngine);
  }

  /** Notes a use of the range: a write applied, a request served or about to be. */
  public void noteUse() {
    lastUseNanos = System.nanoTime();
  }

  /** How long since this replica last applied an entry or served a request. */
  long idleNanos() {
    return System.nanoTime() - lastUseNanos;
  }

  @Override
  public void close() throws IOException {
    closed = true;
    super.close();
  }

  /**
   * A replica of a range whose division is not open (it sleeps: {@link Hibernation}), loaded
   * from the engine so that it answers stale reads and routing; counts as closed, so the
   * division's opening gets a fresh replica.
   */
  static RangeStateMachine unopened(RangeStateMachine replica) throws IOException {
    replica.loadFromEngine();
    replica.closed = true;
    return replica;
  }

  /** True once Ratis closed this replica's division (it still answers stale reads). */
  boolean isClosed() {
    return closed;
  }

  @Override
  public void pause() {
    // Only from running: a second install can finish before Ratis reloaded from the first.
    if (getLifeCycle().compareAndTransition(LifeCycle.State.RUNNING, LifeCycle.State.PAUSING)) {
      getLifeCycle().transition(LifeCycle.State.PAUSED);
    }
  }

  @Override
  public void reinitialize() throws IOException {
    synchronized (applyLock) {
      loadFromEngine();
    }
    getLifeCycle().transition(LifeCycle.State.STARTING);
    getLifeCycle().transition(LifeCycle.State.RUNNING);
  }

  private void loadFromEngine() throws IOException {
    byte[] desc = engine.get(ColumnFamily.META, MetaKeys.descriptor(rangeId));
    byte[] st = engine.get(ColumnFamily.META, MetaKeys.state(rangeId));
    range = desc == null ? null : RangeDescriptor.parseFrom(desc);
    RangeState state = st == null ? RangeState.getDefaultInstance() : RangeState.parseFrom(st);
    revision = state.getRevision();
    persistedIndex = state.getAppliedIndex();
    calls = AppliedCalls.of(state.getClientsList());
    incomplete = state.getIncomplete();
    if (state.getAppliedTerm() > 0) { // a real log entry (index 0 is one too)
      TermIndex ti = TermIndex.valueOf(state.getAppliedTerm(), state.getAppliedIndex());
      setLastAppliedTermIndex(ti);
      snapshot = ti;
    }
    if (range != null) {
      events.descriptor(range);
    }
    ttlKeysMayHaveArrived(); // after an install the engine holds keys no apply saw
  }

  @Override
  public SnapshotInfo getLatestSnapshot() {
    TermIndex ti = snapshot;
    return ti == null ? null : new SnapshotInfo() {
      @Override
      public TermIndex getTermIndex() {
        return ti;
      }

      @Override
      public List<org.apache.ratis.server.storage.FileInfo> getFiles() {
        return List.of();
      }

      @Override
      public String toString() {
        return "range " + rangeId + " snapshot " + ti;
      }
    };
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    noteUse();
    synchronized (applyLock) {
      return applyLocked(trx);
    }
  }

  /**
   * Notes the calls of this node's in-process writer as they enter the log (Ratis calls this on
   * the leader, in log order, right before it appends a client's request, and never on a
   * follower): a call that failed without being noted here never reached any log and may be
   * proposed anew; one noted here has its log index in the context once appended.
   */
  @Override
  public TransactionContext preAppendTransaction(TransactionContext trx) throws IOException {
    org.apache.ratis.protocol.RaftClientRequest request = trx.getClientRequest();
    if (request != null && localWriterId.equals(request.getClientId())) {
      localAppends.put(request.getCallId(), trx);
    }
    return trx;
  }

  /** The lock {@link LocalWrites} holds while it takes a call id and submits it. */
  Object localWriteOrder() {
    return localWriteOrder;
  }

  /**
   * Calls of the local writer answered since its last submission to this range; the next one
   * lists them, so the leader drops them from its retry cache (as a Ratis client does).
   */
  private final java.util.Queue<Long> answeredLocalCalls = new java.util.concurrent.ConcurrentLinkedQueue<>();

  void answeredLocally(long callId) {
    answeredLocalCalls.add(callId);
  }

  /** The calls {@link #answeredLocally} noted since the last time this was asked. */
  List<Long> takeAnsweredLocalCalls() {
    List<Long> out = new java.util.ArrayList<>();
    for (Long id; (id = answeredLocalCalls.poll()) != null; ) {
      out.add(id);
    }
    return out;
  }

  /**
   * What became of a local call this replica appended and then lost the lead over: applied
   * (its result), dropped (another entry holds its place in the committed log, so nothing can
   * ever apply it), or unknown (the replica cannot tell any more).
   */
  record LocalFate(Message reply, boolean dropped) {
    static final LocalFate DROPPED = new LocalFate(null, true);
    static final LocalFate UNKNOWN = new LocalFate(null, false);
  }

  /** A caller waiting for the entry this replica appended at {@code at}, which carried its call. */
  private record Awaited(TermIndex at, CompletableFuture<LocalFate> fate) {}

  /**
   * The fate of the local writer's call {@code callId}, which this replica appended at
   * {@code at} as leader: decided once the replica applied that index, by whether the entry
   * committed there is the one it appended (same index and term). Until then the future stays
   * open; callers time out and {@link #stopAwaiting} it.
   */
  CompletableFuture<LocalFate> fateOf(long callId, TermIndex at) {
    synchronized (applyLock) {
      TermIndex last = getLastAppliedTermIndex();
      long applied = Math.max(persistedIndex, last == null ? 0 : last.getIndex());
      if (applied >= at.getIndex()) {
        return CompletableFuture.completedFuture(
            at.getIndex() <= installedThrough ? LocalFate.UNKNOWN : fateFromLog(callId, at));
      }
      Awaited waiting = new Awaited(at, new CompletableFuture<>());
      awaitedLocalCalls.put(callId, waiting);
      return waiting.fate();
    }
  }

  void stopAwaiting(long callId) {
    synchronized (applyLock) {
      awaitedLocalCalls.remove(callId);
    }
  }

  /**
   * A local call's fate from this replica's log, once it applied past the call's entry by
   * applying entries (so the log there is the committed one). Under applyLock.
   */
  private LocalFate fateFromLog(long callId, TermIndex at) {
    TermIndex committed;
    try {
      committed = division().map(d -> d.getRaftLog().getTermIndex(at.getIndex())).orElse(null);
    } catch (RuntimeException e) {
      committed = null;
    }
    if (committed == null) {
      return LocalFate.UNKNOWN; // purged below a snapshot, or the division is gone
    }
    if (!committed.equals(at)) {
      return LocalFate.DROPPED;
    }
    Message first = calls.reply(new AppliedCalls.Invocation(localWriter, callId));
    return new LocalFate(first != null ? first : duplicate(), false);
  }

  /**
   * Settles the waiters once the entry at {@code applied} is applied: the one that appended it
   * learns its result ({@code reply}), one that appended another entry at that index learns its
   * call was dropped. Under applyLock.
   */
  private void settleAwaited(TermIndex applied, Message reply) {
    if (awaitedLocalCalls.isEmpty()) {
      return;
    }
    for (java.util.Iterator<java.util.Map.Entry<Long, Awaited>> it = awaitedLocalCalls.entrySet().iterator(); it.hasNext(); ) {
      java.util.Map.Entry<Long, Awaited> e = it.next();
      TermIndex at = e.getValue().at();
      if (at.getIndex() == applied.getIndex()) {
        e.getValue().fate().complete(at.equals(applied) && reply != null ? new LocalFate(reply, false)
            : at.equals(applied) ? LocalFate.UNKNOWN : LocalFate.DROPPED);
        it.remove();
      } else if (at.getIndex() < applied.getIndex()) {
        // Passed by with a snapshot install: the local log cannot tell.
        e.getValue().fate().complete(LocalFate.UNKNOWN);
        it.remove();
      }
    }
  }

  /** A log entry the state machine never sees (a configuration change) was applied. */
  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    synchronized (applyLock) {
      super.notifyTermIndexUpdated(term, index);
      settleAwaited(TermIndex.valueOf(term, index), null);
    }
  }

  private CompletableFuture<Message> applyLocked(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    long index = entry.getIndex();
    if (index <= persistedIndex || retired) {
      // Replayed after a restart: the engine already holds this entry's effects.
      updateLastAppliedTermIndex(entry.getTerm(), index);
      return CompletableFuture.completedFuture(Message.EMPTY);
    }
    Command command;
    try {
      command = Command.parseFrom(entry.getStateMachineLogEntry().getLogData().toByteArray());
    } catch (InvalidProtocolBufferException e) {
      command = null;
    }
    AppliedCalls.Invocation call = invocation(entry, command);
    if (calls.isCopy(call)) {
      return applyCopy(entry, call);
    }
    CommandResult result;
    try {
      if (command == null) {
        throw new InvalidProtocolBufferException("the entry does not parse as a command");
      }
      RangeLogic.Applied applied = range == null
          ? rejectedNoDescriptor()
          : RangeLogic.apply(command, range, revision, engine);
      if (absorbsDataNeverHeld(command, applied.result())) {
        incomplete = true;
        if (knownLeader().equals(nodeId)) {
          events.leaderLacksData(rangeId); // leading already: no leader change will say so
        }
        LOG.warn("range {} node {}: entry {} merged range {} into this replica, which was being copied in and "
            + "never held that range's data; this replica answers no reads until the move copies it again",
            rangeId, nodeId, index, command.getMergeCommit().getRight().getId());
      }
      Mutations m = new Mutations().addAll(applied.mutations());
      boolean ttlKeys = writesTtlKeys(m);
      calls.record(call, index);
      m.put(ColumnFamily.META, MetaKeys.state(rangeId), stateAt(entry.getTerm(), index, applied.revision()));
      engine.write(m);
      if (ttlKeys) {
        ttlKeysMayHaveArrived();
      }
      revision = applied.revision();
      result = applied.result();
      recentWrites.record(command);
      if (command.hasChecksum() && !result.hasRejected()) {
        startChecksum(command.getChecksum().getId(), index, applied.revision());
      }
      if (result.hasRangeChange()) {
        announce(result.getRangeChange());
      }
    } catch (InvalidProtocolBufferException e) {
      // A malformed entry never changes state, but its index is still consumed.
      LOG.error("range {} node {}: skipping malformed log entry {}", rangeId, nodeId, index, e);
      writeAppliedOnly(entry.getTerm(), index);
      result = CommandResult.newBuilder().setRevision(revision).setRejected(Rejection.newBuilder()
          .setReason(Rejection.Reason.INVALID).setMessage("malformed command")).build();
    }
    persistedIndex = index;
    updateLastAppliedTermIndex(entry.getTerm(), index);
    Message reply = Message.valueOf(UnsafeByteOperations.unsafeWrap(result.toByteArray()));
    calls.remember(call, reply);
    settleAwaited(TermIndex.valueOf(entry.getTerm(), index), reply);
    return CompletableFuture.completedFuture(reply);
  }

  /**
   * An entry carrying a request this range applied before: it changes nothing but the applied
   * index. Answers with the first application's result while it is remembered, else with a
   * {@code DUPLICATE} rejection (the client reports the outcome as unknown).
   */
  private CompletableFuture<Message> applyCopy(LogEntryProto entry, AppliedCalls.Invocation call) {
    long index = entry.getIndex();
    LOG.info("range {} node {}: entry {} repeats request {} of writer {}, applied before; not applying it again",
        rangeId, nodeId, index, call.callId(), java.util.HexFormat.of().formatHex(call.client().toByteArray()));
    writeAppliedOnly(entry.getTerm(), index);
    persistedIndex = index;
    updateLastAppliedTermIndex(entry.getTerm(), index);
    Message first = calls.reply(call);
    Message reply = first != null ? first : duplicate();
    settleAwaited(TermIndex.valueOf(entry.getTerm(), index), reply);
    return CompletableFuture.completedFuture(reply);
  }

  /** The answer to a copy of a request whose first result is no longer remembered. */
  private Message duplicate() {
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(CommandResult.newBuilder().setRevision(revision)
        .setRejected(Rejection.newBuilder().setReason(Rejection.Reason.DUPLICATE)
            .setMessage("range " + rangeId + " applied this request before; its result is gone"))
        .build().toByteArray()));
  }

  /**
   * The request a log entry carries: its writer and write number when the command names them
   * (a range client's, the same on every send of the write, see RangeClient), else its Raft
   * client and call.
   */
  private static AppliedCalls.Invocation invocation(LogEntryProto entry, Command command) {
    if (command != null && !command.getWriter().isEmpty()) {
      return new AppliedCalls.Invocation(command.getWriter(), command.getWriteSeq());
    }
    return new AppliedCalls.Invocation(
        com.google.protobuf.ByteString.copyFrom(entry.getStateMachineLogEntry().getClientId().toByteArray()),
        entry.getStateMachineLogEntry().getCallId());
  }

  /** The range's state record after an entry: applied position, revision and client calls. */
  private byte[] stateAt(long term, long index, long rev) {
    return RangeState.newBuilder().setAppliedTerm(term).setAppliedIndex(index).setRevision(rev)
        .addAllClients(calls.recorded()).setIncomplete(incomplete).build().toByteArray();
  }

  /**
   * Whether {@code command} merged a range into this one on a replica the descriptor does not
   * list (a new replica copied in before the merge committed, added to the Raft group, not yet
   * recorded): the merged range had no replica on this node, so its keys are not here. Listed
   * replicas hold them: a merge commits only when both ranges have the same replicas.
   */
  private boolean absorbsDataNeverHeld(Command command, CommandResult result) {
    return command.hasMergeCommit() && result.hasRangeChange() && !result.getRangeChange().getRange().equals(range)
        && !range.getReplicasList().contains(nodeId);
  }

  private static boolean writesTtlKeys(Mutations m) {
    for (Mutations.Op op : m.ops()) {
      if (op.kind() == Mutations.Kind.PUT && op.cf() == ColumnFamily.DATA && StoredValue.peekExpiresAt(op.value()) != 0) {
        return true;
      }
    }
    return false;
  }

  private void announce(RangeChange change) {
    range = change.getRange();
    ttlKeysMayHaveArrived(); // a merge brings the absorbed range's keys
    events.descriptor(range);
    if (change.hasCreated()) {
      events.descriptor(change.getCreated());
      events.created(change.getCreated());
    }
    if (change.hasAbsorbed()) {
      events.absorbed(change.getAbsorbed());
    }
    LOG.info("range {} node {}: now {}{}{}", rangeId, nodeId, io.flotilla.common.Ranges.describe(range),
        change.hasCreated() ? ", created " + io.flotilla.common.Ranges.describe(change.getCreated()) : "",
        change.hasAbsorbed() ? ", absorbed range " + change.getAbsorbed().getId() : "");
  }

  private RangeLogic.Applied rejectedNoDescriptor() {
    return new RangeLogic.Applied(new Mutations(), CommandResult.newBuilder().setRevision(revision)
        .setRejected(Rejection.newBuilder().setReason(Rejection.Reason.EPOCH_MISMATCH)
            .setMessage("replica of range " + rangeId + " on " + nodeId + " has not received the range yet"))
        .build(), revision);
  }

  private void writeAppliedOnly(long term, long index) {
    engine.write(new Mutations().put(ColumnFamily.META, MetaKeys.state(rangeId), stateAt(term, index, revision)));
  }

  @Override
  public void notifyLeaderChanged(org.apache.ratis.protocol.RaftGroupMemberId member,
      org.apache.ratis.protocol.RaftPeerId newLeader) {
    if (newLeader != null) {
      events.leader(rangeId, newLeader.toString());
      if (incomplete && newLeader.toString().equals(nodeId)) {
        events.leaderLacksData(rangeId);
      }
    }
  }

  /**
   * A replica that lacks merged data ({@link #incomplete}) takes no writes while it leads: its
   * apply would answer them from the data it lacks. Refused before the append, as a leader
   * handing over is ({@code LeaderSteppingDownException}, which range clients resend); it hands
   * the leadership to a listed replica meanwhile.
   */
  @Override
  public TransactionContext startTransaction(org.apache.ratis.protocol.RaftClientRequest request) throws IOException {
    TransactionContext trx = super.startTransaction(request);
    if (incomplete) {
      trx.setException(new org.apache.ratis.protocol.exceptions.LeaderSteppingDownException("replica of range "
          + rangeId + " on " + nodeId + " lacks data merged in while it was copied; it hands its leadership over"));
      events.leaderLacksData(rangeId); // (again, if an earlier handover gave up)
    }
    return trx;
  }

  @Override
  public long takeSnapshot() {
    // Runs on the updater thread. Records the latest applied index (it may be a configuration
    // entry the engine has not seen) and makes it durable. Returns -1 ("no snapshot taken")
    // while an installed range snapshot is newer than what the updater has applied: Ratis
    // reloads the state machine from it next, and must not see an older index recorded here.
    synchronized (applyLock) {
      TermIndex last = getLastAppliedTermIndex();
      if (last == null || last.getIndex() <= 0 || last.getIndex() < persistedIndex || retired) {
        return -1;
      }
      if (last.getIndex() > persistedIndex) {
        writeAppliedOnly(last.getTerm(), last.getIndex());
        persistedIndex = last.getIndex();
      }
      engine.sync();
      snapshot = last;
      return last.getIndex();
    }
  }

  /** Whether this replica lacks data merged in while it was copied (see the field). */
  public boolean incomplete() {
    return incomplete;
  }

  /**
   * Records the last applied log entry with the data, even when it is a configuration entry
   * the engine never saw, so that a range snapshot served right after starts at a real entry
   * of the log (a follower installing it then takes the entries after it). Call it before
   * streaming a snapshot.
   */
  public void recordApplied() throws IOException {
    synchronized (applyLock) {
      TermIndex last = getLastAppliedTermIndex();
      if (last == null || last.getTerm() <= 0 || last.getIndex() < persistedIndex || retired) {
        return;
      }
      byte[] raw = engine.get(ColumnFamily.META, MetaKeys.state(rangeId));
      RangeState stored = raw == null ? RangeState.getDefaultInstance() : RangeState.parseFrom(raw);
      if (stored.getAppliedTerm() == 0 || last.getIndex() > stored.getAppliedIndex()) {
        writeAppliedOnly(last.getTerm(), last.getIndex());
        persistedIndex = last.getIndex();
      }
    }
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    try {
      Query query = Query.parseFrom(request.getContent().toByteArray());
      return CompletableFuture.completedFuture(reply(evaluate(query)));
    } catch (Exception e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public CompletableFuture<Message> queryStale(Message request, long minIndex) {
    // Ratis only routes a stale read here once its commit index reached minIndex; the
    // freshness Flotilla promises (min_revision) is checked by the caller on the result.
    return query(request);
  }

  private QueryResult evaluate(Query query) {
    long rev = revision; // read before the data: the data is at least as new as this revision
    RangeDescriptor r = range;
    if (r == null || retired) { // a retired replica's data is gone already
      return notHere(rev);
    }
    QueryResult result = evaluate(query, r, rev);
    // A replica retires before its data is cleared: if it retired while this read ran, the read
    // may have seen the span half cleared (a key missing at a revision that has it).
    return retired ? notHere(rev) : result;
  }

  private QueryResult notHere(long rev) {
    return QueryResult.newBuilder().setRevision(rev).setRejected(Rejection.newBuilder()
        .setReason(Rejection.Reason.EPOCH_MISMATCH)
        .setMessage("replica of range " + rangeId + " on " + nodeId
            + (retired ? " has left the range" : " has not received the range yet"))).build();
  }

  private QueryResult evaluate(Query query, RangeDescriptor r, long rev) {
    if (incomplete && !query.hasStatus()) {
      return QueryResult.newBuilder().setRevision(rev).setRejected(Rejection.newBuilder()
          .setReason(Rejection.Reason.EPOCH_MISMATCH)
          .setMessage("replica of range " + rangeId + " on " + nodeId + " lacks data merged in while it was copied"))
          .build();
    }
    if (r.getFrozenInto() != 0 && !query.hasStatus()) {
      // Once the left neighbour absorbs this span it takes writes there: a frozen replica
      // must not answer for it any more, even from a valid lease.
      return QueryResult.newBuilder().setRevision(rev).setRejected(Rejection.newBuilder()
          .setReason(Rejection.Reason.RANGE_FROZEN).setCurrent(r)
          .setMessage(io.flotilla.common.Ranges.describe(r) + " is being merged into range " + r.getFrozenInto()))
          .build();
    }
    if (query.hasStatus() && query.getStatus().getChecksumId() != 0) {
      // A consistency check's poll: its result only, no scan of the span.
      return QueryResult.newBuilder().setRevision(rev).setStatus(RangeStatus.newBuilder().setRange(r)
          .setServedBy(nodeId).mergeFrom(consistencyStatus(query.getStatus().getChecksumId()))).build();
    }
    if (query.hasStatus()) {
      TermIndex applied = getLastAppliedTermIndex();
      return QueryResult.newBuilder().setRevision(rev).setStatus(RangeStatus.newBuilder().setRange(r)
          .setServedBy(nodeId).setLeader(knownLeader()).addAllRaftMembers(raftMembers())
          .setState(RangeState.newBuilder().setRevision(rev).setIncomplete(incomplete)
              .setAppliedIndex(applied == null ? 0 : applied.getIndex())
              .setAppliedTerm(applied == null ? 0 : applied.getTerm()))
          .setApproximateBytes(engine.approximateSize(r.getStart().toByteArray(), r.getEnd().toByteArray()))
          .setApproximateKeys(RangeQueries.countKeys(engine, r))
          .setIntents(RangeQueries.countIntents(engine, r))
          .setChecksum(query.getStatus().getWithChecksum() ? RangeSnapshots.checksum(engine, r) : 0)
          .setMiddleKey(query.getStatus().getWithMiddleKey()
              ? RangeQueries.middleKey(engine, r).map(com.google.protobuf.ByteString::copyFrom)
                  .orElse(com.google.protobuf.ByteString.EMPTY)
              : com.google.protobuf.ByteString.EMPTY))
          .build();
    }
    return RangeQueries.evaluate(query, r, rev, engine);
  }

  /**
   * Starts the consistency checksum of check {@code id}, applied at {@code index}: of the span as
   * the engine holds it now, right after the entry's apply (under applyLock), so every replica
   * reads the same data whatever else its engine does meanwhile.
   */
  private void startChecksum(long id, long index, long atRevision) {
    RangeDescriptor r = range;
    io.flotilla.proto.ConsistencyChecksum.Builder pending = io.flotilla.proto.ConsistencyChecksum.newBuilder()
        .setId(id).setIndex(index).setRevision(atRevision);
    checksums.put(id, pending.build());
    KvEngine.Snapshot snap = engine.snapshot();
    try {
      checksumExecutor.execute(() -> {
        try (snap) {
          checksums.put(id, pending.setChecksum(RangeSnapshots.checksum(snap, r)).setReady(true).build());
        } catch (RuntimeException e) {
          LOG.warn("range {} node {}: consistency checksum {} failed: {}", rangeId, nodeId, id, e.toString());
          checksums.remove(id);
        }
      });
    } catch (RuntimeException rejected) {
      // Too many checks waiting on this node (each holds an engine snapshot), or it is stopping:
      // this replica has no result, and the check counts as incomplete.
      LOG.info("range {} node {}: consistency checksum {} not computed: {}", rangeId, nodeId, id, rejected.toString());
      snap.close();
      checksums.remove(id);
    }
  }

  private RangeStatus consistencyStatus(long checkId) {
    io.flotilla.proto.ConsistencyChecksum c = checkId == 0 ? null : checksums.get(checkId);
    return c == null ? RangeStatus.getDefaultInstance() : RangeStatus.newBuilder().setConsistency(c).build();
  }

  /** Answers a query from this replica's local state (a stale read), skipping any RPC. */
  public QueryResult queryLocal(Query query) {
    return evaluate(query);
  }

  private static Message reply(QueryResult result) {
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(result.toByteArray()));
  }

  @Override
  public CompletableFuture<TermIndex> notifyInstallSnapshotFromLeader(RoleInfoProto roleInfo, TermIndex firstInLog) {
    String leader = roleInfo.hasFollowerInfo() && roleInfo.getFollowerInfo().hasLeaderInfo()
        ? roleInfo.getFollowerInfo().getLeaderInfo().getId().getId().toStringUtf8() : null;
    LOG.info("range {} node {}: leader {} no longer has entries from {}; fetching a range snapshot",
        rangeId, nodeId, leader, firstInLog);
    return CompletableFuture.supplyAsync(() -> install(leader, firstInLog), installExecutor);
  }

  private TermIndex install(String leader, TermIndex firstInLog) {
    if (leader == null) {
      throw new IllegalStateException("range " + rangeId + ": no leader known to fetch a snapshot from");
    }
    try (InputStream in = snapshots.open(leader, rangeId)) {
      SnapshotHeader header;
      TermIndex installed;
      synchronized (applyLock) {
        if (retired) {
          throw new IllegalStateException("range " + rangeId + " left node " + nodeId + "; not installing a snapshot");
        }
        header = RangeSnapshots.install(engine, rangeId, in, events.otherReplicas(rangeId));
        engine.sync();
        if (header.getState().getAppliedTerm() == 0) {
          throw new IllegalStateException("the snapshot of range " + rangeId + " from " + leader
              + " starts at no log entry yet; Ratis asks again");
        }
        installed = TermIndex.valueOf(header.getState().getAppliedTerm(), header.getState().getAppliedIndex());
        // From here on entries up to the installed index are already in the engine; Ratis
        // then pauses the updater and calls reinitialize(), which reloads everything else.
        range = header.getRange();
        ttlKeysMayHaveArrived();
        revision = header.getState().getRevision();
        calls = AppliedCalls.of(header.getState().getClientsList());
        incomplete = header.getState().getIncomplete();
        persistedIndex = installed.getIndex();
        installedThrough = Math.max(installedThrough, installed.getIndex());
        settleAwaited(installed, null);
        if (installed.getIndex() + 1 < firstInLog.getIndex()) {
          // A consistent but still too old copy: keep it, and let Ratis ask again.
          throw new IllegalStateException("snapshot of range " + rangeId + " at index "
              + installed.getIndex() + " is older than the leader's log start " + firstInLog);
        }
        snapshot = installed;
      }
      LOG.info("range {} node {}: installed snapshot at {} ({} revision {})", rangeId, nodeId, installed,
          io.flotilla.common.Ranges.describe(header.getRange()), header.getState().getRevision());
      return installed;
    } catch (IOException e) {
      throw new IllegalStateException("range " + rangeId + ": snapshot fetch from " + leader + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * Marks this replica as gone from its group (its node dropped it): from now on it never writes
   * to the engine, so the node may delete the range's data while the Raft division still runs
   * for a moment to point late requests at the new leader.
   */
  void retire() {
    synchronized (applyLock) {
      retired = true;
    }
  }

  /** The descriptor this replica holds, or null before its first snapshot. */
  public RangeDescriptor descriptor() {
    return range;
  }

  /** The group's leader as this replica's division knows it; empty when unknown. */
  private String knownLeader() {
    return division().map(d -> d.getInfo().getLeaderId()).map(Object::toString).orElse("");
  }

  /**
   * The voting members of the Raft configuration this replica's division holds, once committed
   * and with no change under way; empty otherwise, or when unknown.
   */
  private List<String> raftMembers() {
    return division().flatMap(NodeHost::settledMembers).map(NodeHost.Members::ids).orElse(List.of());
  }

  /** This replica's Raft division; empty before the server is set or once the division is gone. */
  private java.util.Optional<RaftServer.Division> division() {
    RaftServer server = getServer().getNow(null);
    if (server == null) {
      return java.util.Optional.empty();
    }
    try {
      return java.util.Optional.of(server.getDivision(getGroupId()));
    } catch (IOException e) {
      return java.util.Optional.empty();
    }
  }

  /** The key that halves this replica's recent writes, if it saw enough of them (hot-range splits). */
  public java.util.Optional<byte[]> loadSplitKey() {
    RangeDescriptor r = range;
    return r == null ? java.util.Optional.empty() : recentWrites.median(r);
  }

  public long revision() {
    return revision;
  }

  /** See {@link #ttlGeneration}: unchanged means no key with a TTL arrived since it was read. */
  public long ttlGeneration() {
    return ttlGeneration;
  }

  private void ttlKeysMayHaveArrived() {
    ttlGeneration = TTL_GENERATIONS.incrementAndGet();
  }

  public long rangeId() {
    return rangeId;
  }
}
