package io.flotilla.pd;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.common.AppliedCalls;
import io.flotilla.proto.NodeAddress;
import io.flotilla.proto.NodeStateChange;
import io.flotilla.proto.PdCommand;
import io.flotilla.proto.PdOperator;
import io.flotilla.proto.PdSnapshot;
import io.flotilla.proto.PdState;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The placement driver's replicated state: declared node states, nodes that joined, and
 * operators (running, and the most recent finished ones). Kept in memory; a replica writes it
 * to a snapshot file every {@code raft.snapshotThreshold} entries, so Ratis purges the PD log
 * below it, and on a restart loads the snapshot and replays the log after it. A member too far
 * behind the leader's log (a new member, or one down for long) fetches the state from the leader
 * instead ({@link #notifyInstallSnapshotFromLeader}).
 *
 * <p>Thread-safe: applies and snapshots run on Ratis's updater thread, reads on any thread;
 * every change and its applied index happen under this object's lock, so a snapshot is the
 * state at exactly its index.
 */
public final class PdStateMachine extends BaseStateMachine {
  private static final Logger LOG = LoggerFactory.getLogger(PdStateMachine.class);
  private static final int KEEP_FINISHED = 500;
  /** The reply to a copy of a command whose first answer is gone: its client reports the outcome unknown. */
  public static final String ANSWER_GONE = "\u0000applied before; the answer is gone";

  private final List<NodeAddress> configured;
  private final PdSnapshotSource leaderSnapshots;
  private final Map<String, NodeStateChange> nodes = new LinkedHashMap<>();
  /** Every member by id: the configured ones, then those that joined through the PD log. */
  private final Map<String, NodeAddress> members = new LinkedHashMap<>();
  private final List<NodeAddress> joined = new ArrayList<>();
  private final Map<String, PdOperator> running = new LinkedHashMap<>();
  private final Deque<PdOperator> finished = new ArrayDeque<>();
  private volatile Consumer<NodeAddress> onJoin = n -> { };
  /**
   * Each PD client's last applied calls; restored from the snapshot with the rest. The replies
   * to them are memory only, so a copy of a call applied before the last restart gets
   * {@link #ANSWER_GONE}.
   */
  private AppliedCalls calls = AppliedCalls.of(List.of());
  private PdSnapshotFile file;
  /**
   * Guards the snapshot file and {@link #snapshotAt} together (taken before this object's lock
   * where both are held), so a snapshot of the local state never replaces one installed from
   * the leader that Ratis is about to reload from.
   */
  private final Object snapshotLock = new Object();
  private volatile TermIndex snapshotAt;

  /** A PD replica of a cluster created with {@code configured} members, without a snapshot source (tests). */
  public PdStateMachine(List<NodeAddress> configured) {
    this(configured, node -> {
      throw new IOException("this placement driver replica fetches no snapshots");
    });
  }

  /** {@code leaderSnapshots}: fetches the state of the member on a node, for installs from the leader. */
  public PdStateMachine(List<NodeAddress> configured, PdSnapshotSource leaderSnapshots) {
    this.configured = List.copyOf(configured);
    this.leaderSnapshots = leaderSnapshots;
    configured.forEach(n -> members.put(n.getId(), n));
  }

  /** Called (on the apply thread) for each node that joins, also when the log is replayed or a snapshot loaded. */
  public void onJoin(Consumer<NodeAddress> listener) {
    this.onJoin = listener;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage storage) throws IOException {
    super.initialize(server, groupId, storage);
    file = new PdSnapshotFile(storage.getStorageDir().getStateMachineDir().toPath());
    getLifeCycle().startAndTransition(this::loadSnapshot);
  }

  @Override
  public void pause() {
    // Only from running: a second install can finish before Ratis reloaded from the first.
    if (getLifeCycle().compareAndTransition(LifeCycle.State.RUNNING, LifeCycle.State.PAUSING)) {
      getLifeCycle().transition(LifeCycle.State.PAUSED);
    }
  }

  /** After a snapshot from the leader was installed: the state is the one it wrote. */
  @Override
  public void reinitialize() throws IOException {
    getLifeCycle().startAndTransition(this::loadSnapshot);
  }

  private void loadSnapshot() throws IOException {
    PdSnapshot s;
    TermIndex at;
    synchronized (snapshotLock) {
      Optional<PdSnapshot> saved = file.read();
      if (saved.isEmpty()) {
        return;
      }
      s = saved.get();
      at = TermIndex.valueOf(s.getAppliedTerm(), s.getAppliedIndex());
      synchronized (this) { // the state and its index change together for snapshot()
        restore(s);
        setLastAppliedTermIndex(at);
      }
      snapshotAt = at;
    }
    LOG.info("placement driver: loaded its snapshot at {} ({} operators, {} joined nodes)", at,
        s.getState().getOperatorsCount(), s.getState().getJoinedCount());
    s.getState().getJoinedList().forEach(onJoin);
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    var entry = trx.getLogEntry();
    AppliedCalls.Invocation call = new AppliedCalls.Invocation(
        ByteString.copyFrom(entry.getStateMachineLogEntry().getClientId().toByteArray()),
        entry.getStateMachineLogEntry().getCallId());
    NodeAddress joinedNow = null;
    Message reply;
    synchronized (this) {
      if (calls.isCopy(call)) {
        // A copy of a command applied before (see AppliedCalls): applying it again could undo a
        // later change, such as an operator's end or a node's new state.
        LOG.info("placement driver: entry {} repeats call {}, applied before; not applying it again",
            entry.getIndex(), call.callId());
        updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        Message first = calls.reply(call);
        return CompletableFuture.completedFuture(first != null ? first : Message.valueOf(ANSWER_GONE));
      }
      calls.record(call, entry.getIndex());
      String refusal = null;
      try {
        PdCommand command = PdCommand.parseFrom(entry.getStateMachineLogEntry().getLogData().toByteArray());
        refusal = applyLocked(command);
        if (refusal == null && command.hasJoin()) {
          joinedNow = command.getJoin();
        }
      } catch (InvalidProtocolBufferException e) {
        LOG.error("placement driver: skipping malformed log entry {}", entry.getIndex(), e);
      }
      updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
      reply = refusal == null ? Message.EMPTY : Message.valueOf(refusal);
      calls.remember(call, reply);
    }
    if (joinedNow != null) {
      onJoin.accept(joinedNow);
    }
    return CompletableFuture.completedFuture(reply);
  }

  /** Applies one command; returns why it was refused, or null. */
  String apply(PdCommand command) {
    String refusal;
    synchronized (this) {
      refusal = applyLocked(command);
    }
    if (refusal == null && command.hasJoin()) {
      onJoin.accept(command.getJoin());
    }
    return refusal;
  }

  private String applyLocked(PdCommand command) {
    if (command.hasJoin()) {
      return join(command.getJoin());
    }
    if (command.hasNodeState()) {
      nodes.put(command.getNodeState().getNode(), command.getNodeState());
    }
    if (command.hasOperator()) {
      PdOperator op = command.getOperator();
      if ("running".equals(op.getStatus())) {
        running.put(op.getId(), op);
      } else if (running.remove(op.getId()) != null) {
        finished.addFirst(op);
        while (finished.size() > KEEP_FINISHED) {
          finished.removeLast();
        }
      }
    }
    return null;
  }

  private String join(NodeAddress node) {
    NodeAddress known = members.get(node.getId());
    if (known != null) {
      return known.equals(node) ? null
          : "node id " + node.getId() + " is taken by the member at " + known.getHttp() + " (raft " + known.getRaft() + ")";
    }
    for (NodeAddress other : members.values()) {
      if (other.getHttp().equals(node.getHttp()) || other.getRaft().equals(node.getRaft())) {
        return "member " + other.getId() + " already uses " + other.getHttp() + " / " + other.getRaft();
      }
    }
    members.put(node.getId(), node);
    joined.add(node);
    return null;
  }

  /** The state as this replica has applied it. */
  public synchronized PdState state() {
    PdState.Builder b = PdState.newBuilder().addAllNodes(nodes.values());
    b.addAllOperators(running.values());
    b.addAllOperators(finished);
    b.addAllJoined(joined);
    return b.build();
  }

  /** The state with the applied entry it is at: what a snapshot holds. */
  public synchronized PdSnapshot snapshot() {
    TermIndex at = getLastAppliedTermIndex();
    PdSnapshot.Builder b = PdSnapshot.newBuilder().setState(state()).addAllCalls(calls.recorded());
    if (at != null) {
      b.setAppliedTerm(at.getTerm()).setAppliedIndex(at.getIndex());
    }
    return b.build();
  }

  /** Replaces the whole state with a snapshot's (the applied index is the caller's to set). */
  synchronized void restore(PdSnapshot s) {
    nodes.clear();
    members.clear();
    joined.clear();
    running.clear();
    finished.clear();
    configured.forEach(n -> members.put(n.getId(), n));
    s.getState().getNodesList().forEach(n -> nodes.put(n.getNode(), n));
    for (NodeAddress n : s.getState().getJoinedList()) {
      members.put(n.getId(), n);
      joined.add(n);
    }
    for (PdOperator op : s.getState().getOperatorsList()) {
      if ("running".equals(op.getStatus())) {
        running.put(op.getId(), op);
      } else {
        finished.addLast(op); // listed newest first
      }
    }
    calls = AppliedCalls.of(s.getCallsList());
  }

  @Override
  public long takeSnapshot() throws IOException {
    synchronized (snapshotLock) {
      PdSnapshot s = snapshot();
      if (s.getAppliedTerm() == 0) {
        return RaftLog.INVALID_LOG_INDEX; // nothing applied yet
      }
      TermIndex previous = snapshotAt;
      if (previous != null && previous.getIndex() > s.getAppliedIndex()) {
        return RaftLog.INVALID_LOG_INDEX; // installed from the leader; Ratis reloads from it next
      }
      if (previous != null && previous.getIndex() == s.getAppliedIndex()) {
        return previous.getIndex();
      }
      file.write(s);
      TermIndex at = TermIndex.valueOf(s.getAppliedTerm(), s.getAppliedIndex());
      snapshotAt = at;
      LOG.debug("placement driver: snapshot at {}", at);
      return at.getIndex();
    }
  }

  @Override
  public SnapshotInfo getLatestSnapshot() {
    TermIndex at = snapshotAt;
    return at == null ? null : new SnapshotInfo() {
      @Override
      public TermIndex getTermIndex() {
        return at;
      }

      @Override
      public List<FileInfo> getFiles() {
        return List.of(); // installs fetch the state from the leader instead (notifyInstallSnapshotFromLeader)
      }

      @Override
      public String toString() {
        return "placement driver snapshot " + at;
      }
    };
  }

  /**
   * The leader purged the entries this member needs: fetch the leader's state, write it as this
   * replica's snapshot, and let Ratis reload from it ({@link #reinitialize}). A copy older than
   * the leader's log start fails the install, and Ratis asks again.
   */
  @Override
  public CompletableFuture<TermIndex> notifyInstallSnapshotFromLeader(RoleInfoProto roleInfo, TermIndex firstInLog) {
    String leader = roleInfo.hasFollowerInfo() && roleInfo.getFollowerInfo().hasLeaderInfo()
        ? roleInfo.getFollowerInfo().getLeaderInfo().getId().getId().toStringUtf8() : null;
    LOG.info("placement driver: leader {} no longer has entries from {}; fetching its state", leader, firstInLog);
    CompletableFuture<TermIndex> installed = new CompletableFuture<>();
    Thread fetcher = new Thread(() -> {
      try {
        installed.complete(install(leader, firstInLog));
      } catch (IOException | RuntimeException e) {
        LOG.warn("placement driver: could not install the leader's state: {}", e.toString());
        installed.completeExceptionally(e);
      }
    }, "pd-snapshot-install");
    fetcher.setDaemon(true);
    fetcher.start();
    return installed;
  }

  private TermIndex install(String leader, TermIndex firstInLog) throws IOException {
    if (leader == null) {
      throw new IllegalStateException("placement driver: no leader known to fetch its state from");
    }
    PdSnapshot s = leaderSnapshots.fetch(leader);
    if (s.getAppliedTerm() == 0 || s.getAppliedIndex() + 1 < firstInLog.getIndex()) {
      throw new IllegalStateException("placement driver: " + leader + "'s state is at index " + s.getAppliedIndex()
          + ", before the leader's log start " + firstInLog + "; Ratis asks again");
    }
    TermIndex at = TermIndex.valueOf(s.getAppliedTerm(), s.getAppliedIndex());
    synchronized (snapshotLock) {
      file.write(s);
      snapshotAt = at; // Ratis reloads from it next; a snapshot of the older local state must not replace it
    }
    LOG.info("placement driver: installed {}'s state at {}", leader, at);
    return at;
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    return CompletableFuture.completedFuture(Message.valueOf(UnsafeByteOperations.unsafeWrap(state().toByteArray())));
  }
}
