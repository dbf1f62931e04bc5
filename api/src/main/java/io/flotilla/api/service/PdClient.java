package io.flotilla.api.service;

import io.flotilla.client.RangeGroups;
import io.flotilla.common.ClusterNode;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.pd.PdGroups;
import io.flotilla.proto.PdCommand;
import io.flotilla.proto.PdMembers;
import io.flotilla.proto.PdState;
import io.flotilla.raft.NodeHost;
import io.flotilla.raft.RaftTuning;
import io.flotilla.statemachine.ColumnFamily;
import io.flotilla.statemachine.KvEngine;
import io.flotilla.statemachine.MetaKeys;
import io.flotilla.statemachine.Mutations;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.AlreadyExistsException;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Talks to the placement driver's Raft group from any node: proposals and linearizable reads;
 * and knows which nodes the group's members are.
 *
 * <p>The group starts on the first three founding members. The PD leader moves it off nodes
 * that are decommissioned or down ({@link #addMember}, {@link #removeMember}); every node learns
 * the new members from heartbeat replies ({@link #learn}), keeps them in its storage, and from
 * then on sends to them. A node whose member the PD leader no longer lists is told to leave
 * ({@link #leave}).
 */
public final class PdClient implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PdClient.class);
  private static final byte[] KNOWN = MetaKeys.node("pd-members");

  /** A Raft client of the group as of one membership. */
  private record Connection(List<String> ids, RaftGroup group, RaftClient client) {}

  private final NodeHost host;
  private final Object sendLock = new Object();
  private final Object leaving = new Object();
  private volatile PdMembers known;
  private volatile Connection connection;

  public PdClient(NodeHost host) throws IOException {
    this.host = host;
    byte[] stored = host.engine().get(ColumnFamily.META, KNOWN);
    // Until it learns otherwise: the first three founding members (a node that joined later
    // never changes the group by itself).
    this.known = stored != null ? PdMembers.parseFrom(stored) : PdMembers.newBuilder()
        .addAllIds(PdGroups.members(List.copyOf(host.nodes().keySet()).subList(0,
            Math.min(host.founders(), host.nodes().size())))).build();
    this.connection = connect(known.getIdsList());
  }

  /** Stores the PD's members as a node that joins the cluster learned them, before it starts. */
  public static void remember(KvEngine engine, PdMembers members) {
    if (members.getIdsCount() > 0) {
      engine.write(new Mutations().put(ColumnFamily.META, KNOWN, members.toByteArray()));
    }
  }

  private Connection connect(List<String> ids) {
    RaftGroup group = RaftGroup.valueOf(PdGroups.groupId(), peers(ids));
    return new Connection(List.copyOf(ids), group, newClient(group));
  }

  /** A Raft client of {@code group} with the node's settings (and its TLS identity, when on). */
  private RaftClient newClient(RaftGroup group) {
    RaftClient.Builder b = RaftClient.newBuilder().setRaftGroup(group).setProperties(RaftTuning.client(host.settings()))
        .setRetryPolicy(RaftTuning.retryPolicy(host.settings())).setClientId(ClientId.randomId());
    if (host.clientParameters() != null) {
      b.setParameters(host.clientParameters());
    }
    return b.build();
  }

  private List<RaftPeer> peers(List<String> ids) {
    return ids.stream().map(id -> host.nodes().get(id)).filter(Objects::nonNull).map(RangeGroups::peer).toList();
  }

  private RaftClient client() {
    return connection.client();
  }

  /** The PD group as this node knows it. */
  public RaftGroup group() {
    return connection.group();
  }

  /** The PD's members as this node knows them, with the index of the configuration that says so. */
  public PdMembers known() {
    return known;
  }

  public List<ClusterNode> members() {
    return known.getIdsList().stream().map(id -> host.nodes().get(id)).filter(Objects::nonNull).toList();
  }

  /** Whether this node is one of the PD's members, as it knows them. */
  public boolean isMember() {
    return known.getIdsList().contains(host.self().id());
  }

  /**
   * Takes {@code members} if it names a later configuration than the one this node knows:
   * remembers it across restarts and sends to those members from now on. Returns whether it did.
   */
  public boolean learn(PdMembers members) {
    Connection old;
    synchronized (sendLock) {
      if (members.getIdsCount() == 0 || members.getConfIndex() <= known.getConfIndex()) {
        return false;
      }
      try {
        host.engine().write(new Mutations().put(ColumnFamily.META, KNOWN, members.toByteArray()));
      } catch (RuntimeException e) {
        LOG.warn("node {}: could not remember the placement driver's members {}: {}", host.self().id(),
            members.getIdsList(), e.toString());
        return false;
      }
      PdMembers before = known;
      known = members;
      old = connection;
      if (old.ids().equals(members.getIdsList())) {
        return true;
      }
      connection = connect(members.getIdsList());
      LOG.info("node {}: the placement driver's members are now {} (were {})", host.self().id(),
          members.getIdsList(), before.getIdsList());
    }
    // Calls under way on the old client finish or time out on it first (its retries included).
    CompletableFuture.delayedExecutor(5, TimeUnit.MINUTES).execute(() -> {
      try {
        old.client().close();
      } catch (IOException e) {
        LOG.debug("closing a placement driver client: {}", e.toString());
      }
    });
    return true;
  }

  /**
   * The members as this node's own member of the group has them, when it leads the group and its
   * configuration is committed and settled; empty otherwise.
   */
  public Optional<PdMembers> committedHere() {
    if (!leadsLocally()) {
      return Optional.empty();
    }
    return host.settledConf(PdGroups.groupId()).map(conf -> PdMembers.newBuilder().setConfIndex(conf.getLogEntryIndex())
        .addAllIds(conf.getCurrentPeers().stream().map(p -> p.getId().toString()).sorted().toList()).build());
  }

  /** Whether this node hosts a member of the PD group (one that may no longer be in it). */
  public boolean hostsMember() {
    return host.confIndex(PdGroups.groupId()).isPresent();
  }

  /**
   * Leaves the PD group and deletes this node's copy of its log: the PD leader said the group
   * no longer lists this node (moved off while it ran, or while it was down). Only when the
   * members this node knows (the same reply's, once stored) do not list it either, so a node
   * whose storage kept an older list, which names it, stays. One leave at a time.
   */
  public void leave() throws IOException {
    synchronized (leaving) {
      OptionalLong local = host.confIndex(PdGroups.groupId());
      // A local configuration later than the members it knows may list this node again.
      if (local.isPresent() && local.getAsLong() <= known.getConfIndex() && known.getConfIndex() > 0 && !isMember()) {
        LOG.info("node {}: the placement driver's leader says this node is no longer a member (members {} as of "
            + "index {}); leaving its group", host.self().id(), known.getIdsList(), known.getConfIndex());
        host.leaveGroup(PdGroups.groupId());
      }
    }
  }

  /**
   * Adds {@code nodeId} to the PD group: creates an empty member on that node (it catches up from
   * the leader's log, or fetches the leader's state when the log was purged below what it needs),
   * then changes the group's configuration. Call on the
   * PD leader; blocking; safe to repeat.
   */
  public void addMember(String nodeId) throws IOException {
    RaftConfiguration current = settled();
    List<String> ids = idsOf(current);
    if (ids.contains(nodeId)) {
      return;
    }
    List<String> target = new ArrayList<>(ids);
    target.add(nodeId);
    RaftGroup group = RaftGroup.valueOf(PdGroups.groupId(), peers(target));
    try (RaftClient toNode = newClient(group)) {
      toNode.getGroupManagementApi(RaftPeerId.valueOf(nodeId)).add(group);
    } catch (AlreadyExistsException e) {
      LOG.info("placement driver: {} hosts a member of the group already", nodeId);
    }
    changeMembers(current, target);
  }

  /**
   * Removes {@code nodeId} from the PD group. On the PD leader; blocking; safe to repeat. When
   * the node to remove is this one, it hands the group's leadership to the first other member
   * that {@code usable} accepts instead and returns false: the new leader removes it (a leader
   * that removes itself goes on acting as leader for a while after the change commits).
   */
  public boolean removeMember(String nodeId, Predicate<String> usable) throws IOException {
    RaftConfiguration current = settled();
    List<String> ids = idsOf(current);
    if (!ids.contains(nodeId)) {
      return true;
    }
    List<String> target = ids.stream().filter(id -> !id.equals(nodeId)).toList();
    if (nodeId.equals(host.self().id())) {
      String successor = target.stream().filter(usable).findFirst().orElseThrow(() -> new IOException(
          "placement driver: no other member is up to hand its leadership to"));
      handOffLeadership(successor, host.settings().requestTimeout().toMillis());
      LOG.info("placement driver: handed its leadership to {}, which removes this node from the group", successor);
      return false;
    }
    changeMembers(current, target);
    return true;
  }

  private RaftConfiguration settled() throws IOException {
    if (!leadsLocally()) {
      throw new IOException("this node does not lead the placement driver");
    }
    return host.settledConf(PdGroups.groupId()).orElseThrow(() -> new IOException(
        "the placement driver's membership is changing"));
  }

  private static List<String> idsOf(RaftConfiguration conf) {
    return conf.getCurrentPeers().stream().map(p -> p.getId().toString()).sorted().toList();
  }

  /**
   * Changes the members from {@code current} to {@code target}, only if the group still has
   * {@code current} (a leader that lost its place, or a late retry, cannot undo a newer change).
   */
  private void changeMembers(RaftConfiguration current, List<String> target) throws IOException {
    RaftClientReply reply;
    try {
      reply = client().admin().setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
          .setServersInCurrentConf(List.copyOf(current.getCurrentPeers())).setServersInNewConf(peers(target))
          .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET).build());
    } catch (IOException e) {
      if (!reached(target)) {
        throw e;
      }
      reply = null;
    }
    // The Ratis client retries a call that timed out; when the first attempt went through, the
    // retry finds the group at the target and fails the compare. The change happened all the same.
    if (reply != null && !reply.isSuccess() && !reached(target)) {
      throw new IOException("placement driver: changing its members to " + target + " failed: " + reply.getException());
    }
    LOG.info("placement driver: members are now {}", target);
    // Learned at once here; the other nodes learn it from their next heartbeat replies.
    committedHere().ifPresent(this::learn);
  }

  /**
   * Whether this node's member of the group settles at {@code target}'s members within a few
   * seconds: the configuration committed and applied here, the previous one gone.
   */
  private boolean reached(List<String> target) {
    List<String> wanted = target.stream().sorted().toList();
    for (int i = 0; i < 30; i++) {
      Optional<RaftConfiguration> now = host.settledConf(PdGroups.groupId());
      if (now.isPresent()) {
        return idsOf(now.get()).equals(wanted);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return false;
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
      sent = client().async().send(Message.valueOf(UnsafeByteOperations.unsafeWrap(command.toByteArray())));
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
    return client().async().sendReadOnly(Message.EMPTY).handleAsync((reply, error) -> {
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

  /** Hands this node's leadership of the PD group to {@code successor}; blocking. */
  public void handOffLeadership(String successor, long timeoutMillis) throws IOException {
    RaftClientReply moved = client().admin().transferLeadership(RaftPeerId.valueOf(successor), timeoutMillis);
    if (!moved.isSuccess()) {
      throw new IOException("placement driver: handing its leadership to " + successor + " failed: "
          + moved.getException());
    }
  }

  /** The PD leader's node id, as this node knows it. */
  public Optional<String> leader() {
    Optional<String> local = host.division(PdGroups.groupId())
        .map(d -> d.getLeaderId() == null ? null : d.getLeaderId().toString());
    if (local.isPresent()) {
      return local;
    }
    return Optional.ofNullable(client().getLeaderId()).map(Object::toString);
  }

  @Override
  public void close() throws IOException {
    connection.client().close();
  }
}
