package io.flotilla.pd;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.common.AppliedCalls;
import io.flotilla.proto.NodeAddress;
import io.flotilla.proto.NodeStateChange;
import io.flotilla.proto.PdCommand;
import io.flotilla.proto.PdOperator;
import io.flotilla.proto.PdState;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The placement driver's replicated state: declared node states and operators (running, and
 * the most recent finished ones). Kept in memory and rebuilt from the PD log on restart; the
 * log only grows by a few entries per operator, so it is never snapshotted or purged, and a
 * member added to the group later replays it from the start.
 *
 * <p>Thread-safe: applies run on Ratis's updater thread, reads on any thread.
 */
public final class PdStateMachine extends BaseStateMachine {
  private static final Logger LOG = LoggerFactory.getLogger(PdStateMachine.class);
  private static final int KEEP_FINISHED = 500;
  /** The reply to a copy of a command whose first answer is gone: its client reports the outcome unknown. */
  public static final String ANSWER_GONE = "\u0000applied before; the answer is gone";

  private final Map<String, NodeStateChange> nodes = new LinkedHashMap<>();
  /** Every member by id: the configured ones, then those that joined through the PD log. */
  private final Map<String, NodeAddress> members = new LinkedHashMap<>();
  private final java.util.List<NodeAddress> joined = new java.util.ArrayList<>();
  private volatile Consumer<NodeAddress> onJoin = n -> { };

  /** A PD replica of a cluster created with {@code configured} members. */
  public PdStateMachine(java.util.List<NodeAddress> configured) {
    configured.forEach(n -> members.put(n.getId(), n));
  }

  /** Called (on the apply thread) for each node that joins, also when the log is replayed. */
  public void onJoin(Consumer<NodeAddress> listener) {
    this.onJoin = listener;
  }
  private final Map<String, PdOperator> running = new LinkedHashMap<>();
  private final Deque<PdOperator> finished = new ArrayDeque<>();

  /** Each PD client's last applied calls and replies; rebuilt with the rest when the log is replayed. */
  private final AppliedCalls calls = AppliedCalls.of(java.util.List.of());

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    var entry = trx.getLogEntry();
    AppliedCalls.Invocation call = new AppliedCalls.Invocation(
        com.google.protobuf.ByteString.copyFrom(entry.getStateMachineLogEntry().getClientId().toByteArray()),
        entry.getStateMachineLogEntry().getCallId());
    if (calls.isCopy(call)) {
      // A copy of a command applied before (see AppliedCalls): applying it again could undo a
      // later change, such as an operator's end or a node's new state.
      LOG.info("placement driver: entry {} repeats call {}, applied before; not applying it again",
          entry.getIndex(), call.callId());
      updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
      // The replies are rebuilt with the log on restart, so only a copy of a call more than
      // 128 commands old finds none; its client gave up on it long ago.
      Message first = calls.reply(call);
      return CompletableFuture.completedFuture(first != null ? first : Message.valueOf(ANSWER_GONE));
    }
    calls.record(call, entry.getIndex());
    String refusal = null;
    try {
      refusal = apply(PdCommand.parseFrom(entry.getStateMachineLogEntry().getLogData().toByteArray()));
    } catch (InvalidProtocolBufferException e) {
      LOG.error("placement driver: skipping malformed log entry {}", entry.getIndex(), e);
    }
    updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
    Message reply = refusal == null ? Message.EMPTY : Message.valueOf(refusal);
    calls.remember(call, reply);
    return CompletableFuture.completedFuture(reply);
  }

  /** Applies one command; returns why it was refused, or null. */
  String apply(PdCommand command) {
    if (command.hasJoin()) {
      NodeAddress node = command.getJoin();
      String refusal;
      synchronized (this) {
        refusal = join(node);
      }
      if (refusal == null) {
        onJoin.accept(node);
      }
      return refusal;
    }
    applyLocked(command);
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

  private synchronized void applyLocked(PdCommand command) {
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
  }

  /** The state as this replica has applied it. */
  public synchronized PdState state() {
    PdState.Builder b = PdState.newBuilder().addAllNodes(nodes.values());
    b.addAllOperators(running.values());
    b.addAllOperators(finished);
    b.addAllJoined(joined);
    return b.build();
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    return CompletableFuture.completedFuture(Message.valueOf(UnsafeByteOperations.unsafeWrap(state().toByteArray())));
  }
}
