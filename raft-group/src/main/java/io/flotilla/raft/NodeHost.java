package io.flotilla.raft;

import io.flotilla.client.Completions;
import io.flotilla.client.RangeClient;
import io.flotilla.client.RangeGroups;
import io.flotilla.client.RoutingTable;
import io.flotilla.common.ClusterNode;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.statemachine.ColumnFamily;
import io.flotilla.statemachine.KvEngine;
import io.flotilla.statemachine.KvIterator;
import io.flotilla.statemachine.MetaKeys;
import io.flotilla.statemachine.Mutations;
import io.flotilla.statemachine.RangeSnapshots;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.Query;
import io.flotilla.proto.QueryResult;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's Raft server hosting every range replica of the node, plus the node's routing
 * table and its per-range clients.
 *
 * <p>Lifecycle: {@link #start()} opens the server (Ratis recovers every group directory it
 * finds), then, on a node that was never bootstrapped, writes the initial layout's descriptors
 * and creates its groups; on every start it re-creates any hosted group whose directory is
 * missing (a crash between writing descriptors and creating groups), so bootstrap is
 * idempotent. {@link #close()} stops the server and clients.
 */
public final class NodeHost implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeHost.class);
  private static final byte[] BOOTSTRAPPED = MetaKeys.node("bootstrapped");
  /** Every cluster member this node knows of, in the order they joined (a JoinReply). */
  private static final byte[] MEMBERS = MetaKeys.node("members");

  private final ClusterNode self;
  /** The nodes of the configuration, in its order: a new cluster's layout is derived from them. */
  private final List<ClusterNode> configured;
  private final int founders;
  /** Every known member, in order (configured ones, then joined ones); replaced, never mutated. */
  private volatile Map<String, ClusterNode> nodes;
  private final KvEngine engine;
  private final RaftSettings settings;
  private final SnapshotSource snapshots;
  private final RaftProperties clientProperties;
  /** The Ratis parameters of the node's clients (mutual TLS), or null (plaintext). */
  private final org.apache.ratis.conf.Parameters ratisParameters;
  private final RetryPolicy retryPolicy;
  private final RoutingTable routing = new RoutingTable();
  private final Map<Long, RangeStateMachine> replicas = new ConcurrentHashMap<>();
  private final Map<Long, RangeClient> clients = new ConcurrentHashMap<>();
  /** Raft divisions of replicas this node dropped, still running until their removal is due. */
  private final Map<Long, java.util.concurrent.ScheduledFuture<?>> retiring = new ConcurrentHashMap<>();
  private final java.util.concurrent.ScheduledExecutorService retirer =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "replica-retirer");
        t.setDaemon(true);
        return t;
      });
  /**
   * How to make the state machine of each group other than a range (the placement driver's), by
   * group id: a fresh one each time Ratis opens the group here (a removed group's is closed).
   */
  private final Map<RaftGroupId, java.util.function.Supplier<StateMachine>> otherMachines = new ConcurrentHashMap<>();
  private final List<RaftGroup> otherGroups = new java.util.concurrent.CopyOnWriteArrayList<>();
  /** Identifies this node's in-process read requests to its own server. */
  private final ClientId localClient = ClientId.randomId();
  private final AtomicLong localCallIds = new AtomicLong();
  /** Identifies the writes this node proposes in-process to ranges it leads ({@link LocalWrites}). */
  private final ClientId localWriter = ClientId.randomId();
  /** The in-process writer's calls as they enter a leader's log, noted by the replicas. */
  private final Map<Long, org.apache.ratis.statemachine.TransactionContext> localAppends = new ConcurrentHashMap<>();
  private final LocalWrites localWrites;
  private final ExecutorService installExecutor;
  /**
   * Computes the replicas' consistency checksums, one at a time; at most a few wait (each holds
   * an engine snapshot, which keeps RocksDB from dropping what it covers), the rest are refused.
   */
  private final java.util.concurrent.ThreadPoolExecutor checksumExecutor = new java.util.concurrent.ThreadPoolExecutor(
      1, 1, 0, java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.ArrayBlockingQueue<>(4), r -> {
        Thread t = new Thread(r, "consistency-checksums");
        t.setDaemon(true);
        return t;
      });
  /** Creates and removes range groups after splits and merges, one change at a time. */
  private final ExecutorService groupExecutor;
  /** Held while a range group is created, seeded or removed: one such change at a time. */
  private final Object groupChanges = new Object();
  private final RaftServer server;
  private final WriteForwarding forwarding;
  /** What a range's replica tells this node (descriptors, splits, merges, leaders). */
  private final RangeEvents events;
  /** Ranges whose leadership this node is handing over because its replica lacks merged data. */
  private final java.util.Set<Long> handingOver = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private volatile boolean closing;
  /** Closes idle ranges' divisions and opens them again on use. */
  private final Hibernation hibernation;

  public NodeHost(ClusterNode self, List<ClusterNode> cluster, KvEngine engine, File raftDir,
      RaftSettings settings, SnapshotSource snapshots) throws IOException {
    this(self, cluster, engine, raftDir, settings, snapshots, null);
  }

  /**
   * @param tls the node's TLS identity: the Raft port then speaks mutual TLS only (its server,
   *     the node's range and placement clients, and its forwarding to peers); null for plaintext
   */
  public NodeHost(ClusterNode self, List<ClusterNode> cluster, KvEngine engine, File raftDir,
      RaftSettings settings, SnapshotSource snapshots, io.flotilla.common.NodeTls tls) throws IOException {
    this.self = self;
    this.ratisParameters = tls == null ? null : RaftTuning.parameters(tls);
    // Keep the configured order: every node must derive the same initial layout from it
    // (Map.copyOf would iterate in a per-JVM random order).
    this.configured = List.copyOf(cluster);
    // The remembered members come first: their order (configured, then joined) is the cluster's
    // (the placement driver's group is its first three), whatever a joined node's file lists.
    Map<String, ClusterNode> byId = new LinkedHashMap<>();
    for (ClusterNode known : persistedMembers(engine)) {
      byId.put(known.id(), known);
    }
    cluster.forEach(n -> byId.putIfAbsent(n.id(), n));
    this.nodes = java.util.Collections.unmodifiableMap(byId);
    byte[] remembered = engine.get(ColumnFamily.META, MEMBERS);
    int persistedFounders = remembered == null ? 0 : io.flotilla.proto.JoinReply.parseFrom(remembered).getFounders();
    this.founders = persistedFounders > 0 ? persistedFounders : cluster.size();
    this.engine = engine;
    this.settings = settings;
    this.snapshots = snapshots;
    this.clientProperties = RaftTuning.client(settings);
    this.retryPolicy = RaftTuning.retryPolicy(settings);
    this.installExecutor = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "snapshot-install-" + self.id());
      t.setDaemon(true);
      return t;
    });
    this.groupExecutor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "range-groups-" + self.id());
      t.setDaemon(true);
      return t;
    });
    this.events = new RangeEvents() {
      @Override
      public void descriptor(RangeDescriptor range) {
        routing.update(range);
      }

      @Override
      public void created(RangeDescriptor range) {
        groupExecutor.execute(() -> ensureGroup(range));
      }

      @Override
      public void absorbed(RangeDescriptor range) {
        groupExecutor.execute(() -> dropGroup(range.getId()));
      }

      @Override
      public List<RangeDescriptor> otherReplicas(long rangeId) {
        return NodeHost.this.otherReplicas(rangeId);
      }

      @Override
      public void leaderLacksData(long rangeId) {
        if (closing || !handingOver.add(rangeId)) {
          return; // one handover at a time per range
        }
        Thread handover = new Thread(() -> {
          try {
            handOverIncomplete(rangeId);
          } finally {
            handingOver.remove(rangeId);
          }
        }, "handover-" + rangeId);
        handover.setDaemon(true);
        handover.start();
      }

      @Override
      public void leader(long rangeId, String nodeId) {
        // This node's client of the range goes to the new leader first, rather than trying the
        // one it knew (perhaps cut off) until its request times out.
        RangeClient c = clients.get(rangeId);
        if (c != null) {
          c.aimAt(nodeId);
        }
      }
    };
    String[] hostPort = self.raftAddress().split(":");
    RaftProperties props = RaftTuning.server(settings, raftDir, hostPort[0], Integer.parseInt(hostPort[1]));
    StateMachine.Registry registry = groupId -> {
      OptionalLong rangeId = RangeGroups.rangeId(groupId);
      if (rangeId.isEmpty()) {
        return awaitOtherMachine(groupId);
      }
      // A division opened again after its range slept gets a new replica: Ratis closed the old one.
      return replicas.compute(rangeId.getAsLong(), (id, old) -> old != null && !old.isClosed() ? old : newReplica(id));
    };
    this.forwarding = new WriteForwarding(id -> Optional.ofNullable(nodes.get(id)),
        (int) Math.min(Integer.MAX_VALUE, settings.maxEntryBytes() + (1L << 20)), tls);
    org.apache.ratis.conf.Parameters parameters = RaftTuning.parameters(tls);
    Hibernation[] sleeper = new Hibernation[1]; // the interceptor is built before the server it needs
    org.apache.ratis.grpc.GrpcConfigKeys.Server.setServicesCustomizer(parameters,
        forwarding.customizer(settings.rpcOnEventLoop(), new org.apache.ratis.thirdparty.io.grpc.ServerInterceptor() {
          @Override
          public <Q, A> org.apache.ratis.thirdparty.io.grpc.ServerCall.Listener<Q> interceptCall(
              org.apache.ratis.thirdparty.io.grpc.ServerCall<Q, A> call, org.apache.ratis.thirdparty.io.grpc.Metadata headers,
              org.apache.ratis.thirdparty.io.grpc.ServerCallHandler<Q, A> next) {
            return sleeper[0].interceptor().interceptCall(call, headers, next);
          }
        }));
    this.server = RaftServer.newBuilder()
        .setServerId(RangeGroups.peerId(self.id()))
        .setProperties(props)
        .setParameters(parameters)
        .setStateMachineRegistry(registry)
        .setOption(RaftStorage.StartupOption.RECOVER)
        .build();
    this.localWrites = new LocalWrites(server, localWriter, localAppends, settings.requestTimeout().toMillis());
    this.hibernation = new Hibernation(server, self.id(), replicas, this::groupToReopen,
        id -> retiring.containsKey(id) || holdsLocks(id) || membersDiffer(id), forwarding, settings.hibernateAfter(),
        raftDir);
    sleeper[0] = hibernation;
  }

  /**
   * Whether the range's span holds transaction locks: such a range stays awake, so that the
   * sweeper of its leader resolves them once their transaction is abandoned.
   */
  private boolean holdsLocks(long rangeId) {
    RangeStateMachine replica = replicas.get(rangeId);
    RangeDescriptor d = replica == null ? null : replica.descriptor();
    if (d == null) {
      return true;
    }
    try (KvIterator it = engine.iterate(ColumnFamily.LOCKS, d.getStart().toByteArray(), d.getEnd().toByteArray(), false)) {
      return it.valid();
    } catch (RuntimeException e) {
      return true;
    }
  }

  private RangeStateMachine newReplica(long rangeId) {
    return new RangeStateMachine(self.id(), rangeId, engine, snapshots, installExecutor, events, localWriter,
        localAppends, checksumExecutor);
  }

  private RaftGroup groupToReopen(long rangeId) {
    RangeStateMachine replica = replicas.get(rangeId);
    RangeDescriptor d = replica == null ? null : replica.descriptor();
    return d == null ? RaftGroup.valueOf(RangeGroups.groupId(rangeId)) : groupWithPriorities(d);
  }

  /** Notes a use of the range and opens its division here if it sleeps ({@link Hibernation}). */
  private void use(long rangeId) {
    RangeStateMachine replica = replicas.get(rangeId);
    if (replica != null) {
      replica.noteUse();
    }
    hibernation.wakeToUse(rangeId);
  }

  /**
   * Registers how to make the state machine of a group that is not a range (the placement
   * driver's), so that Ratis can open it here: from its directory at start, or when a peer adds
   * this node to it. Call right after construction.
   */
  public void registerGroup(RaftGroupId groupId, java.util.function.Supplier<StateMachine> machines) {
    synchronized (otherMachines) {
      otherMachines.put(groupId, machines);
      otherMachines.notifyAll();
    }
  }

  /**
   * Hosts a registered group that is not a range on this node: {@link #start} creates it with
   * {@code group}'s members unless its directory exists. Call before {@link #start}.
   */
  public void hostGroup(RaftGroup group) {
    otherGroups.add(group);
  }

  /**
   * The state machine of a non-range group (the placement driver's). Ratis opens the groups it
   * finds on disk on its own threads as soon as the server is built, which can be before the
   * application registered the group with {@link #registerGroup} right after: wait a little.
   */
  private StateMachine awaitOtherMachine(RaftGroupId groupId) {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    synchronized (otherMachines) {
      java.util.function.Supplier<StateMachine> other;
      while ((other = otherMachines.get(groupId)) == null) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IllegalArgumentException("group " + groupId + " is not a Flotilla group");
        }
        try {
          otherMachines.wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while opening group " + groupId, e);
        }
      }
      return other.get();
    }
  }

  /**
   * The configuration of this node's member of a non-range group once it is committed and
   * stable (no membership change under way), as far as this member applied its log; empty when
   * the node does not host the group or a change is under way.
   */
  public Optional<org.apache.ratis.server.RaftConfiguration> settledConf(RaftGroupId groupId) {
    try {
      RaftServer.Division d = server.getDivision(groupId);
      org.apache.ratis.server.RaftConfiguration conf = d.getRaftConf();
      boolean settled = conf.getPreviousPeers().isEmpty() && d.getInfo().getLastAppliedIndex() >= conf.getLogEntryIndex();
      return settled ? Optional.of(conf) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** The log index of the latest configuration of this node's member of the group, if it hosts one. */
  public java.util.OptionalLong confIndex(RaftGroupId groupId) {
    try {
      return java.util.OptionalLong.of(server.getDivision(groupId).getRaftConf().getLogEntryIndex());
    } catch (IOException e) {
      return java.util.OptionalLong.empty();
    }
  }

  /**
   * Stops hosting a non-range group and deletes its Raft directory (this node left the group),
   * so that it is neither opened again at the next start nor stands for election.
   */
  public void leaveGroup(RaftGroupId groupId) throws IOException {
    synchronized (groupChanges) {
      otherGroups.removeIf(g -> g.getGroupId().equals(groupId));
      if (toList(server.getGroupIds()).contains(groupId)) {
        org.apache.ratis.protocol.RaftClientReply reply = server.groupManagement(
            org.apache.ratis.protocol.GroupManagementRequest.newRemove(
                localClient, server.getId(), localCallIds.incrementAndGet(), groupId, true, false));
        if (!reply.isSuccess()) {
          throw new IOException("node " + self.id() + ": leaving group " + groupId + " failed: " + reply.getException());
        }
        LOG.info("node {}: left group {} and deleted its directory", self.id(), groupId);
      }
    }
  }

  /** Hands the leadership of a range whose replica here lacks merged data to a replica the range lists. */
  private void handOverIncomplete(long rangeId) {
    // A new leader is not ready for a transfer until its first entry commits: tried again for a while.
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    while (!closing && System.nanoTime() < deadline) {
      RangeStateMachine replica = replicas.get(rangeId);
      RangeDescriptor range = replica == null ? null : replica.descriptor();
      if (range == null || !replica.incomplete() || !leads(rangeId) || tryHandOver(range)) {
        return;
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private boolean tryHandOver(RangeDescriptor range) {
    long rangeId = range.getId();
    // A listed replica the leader heard from lately: one that is down would only cost a timeout.
    Optional<String> target = handoffTarget(RangeGroups.groupId(rangeId), settings.rpcTimeoutMin().toMillis(),
        range.getReplicasList()::contains);
    for (String to : target.stream().toList()) {
      try {
        // As an admin transfer does: the target gets the highest priority first (else Ratis refuses).
        client(range).transferLeader(to, settings.rpcTimeoutMax().toMillis() * 2);
        LOG.warn("node {}: handed the leadership of range {} to {}: this replica lacks data merged in while it was "
            + "copied", self.id(), rangeId, to);
        return true;
      } catch (IOException | RuntimeException e) {
        LOG.info("node {}: could not hand the leadership of range {} to {} yet: {}", self.id(), rangeId, to,
            e.toString());
      }
    }
    return false;
  }

  /** Starts the server and makes sure every range this node should host has its group. */
  public void start(List<String> initialSplits, int replication) throws IOException {
    loadDescriptors().forEach(routing::update);
    if (engine.get(ColumnFamily.META, BOOTSTRAPPED) == null) {
      List<RangeDescriptor> layout = InitialLayout.of(configured.stream().map(ClusterNode::id).toList(),
          initialSplits, replication);
      Mutations m = new Mutations();
      for (RangeDescriptor r : layout) {
        m.put(ColumnFamily.META, MetaKeys.descriptor(r.getId()), r.toByteArray());
      }
      m.put(ColumnFamily.META, BOOTSTRAPPED, "1".getBytes(StandardCharsets.US_ASCII));
      engine.write(m);
      engine.sync();
      layout.forEach(routing::update);
      LOG.info("node {}: bootstrapped a new cluster with {} ranges over {} nodes", self.id(), layout.size(), configured.size());
    }
    // Ranges whose groups Ratis did not open sleep until used (a new cluster's among them), or
    // are opened now when hibernation is off.
    Map<Long, RangeDescriptor> held = new java.util.HashMap<>();
    for (RangeDescriptor r : routing.all()) {
      if (r.getReplicasList().contains(self.id())) {
        held.put(r.getId(), r);
      }
    }
    hibernation.recover(held, id -> RangeStateMachine.unopened(newReplica(id)));
    // The Raft port opens only now: a message for a sleeping range that arrived before the range
    // was marked asleep would find no group, and a write's client would report its outcome as
    // unknown though nothing applied. Marked, the range wakes for it.
    server.start();
    hibernation.openIfOff();
    // A crash between applying a split and creating the child's group, or between a merge
    // and removing the absorbed group, leaves the groups out of step with the descriptors.
    for (RangeDescriptor r : routing.all()) {
      ensureGroup(r);
    }
    for (RaftGroup other : otherGroups) {
      if (!toList(server.getGroupIds()).contains(other.getGroupId())) {
        server.groupManagement(org.apache.ratis.protocol.GroupManagementRequest.newAdd(
            localClient, server.getId(), localCallIds.incrementAndGet(), other));
        LOG.info("node {}: created group {}", self.id(), other.getGroupId());
      }
    }
    for (RaftGroupId g : server.getGroupIds()) {
      OptionalLong id = RangeGroups.rangeId(g);
      if (id.isPresent() && !listsSelf(engine.get(ColumnFamily.META, MetaKeys.descriptor(id.getAsLong())))) {
        dropGroup(id.getAsLong());
      }
    }
    hibernation.start();
  }

  private boolean listsSelf(byte[] descriptor) throws IOException {
    return descriptor != null && RangeDescriptor.parseFrom(descriptor).getReplicasList().contains(self.id());
  }

  /**
   * Creates the local group of a range this node is a replica of, unless it exists. Only for
   * ranges whose data is already in the engine (bootstrap, or a split applied here).
   */
  private void ensureGroup(RangeDescriptor r) {
    synchronized (groupChanges) {
      ensureGroupLocked(r);
    }
  }

  private void ensureGroupLocked(RangeDescriptor r) {
    if (hibernation.isAsleep(r.getId())) {
      return; // opened on its first use (created then, if it never ran here)
    }
    try {
      if (retiring.containsKey(r.getId())) {
        removeDivision(r.getId());
      }
      if (r.getReplicasList().contains(self.id()) && !hosts(r.getId())) {
        server.groupManagement(org.apache.ratis.protocol.GroupManagementRequest.newAdd(
            localClient, server.getId(), localCallIds.incrementAndGet(), groupWithPriorities(r)));
        LOG.info("node {}: created the group of {}", self.id(), io.flotilla.common.Ranges.describe(r));
      }
    } catch (IOException | RuntimeException e) {
      LOG.error("node {}: could not create the group of range {}; retried at the next start", self.id(), r.getId(), e);
    }
  }

  /**
   * Removes the local group of a range that no longer exists here (absorbed by a merge) and its
   * Raft directory; the data span now belongs to the range that absorbed it.
   */
  private void dropGroup(long rangeId) {
    synchronized (groupChanges) {
      dropGroupLocked(rangeId);
    }
  }

  private void dropGroupLocked(long rangeId) {
    hibernation.wake(rangeId); // opened, so that it is removed with its directory
    try {
      java.util.concurrent.ScheduledFuture<?> due = retiring.remove(rangeId);
      if (due != null) {
        due.cancel(false);
      }
      if (hosts(rangeId)) {
        server.groupManagement(org.apache.ratis.protocol.GroupManagementRequest.newRemove(
            localClient, server.getId(), localCallIds.incrementAndGet(), RangeGroups.groupId(rangeId), true, false));
      }
      replicas.remove(rangeId);
      RangeClient c = clients.remove(rangeId);
      if (c != null) {
        c.closeLater(); // requests routed before the merge may still be finishing on it
      }
      if (engine.get(ColumnFamily.META, MetaKeys.descriptor(rangeId)) == null) {
        engine.write(new Mutations().delete(ColumnFamily.META, MetaKeys.state(rangeId)));
      }
      LOG.info("node {}: removed the group of range {}", self.id(), rangeId);
    } catch (IOException | RuntimeException e) {
      LOG.error("node {}: could not remove the group of range {}; retried at the next start", self.id(), rangeId, e);
    }
  }

  /**
   * Prepares this node to join a range's group as a new replica (the first step of a move):
   * copies the range's snapshot from {@code source}, then creates the local group with
   * {@code members} (the group as it will be once this node is added). The replica then
   * starts from the snapshot's index, so the leader only sends it the entries after that.
   * Blocking (it streams the range); idempotent. Refused while a local replica still covers
   * part of {@code range}'s span.
   */
  public void seedReplica(RangeDescriptor range, List<String> members, String source) throws IOException {
    synchronized (groupChanges) {
      seedReplicaLocked(range, members, source);
    }
  }

  private void seedReplicaLocked(RangeDescriptor range, List<String> members, String source) throws IOException {
    checkRunning();
    long rangeId = range.getId();
    hibernation.wake(rangeId);
    if (retiring.containsKey(rangeId)) {
      removeDivision(rangeId); // dropped a moment ago and wanted back: start afresh
    }
    if (hosts(rangeId)) {
      return;
    }
    // A local replica that still covers part of this span (a parent that has not applied the
    // split yet) would later replay older writes over the copied data: wait until it moved on.
    for (RangeStateMachine other : replicas.values()) {
      RangeDescriptor d = other.descriptor();
      if (d != null && d.getId() != rangeId
          && io.flotilla.common.Ranges.overlaps(d, range.getStart().toByteArray(), range.getEnd().toByteArray())) {
        throw new IllegalStateException("node " + self.id() + " still holds " + io.flotilla.common.Ranges.describe(d)
            + ", which overlaps " + io.flotilla.common.Ranges.describe(range) + "; not copying it yet");
      }
    }
    if (!members.contains(self.id())) {
      throw new IllegalArgumentException("node " + self.id() + " is not among the new members " + members);
    }
    try (java.io.InputStream in = snapshots.open(source, rangeId)) {
      RangeSnapshots.install(engine, rangeId, in, otherReplicas(rangeId));
    }
    engine.sync();
    RangeDescriptor seeded = RangeDescriptor.parseFrom(engine.get(ColumnFamily.META, MetaKeys.descriptor(rangeId)));
    // The group starts with the configuration the copy was taken under. When that does not list
    // this node (a replica being added), Ratis starts the division uninitialized: no election
    // timer until the leader's new configuration reaches it. Started as a member instead, it
    // would campaign with an empty log before the leader staged it, and the leader answers such
    // a stranger with "shut down", which closes the new division.
    RaftGroup group = RangeGroups.group(seeded, nodes);
    server.groupManagement(org.apache.ratis.protocol.GroupManagementRequest.newAdd(
        localClient, server.getId(), localCallIds.incrementAndGet(), group));
    LOG.info("node {}: seeded a replica of {} from {} and joined its group {}", self.id(),
        io.flotilla.common.Ranges.describe(seeded), source, members);
  }

  /**
   * Removes this node's replica of a range that moved away (the last step of a move): its
   * group, Raft directory, descriptor, state and data span. Idempotent.
   *
   * @param current the range's descriptor that no longer lists this node
   * @throws IllegalStateException if this node holds the range at a newer configuration that
   *     lists it (the replica moved back since {@code current}: a late request must not drop it)
   */
  public void removeReplica(long rangeId, RangeDescriptor current) throws IOException {
    synchronized (groupChanges) {
      removeReplicaLocked(rangeId, current);
    }
  }

  private void removeReplicaLocked(long rangeId, RangeDescriptor current) throws IOException {
    byte[] raw = engine.get(ColumnFamily.META, MetaKeys.descriptor(rangeId));
    RangeDescriptor held = raw == null ? null : RangeDescriptor.parseFrom(raw);
    RangeStateMachine running = replicas.get(rangeId);
    if (running != null && (held == null || running.descriptor().getEpoch().getConf() > held.getEpoch().getConf())) {
      held = running.descriptor();
    }
    if (held != null && held.getReplicasList().contains(self.id())
        && held.getEpoch().getConf() > current.getEpoch().getConf()) {
      throw new IllegalStateException("node " + self.id() + " is a replica of range " + rangeId + " at configuration "
          + held.getEpoch().getConf() + ", newer than the " + current.getEpoch().getConf()
          + " it was asked to drop the replica at; keeping it");
    }
    hibernation.wake(rangeId); // its division retires like any other, directory and all
    // The client stays: this node still routes requests to the range's new replicas.
    RangeStateMachine replica = replicas.remove(rangeId);
    if (replica != null) {
      replica.retire(); // never writes again (an install under way finishes first): its data can go now
    }
    Mutations m = new Mutations().delete(ColumnFamily.META, MetaKeys.descriptor(rangeId))
        .delete(ColumnFamily.META, MetaKeys.state(rangeId));
    if (raw != null) {
      RangeSnapshots.clearSpanExcept(m, RangeDescriptor.parseFrom(raw), otherReplicas(rangeId));
    }
    engine.write(m);
    routing.update(current);
    // The Raft division goes a little later. A client whose write reached this replica while it
    // led resends it here, with the same call id; a running division answers "not the leader"
    // and names the new one, where the retry cache recognises the write. A removed division
    // answers "no such group", which ends the write with an unknown outcome.
    if (hosts(rangeId) && !retiring.containsKey(rangeId)) {
      retiring.put(rangeId, retirer.schedule(() -> {
        synchronized (groupChanges) {
          if (retiring.remove(rangeId) != null) {
            removeDivision(rangeId);
          }
        }
      }, RETIRE_GRACE_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS));
    }
    LOG.info("node {}: removed its replica of range {} and its data", self.id(), rangeId);
  }

  /**
   * The ranges of this node's replicas other than {@code rangeId}'s: those running, and those
   * whose stored descriptor lists this node (a range a split just created here is stored before
   * its group runs).
   */
  private List<RangeDescriptor> otherReplicas(long rangeId) {
    List<RangeDescriptor> out = new ArrayList<>();
    replicas.forEach((id, replica) -> {
      RangeDescriptor d = replica.descriptor();
      if (id != rangeId && d != null) {
        out.add(d);
      }
    });
    try {
      for (RangeDescriptor d : loadDescriptors()) {
        if (d.getId() != rangeId && d.getReplicasList().contains(self.id())) {
          out.add(d);
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot read the stored range descriptors", e);
    }
    return out;
  }

  /** How long a dropped replica's Raft division keeps running: longer than a client's retries. */
  private static final long RETIRE_GRACE_MILLIS = 5_000;

  /** Removes the range's Raft division (and its directory) now, whether or not it was retiring. */
  private void removeDivision(long rangeId) {
    hibernation.wake(rangeId);
    java.util.concurrent.ScheduledFuture<?> due = retiring.remove(rangeId);
    if (due != null) {
      due.cancel(false);
    }
    try {
      if (hosts(rangeId)) {
        server.groupManagement(org.apache.ratis.protocol.GroupManagementRequest.newRemove(
            localClient, server.getId(), localCallIds.incrementAndGet(), RangeGroups.groupId(rangeId), true, false));
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("node {}: could not remove the Raft division of range {}: {}", self.id(), rangeId, e.toString());
    }
  }

  /** The first replica gets a higher priority, so leadership spreads over nodes as replicas do. */
  private RaftGroup groupWithPriorities(RangeDescriptor r) {
    RaftGroup plain = RangeGroups.group(r, nodes);
    String preferred = r.getReplicas(0);
    List<RaftPeer> peers = plain.getPeers().stream().map(p -> RaftPeer.newBuilder(p)
        .setPriority(p.getId().toString().equals(preferred) ? 1 : 0).build()).toList();
    return RaftGroup.valueOf(plain.getGroupId(), peers);
  }

  private boolean hosts(long rangeId) throws IOException {
    for (RaftGroupId g : server.getGroupIds()) {
      if (RangeGroups.rangeId(g).equals(OptionalLong.of(rangeId))) {
        return true;
      }
    }
    return false;
  }

  /** Every range descriptor stored on this node: hosted replicas and the bootstrap layout. */
  private List<RangeDescriptor> loadDescriptors() throws IOException {
    List<RangeDescriptor> out = new ArrayList<>();
    byte[] prefix = MetaKeys.descriptorPrefix();
    try (KvIterator it = engine.iterate(ColumnFamily.META, prefix, io.flotilla.common.Keys.prefixEnd(prefix), false)) {
      for (; it.valid(); it.next()) {
        out.add(RangeDescriptor.parseFrom(it.value()));
      }
    }
    return out;
  }

  public RoutingTable routing() {
    return routing;
  }

  public ClusterNode self() {
    return self;
  }

  /** Every cluster member this node knows of, in join order (a snapshot: members only grow). */
  public Map<String, ClusterNode> nodes() {
    return nodes;
  }

  /**
   * Adds a member that joined the cluster (as the placement driver recorded it) and remembers it
   * across restarts. Returns false when it was known already.
   */
  public synchronized boolean addMember(ClusterNode member) throws IOException {
    ClusterNode known = nodes.get(member.id());
    if (known != null) {
      if (!known.equals(member)) {
        LOG.warn("node {}: member {} is known as {}; ignoring {}", self.id(), member.id(), known, member);
      }
      return false;
    }
    Map<String, ClusterNode> next = new LinkedHashMap<>(nodes);
    next.put(member.id(), member);
    engine.write(membersWrite(next.values(), persistedReplication(engine).orElse(0), founders));
    nodes = java.util.Collections.unmodifiableMap(next);
    LOG.info("node {}: {} joined the cluster ({} members)", self.id(), member, next.size());
    return true;
  }

  /**
   * Prepares the storage of a node that joins an existing cluster: remembers its members and
   * marks it bootstrapped, so it never lays out a new cluster of its own.
   */
  public static void markJoined(KvEngine engine, List<ClusterNode> members, int replication, int founders)
      throws IOException {
    // One write: a crash in between must not leave members without the bootstrapped mark (the
    // node would then lay out a cluster of its own over its one-node configuration).
    engine.write(membersWrite(members, replication, founders)
        .put(ColumnFamily.META, BOOTSTRAPPED, "1".getBytes(StandardCharsets.US_ASCII)));
    engine.sync();
  }

  /** The members this node's storage remembers (empty for a node that never learned of a join). */
  public static List<ClusterNode> persistedMembers(KvEngine engine) throws IOException {
    byte[] raw = engine.get(ColumnFamily.META, MEMBERS);
    if (raw == null) {
      return List.of();
    }
    return io.flotilla.proto.JoinReply.parseFrom(raw).getMembersList().stream()
        .map(a -> new ClusterNode(a.getId(), a.getHttp(), a.getRaft())).toList();
  }

  /** The replica count of the cluster this node joined (empty for a node that created it). */
  public static java.util.OptionalInt persistedReplication(KvEngine engine) throws IOException {
    byte[] raw = engine.get(ColumnFamily.META, MEMBERS);
    int replication = raw == null ? 0 : io.flotilla.proto.JoinReply.parseFrom(raw).getReplication();
    return replication == 0 ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(replication);
  }

  /**
   * How many members founded the cluster (they come first in {@link #nodes}): the placement
   * driver's group is the first three of them, whatever joined later.
   */
  public int founders() {
    return founders;
  }

  private static Mutations membersWrite(java.util.Collection<ClusterNode> members, int replication, int founders) {
    io.flotilla.proto.JoinReply.Builder b = io.flotilla.proto.JoinReply.newBuilder().setReplication(replication)
        .setFounders(founders);
    for (ClusterNode n : members) {
      b.addMembers(io.flotilla.proto.NodeAddress.newBuilder().setId(n.id()).setHttp(n.httpUrl()).setRaft(n.raftAddress()));
    }
    return new Mutations().put(ColumnFamily.META, MEMBERS, b.build().toByteArray());
  }

  public KvEngine engine() {
    return engine;
  }

  /** The long-lived client of a range group (created on first use). */
  public RangeClient client(RangeDescriptor range) {
    use(range.getId());
    RangeClient c = clients.get(range.getId());
    if (c == null) {
      // A new client starts at the leader this node's replica knows (looked up outside the map's lock).
      String leader = division(range.getId()).map(d -> d.getLeaderId() == null ? null : d.getLeaderId().toString())
          .orElse(null);
      c = clients.computeIfAbsent(range.getId(), id ->
          new RangeClient(id, RangeGroups.group(range, nodes), clientProperties, ratisParameters, retryPolicy, leader));
    }
    c.updateGroup(RangeGroups.group(range, nodes));
    return c;
  }

  /**
   * Proposes a command to a range: in-process when this node's replica leads it
   * ({@link LocalWrites}), else through the range's client. Completes with the range's result;
   * fails with an unknown outcome when the write may or may not have been applied.
   */
  public CompletableFuture<CommandResult> write(RangeDescriptor range, Command command) {
    use(range.getId());
    RangeStateMachine replica = replicas.get(range.getId());
    if (replica == null || !division(range.getId()).map(d -> d.isLeader() && d.isLeaderReady()).orElse(false)) {
      return client(range).write(command); // a leader not ready yet refuses writes
    }
    return localWrites.write(replica, RangeGroups.groupId(range.getId()), command, () -> client(range).write(command));
  }

  /** This node's replica of a range, if it hosts one. */
  public Optional<RangeStateMachine> replica(long rangeId) {
    return Optional.ofNullable(replicas.get(rangeId));
  }

  private static List<RaftGroupId> toList(Iterable<RaftGroupId> ids) {
    List<RaftGroupId> out = new ArrayList<>();
    ids.forEach(out::add);
    return out;
  }

  /** Raft role facts of this node's member of any hosted group, if it hosts one. */
  public Optional<DivisionInfo> division(RaftGroupId groupId) {
    try {
      return Optional.of(server.getDivision(groupId).getInfo());
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * The member to hand this node's leadership of a group to: of the other members its leader
   * heard from within {@code freshMillis}, the one furthest along the log (the highest commit
   * index it reported), then the one heard from last. A member behind would have to catch up
   * first, and one silent for long would only stall the group until the transfer timed out.
   * Members {@code usable} refuses (stopping themselves) are passed over. Empty when this node
   * does not lead the group or no other member answered lately.
   */
  public Optional<String> handoffTarget(RaftGroupId groupId, long freshMillis,
      java.util.function.Predicate<String> usable) {
    RaftServer.Division d;
    try {
      d = server.getDivision(groupId);
    } catch (IOException e) {
      return Optional.empty();
    }
    DivisionInfo info = d.getInfo();
    if (!info.isLeader()) {
      return Optional.empty();
    }
    Map<String, Long> committed = new java.util.HashMap<>();
    for (org.apache.ratis.proto.RaftProtos.CommitInfoProto c : d.getCommitInfos()) {
      committed.put(org.apache.ratis.protocol.RaftPeerId.valueOf(c.getServer().getId()).toString(), c.getCommitIndex());
    }
    String best = null;
    long bestCommit = -1;
    long bestElapsed = Long.MAX_VALUE;
    for (org.apache.ratis.proto.RaftProtos.ServerRpcProto f : info.getRoleInfoProto().getLeaderInfo().getFollowerInfoList()) {
      long elapsed = f.getLastRpcElapsedTimeMs();
      if (elapsed > freshMillis) {
        continue;
      }
      String id = org.apache.ratis.protocol.RaftPeerId.valueOf(f.getId().getId()).toString();
      if (!usable.test(id)) {
        continue;
      }
      long commit = committed.getOrDefault(id, -1L);
      if (commit > bestCommit || (commit == bestCommit && elapsed < bestElapsed)) {
        best = id;
        bestCommit = commit;
        bestElapsed = elapsed;
      }
    }
    return Optional.ofNullable(best);
  }

  /** Raft role facts of the local replica of a range (leader id, role), if hosted. */
  public Optional<DivisionInfo> division(long rangeId) {
    try {
      return Optional.of(server.getDivision(RangeGroups.groupId(rangeId)).getInfo());
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * A linearizable read submitted in-process to this node's replica, when that replica leads
   * the range: no RPC at all, and served from the leader lease while it is valid. Empty when
   * the local replica is not the leader; the future fails (and the caller should go through
   * {@link #client}) when it stopped leading meanwhile.
   */
  public Optional<CompletableFuture<QueryResult>> readAsLeader(RangeDescriptor range, Query query) {
    use(range.getId());
    boolean leads = division(range.getId()).map(DivisionInfo::isLeader).orElse(false);
    return leads ? Optional.of(readInProcess(range, query)) : Optional.empty();
  }

  /**
   * A linearizable read submitted in-process to this node's replica whatever its role: a leader
   * answers from its lease or a read index, a follower asks the leader for a read index, waits
   * until it applied that far and answers from its own data (no loopback RPC). Empty when this
   * node hosts no replica of the range; the future fails (and the caller should go through
   * {@link #client}) when the replica cannot serve it, for instance during an election.
   */
  public Optional<CompletableFuture<QueryResult>> readOnLocalReplica(RangeDescriptor range, Query query) {
    use(range.getId());
    return division(range.getId()).isPresent() ? Optional.of(readInProcess(range, query)) : Optional.empty();
  }

  private CompletableFuture<QueryResult> readInProcess(RangeDescriptor range, Query query) {
    RaftClientRequest request = RaftClientRequest.newBuilder().setClientId(localClient).setServerId(server.getId())
        .setGroupId(RangeGroups.groupId(range.getId())).setCallId(localCallIds.incrementAndGet())
        .setMessage(Message.valueOf(UnsafeByteOperations.unsafeWrap(query.toByteArray())))
        .setType(RaftClientRequest.readRequestType()).build();
    // Submitted and completed on the completion threads, never on a Ratis thread: Ratis blocks
    // the submitting thread until its client executor takes the request, and completes read-index
    // futures while holding its read queue's lock, which a chained read would need again.
    return CompletableFuture.supplyAsync(() -> {
      try {
        return server.submitClientRequestAsync(request);
      } catch (IOException e) {
        throw new CompletionException(e);
      }
    }, Completions.EXECUTOR).thenCompose(f -> f).thenApplyAsync(reply -> {
      if (!reply.isSuccess()) {
        throw new CompletionException(reply.getException());
      }
      try {
        return QueryResult.parseFrom(reply.getMessage().getContent().toByteArray());
      } catch (InvalidProtocolBufferException e) {
        throw new CompletionException(e);
      }
    }, Completions.EXECUTOR);
  }

  /**
   * Sends single-key writes to node {@code nodeId}, which leads their ranges, over the Raft
   * port. Completes with that node's replies, one per write, or with {@code declined} ones when
   * the writes never left this node (safe to send another way); fails with an unknown outcome
   * when they left and no reply came within {@code deadlineMillis}.
   */
  public CompletableFuture<io.flotilla.proto.ForwardedWriteReplies> forwardWrites(String nodeId,
      io.flotilla.proto.ForwardedWrites writes, long deadlineMillis) {
    return forwarding.forward(nodeId, writes, deadlineMillis);
  }

  /** Serves the writes other nodes forward to this one with {@code handler}. */
  public void serveForwardedWrites(WriteForwarding.Handler handler) {
    forwarding.serveWith(handler);
  }

  /** The in-process writer, for tests that drive it past {@link #write}'s choice. */
  LocalWrites localWrites() {
    return localWrites;
  }

  /** The Raft client id of the in-process writer, for tests that impersonate it. */
  ClientId localWriter() {
    return localWriter;
  }

  /** The Ratis server itself, for tests that hand it requests no Flotilla client would send. */
  RaftServer raftServer() {
    return server;
  }

  /**
   * The voting members of a group's Raft configuration, sorted, and the log index of that
   * configuration.
   */
  public record Members(List<String> ids, long confIndex) {}

  /**
   * The voting members of a range this node leads, when its configuration is settled: committed,
   * no change under way, and the leader ready. Empty otherwise (not leading, asleep, a change in
   * progress).
   */
  public Optional<Members> settledMembers(long rangeId) {
    try {
      RaftServer.Division d = server.getDivision(RangeGroups.groupId(rangeId));
      return d.getInfo().isLeaderReady() ? settledMembers(d) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** The division's voting members once their configuration committed and no change is under way. */
  static Optional<Members> settledMembers(RaftServer.Division d) {
    org.apache.ratis.server.RaftConfiguration conf = d.getRaftConf();
    if (!conf.getPreviousPeers().isEmpty() || conf.getLogEntryIndex() > d.getRaftLog().getLastCommittedIndex()) {
      return Optional.empty();
    }
    return Optional.of(new Members(conf.getCurrentPeers().stream().map(p -> p.getId().toString()).sorted().toList(),
        conf.getLogEntryIndex()));
  }

  /**
   * Whether the range's Raft members differ from the replicas its descriptor lists, as this
   * node's replica holds them: a replica change under way, or one stopped between its two steps.
   * Such a range stays awake, so that its leader sees the difference and repairs it if it stays.
   */
  private boolean membersDiffer(long rangeId) {
    RangeStateMachine replica = replicas.get(rangeId);
    RangeDescriptor range = replica == null ? null : replica.descriptor();
    if (range == null) {
      return false;
    }
    try {
      return !server.getDivision(RangeGroups.groupId(rangeId)).getRaftConf().getCurrentPeers().stream()
          .map(p -> p.getId().toString()).collect(java.util.stream.Collectors.toSet())
          .equals(java.util.Set.copyOf(range.getReplicasList()));
    } catch (IOException e) {
      return false;
    }
  }

  /** True when this node's replica of the range is its leader. */
  public boolean leads(long rangeId) {
    return division(rangeId).map(DivisionInfo::isLeader).orElse(false);
  }

  /** The leader as this node knows it: its own replica's view, else its client's last hint. */
  public Optional<String> leaderOf(RangeDescriptor range) {
    Optional<String> local = division(range.getId())
        .map(d -> d.getLeaderId() == null ? null : d.getLeaderId().toString());
    if (local.isPresent()) {
      return local;
    }
    RangeClient c = clients.get(range.getId());
    return Optional.ofNullable(c == null ? null : c.leaderHint());
  }

  /** True when every range this node hosts knows a leader. */
  public boolean everyLocalRangeHasLeader() {
    return rangesWithoutLeader().isEmpty();
  }

  /** Ids of the ranges this node should host whose local replica knows no leader (yet). */
  public List<Long> rangesWithoutLeader() {
    List<Long> missing = new ArrayList<>();
    for (RangeDescriptor r : routing.all()) {
      if (r.getReplicasList().contains(self.id()) && !hibernation.isAsleep(r.getId())
          && division(r.getId()).map(d -> d.getLeaderId() == null).orElse(true)) {
        missing.add(r.getId());
      }
    }
    return missing;
  }

  /** Ids of the ranges this node hosts a replica of. */
  public List<Long> hostedRanges() {
    return replicas.keySet().stream().sorted().toList();
  }

  /** How many of this node's replicas are their range's leader. */
  public int leaderCount() {
    int n = 0;
    for (Long id : replicas.keySet()) {
      if (division(id).map(d -> d.isLeader()).orElse(false)) {
        n++;
      }
    }
    return n;
  }

  /** True when this node's replica of the range sleeps ({@link Hibernation}): its division is closed. */
  public boolean asleep(long rangeId) {
    return hibernation.isAsleep(rangeId);
  }

  /**
   * True when the range sleeps here and this node reports it to the placement driver in its
   * leader's stead: the first replica of its descriptor.
   */
  public boolean reportsAsleep(long rangeId) {
    return hibernation.reportsAsleep(rangeId);
  }

  /** How many of this node's replicas sleep now. */
  public int asleepCount() {
    return hibernation.asleepCount();
  }

  /**
   * Since this node started: {ranges put to sleep, ranges woken, wakes for a use here that
   * started an election at once}.
   */
  public long[] hibernationCounts() {
    return hibernation.counts();
  }

  public RaftSettings settings() {
    return settings;
  }

  /** The Ratis parameters a client of this node's groups needs (mutual TLS), or null (plaintext). */
  public org.apache.ratis.conf.Parameters clientParameters() {
    return ratisParameters;
  }

  /** Throws unavailable when the server is not running (for example while shutting down). */
  public void checkRunning() {
    if (server.getLifeCycleState().isClosingOrClosed()) {
      throw new FlotillaException(ErrorCode.UNAVAILABLE, "node " + self.id() + " is shutting down");
    }
  }

  @Override
  public void close() throws IOException {
    closing = true;
    forwarding.stopServing(); // before the range clients close: peers then go their own way
    hibernation.stop();
    groupExecutor.shutdownNow();
    retirer.shutdownNow(); // divisions still retiring close with the server; a restart drops them
    clients.values().forEach(RangeClient::close);
    forwarding.close();
    server.close();
    installExecutor.shutdownNow();
    // A checksum still reading must finish before the engine closes under it (it stops at the
    // next key once interrupted).
    checksumExecutor.shutdownNow();
    try {
      if (!checksumExecutor.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)) {
        LOG.warn("node {}: a consistency checksum is still reading at shutdown", self.id());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
