package io.flotilla.pd;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.proto.NodeStateChange;
import io.flotilla.proto.PdCommand;
import io.flotilla.proto.PdOperator;
import io.flotilla.proto.PdState;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The placement driver's replicated state: declared node states and operators (running, and
 * the most recent finished ones). Kept in memory and rebuilt from the PD log on restart; the
 * log only grows by a few entries per operator, so it is never snapshotted or purged.
 *
 * <p>Thread-safe: applies run on Ratis's updater thread, reads on any thread.
 */
public final class PdStateMachine extends BaseStateMachine {
  private static final Logger LOG = LoggerFactory.getLogger(PdStateMachine.class);
  private static final int KEEP_FINISHED = 500;

  private final Map<String, NodeStateChange> nodes = new LinkedHashMap<>();
  private final Map<String, PdOperator> running = new LinkedHashMap<>();
  private final Deque<PdOperator> finished = new ArrayDeque<>();

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    var entry = trx.getLogEntry();
    try {
      apply(PdCommand.parseFrom(entry.getStateMachineLogEntry().getLogData().toByteArray()));
    } catch (InvalidProtocolBufferException e) {
      LOG.error("placement driver: skipping malformed log entry {}", entry.getIndex(), e);
    }
    updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
    return CompletableFuture.completedFuture(Message.EMPTY);
  }

  synchronized void apply(PdCommand command) {
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
    return b.build();
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    return CompletableFuture.completedFuture(Message.valueOf(UnsafeByteOperations.unsafeWrap(state().toByteArray())));
  }
}
