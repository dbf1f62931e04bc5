package io.flotilla.api.service;

import io.flotilla.client.RangeGroups;
import io.flotilla.common.ClusterNode;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.pd.PdGroups;
import io.flotilla.proto.PdCommand;
import io.flotilla.proto.PdState;
import io.flotilla.raft.NodeHost;
import io.flotilla.raft.RaftTuning;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/** Talks to the placement driver's Raft group from any node: proposals and linearizable reads. */
public final class PdClient implements AutoCloseable {
  private final NodeHost host;
  private final RaftGroup group;
  private final RaftClient client;
  private final Object sendLock = new Object();

  public PdClient(NodeHost host) {
    this.host = host;
    // Among the founding members only: a node that joined later never changes the PD group.
    List<String> members = PdGroups.members(List.copyOf(host.nodes().keySet()).subList(0,
        Math.min(host.founders(), host.nodes().size())));
    this.group = RaftGroup.valueOf(PdGroups.groupId(),
        members.stream().map(id -> RangeGroups.peer(host.nodes().get(id))).toList());
    RaftClient.Builder b = RaftClient.newBuilder().setRaftGroup(group).setProperties(RaftTuning.client(host.settings()))
        .setRetryPolicy(RaftTuning.retryPolicy(host.settings())).setClientId(ClientId.randomId());
    if (host.clientParameters() != null) {
      b.setParameters(host.clientParameters());
    }
    this.client = b.build();
  }

  /** The PD group as every node derives it from the configuration. */
  public RaftGroup group() {
    return group;
  }

  public List<ClusterNode> members() {
    return group.getPeers().stream().map(p -> host.nodes().get(p.getId().toString())).toList();
  }

  public CompletableFuture<Void> propose(PdCommand command) {
    return send(command).thenApply(refusal -> null);
  }

  /**
   * Records a node joining the cluster in the PD log. Completes with null when it is a member
   * (now or already), or with the reason the PD refused it (its id or addresses are taken).
   */
  public CompletableFuture<String> join(io.flotilla.proto.NodeAddress node) {
    return send(PdCommand.newBuilder().setJoin(node).build());
  }

  /** Proposes a command; completes with the state machine's refusal text, or null. */
  private CompletableFuture<String> send(PdCommand command) {
    CompletableFuture<org.apache.ratis.protocol.RaftClientReply> sent;
    synchronized (sendLock) {
      // One at a time, so calls reach the log in call id order (see AppliedCalls).
      sent = client.async().send(Message.valueOf(UnsafeByteOperations.unsafeWrap(command.toByteArray())));
    }
    return sent.handleAsync((reply, error) -> {
      Throwable failure = error != null ? error : reply.isSuccess() ? null : reply.getException();
      if (failure != null) {
        throw FlotillaException.outcomeUnknown("the placement driver update", failure);
      }
      String refusal = reply.getMessage() == null ? "" : reply.getMessage().getContent().toStringUtf8();
      if (refusal.equals(io.flotilla.pd.PdStateMachine.ANSWER_GONE)) {
        throw FlotillaException.outcomeUnknown("the placement driver update",
            new IllegalStateException("the placement driver applied an earlier copy and no longer has its answer"));
      }
      return refusal.isEmpty() ? null : refusal;
    }, io.flotilla.client.Completions.EXECUTOR);
  }

  /** The PD's state as its leader knows it (a linearizable read). */
  public CompletableFuture<PdState> state() {
    return client.async().sendReadOnly(Message.EMPTY).handleAsync((reply, error) -> {
      Throwable failure = error != null ? error : reply.isSuccess() ? null : reply.getException();
      if (failure != null) {
        throw new FlotillaException(ErrorCode.UNAVAILABLE, "the placement driver did not answer (" + failure
            + "); retry shortly");
      }
      try {
        return PdState.parseFrom(reply.getMessage().getContent().toByteArray());
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new FlotillaException(ErrorCode.INTERNAL, "the placement driver sent a malformed state", e);
      }
    }, io.flotilla.client.Completions.EXECUTOR);
  }

  /** True when this node's member of the PD group leads it. */
  public boolean leadsLocally() {
    return host.division(PdGroups.groupId()).map(DivisionInfo::isLeader).orElse(false);
  }

  /** The PD leader's node id, as this node knows it. */
  public Optional<String> leader() {
    Optional<String> local = host.division(PdGroups.groupId())
        .map(d -> d.getLeaderId() == null ? null : d.getLeaderId().toString());
    if (local.isPresent()) {
      return local;
    }
    return Optional.ofNullable(client.getLeaderId()).map(Object::toString);
  }

  @Override
  public void close() throws IOException {
    client.close();
  }
}
