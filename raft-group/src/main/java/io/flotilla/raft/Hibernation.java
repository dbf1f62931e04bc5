package io.flotilla.raft;

import io.flotilla.client.RangeGroups;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.SleepReply;
import io.flotilla.proto.SleepRequest;
import java.io.File;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongFunction;
import java.util.function.LongPredicate;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.RaftServerProtocol;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.util.ProtoUtils;
import org.apache.ratis.thirdparty.io.grpc.ForwardingServerCallListener;
import org.apache.ratis.thirdparty.io.grpc.Metadata;
import org.apache.ratis.thirdparty.io.grpc.ServerCall;
import org.apache.ratis.thirdparty.io.grpc.ServerCallHandler;
import org.apache.ratis.thirdparty.io.grpc.ServerInterceptor;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts idle ranges to sleep: their Raft divisions are closed on every replica, so an idle range
 * costs no heartbeats, no apply-thread wake-ups and no threads at all, and opened again on use.
 *
 * <p>Ratis has no quiet mode: a running group heartbeats its followers and polls for commits
 * whether or not anything happens, and a thousand idle ranges kept a node's core busy. Closing
 * a division is, for Raft, the same as that replica crashing; opening it again recovers it from
 * its log and state on disk, as a restart does. So sleeping is safe whatever the timing: the
 * coordination below only keeps replicas from waking each other up again at once.
 *
 * <ul>
 *   <li><b>Going to sleep.</b> The leader of a range that applied nothing and served no request
 *       for {@code hibernateAfter}, whose followers hold and applied its whole log and whose
 *       membership is not changing, asks each follower whether it was idle too (a dry run). If
 *       all agree it closes its own division first (else its next heartbeat would wake them),
 *       then tells them to close theirs. A follower closes only while it still follows that
 *       leader in that term.
 *   <li><b>Waking up.</b> Any message for the range's group arriving on this node's Raft ports
 *       (a request from another node's client, a vote, an append, a read index) opens the
 *       division before Ratis sees the message, and so does any local use of the range (a
 *       write, a linearizable read, its client). An opened division starts as a follower. A wake
 *       for a use has an election start at once, on the range's preferred replica, whose vote
 *       requests open the other divisions, rather than after a first election timeout (a
 *       second or two): a request to a sleeping range waits for one election round, and clients
 *       retry until the leader is there. A division opened by another replica's message starts
 *       no election of its own: the sender leads or is asking for votes.
 *       Stale reads need no division and never wake a range.
 * </ul>
 *
 * <p>A sleeping range keeps its replica object (its descriptor, for routing and stale reads) and
 * its directory under {@code raft/asleep/}, so a restart leaves it asleep.
 */
final class Hibernation {
  private static final Logger LOG = LoggerFactory.getLogger(Hibernation.class);
  /** How long a leader waits for its followers' answers before it lets a range stay awake. */
  private static final long ASK_MILLIS = 2_000;
  /** Divisions closing at once on a node. */
  private static final int CLOSING_AT_ONCE = 16;
  /**
   * How long a message arriving on the network waits for a range that is falling asleep right
   * then; past it the call fails as unavailable (every Raft client and appender retries that),
   * rather than keep a network thread from other ranges' messages for the second a close takes.
   */
  private static final long ARRIVING_WAIT_MILLIS = 50;

  /** Under the Raft storage directory; Ratis opens the groups it finds there at start, not in here. */
  static final String ASLEEP_DIR = "asleep";

  private final RaftServer server;
  private final File raftDir;
  /** Where a sleeping range's Raft directory waits, so that a restart does not open it. */
  private final File asleepDir;
  private final String selfId;
  private final Map<Long, RangeStateMachine> replicas;
  /** The group to open a sleeping range's division with (its stored configuration wins). */
  private final LongFunction<RaftGroup> groupOf;
  private final LongPredicate pinned;
  private final WriteForwarding link;
  private final long idleNanos;
  /**
   * Sleeping ranges here, with the leader and term they fell asleep under (this node, when it
   * led the range then).
   */
  private final Map<Long, Sleep> asleep = new ConcurrentHashMap<>();
  /** Per range, held while its division closes or opens: never both at once. */
  private final Map<Long, ReentrantLock> changes = new ConcurrentHashMap<>();
  /** Ranges whose leader here is putting them to sleep right now. */
  private final Set<Long> going = ConcurrentHashMap.newKeySet();
  private volatile boolean stopped;
  private final ClientId localClient = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();
  private final LongAdder slept = new LongAdder();
  private final LongAdder woken = new LongAdder();
  private final LongAdder campaigned = new LongAdder();
  private final ScheduledExecutorService scanner;
  /**
   * Closes divisions, for ranges this node leads and for followers asked to: never on a network
   * thread. Ratis takes about a second to close one (its log worker notices the close only when
   * its one-second poll runs out), nearly all of it waiting, so several close at once.
   */
  private final ExecutorService closer;
  /** Puts ranges this node leads to sleep; apart from {@link #closer}, which answers other leaders. */
  private final ExecutorService sleepers;

  /**
   * The leader and term a range fell asleep under, for telling late heartbeats from wake-ups
   * ({@link #lateHeartbeat}); {@link #UNKNOWN} for a range asleep since before a restart, for
   * which no heartbeat counts as late.
   */
  private record Sleep(String leader, long term) {
    static final Sleep UNKNOWN = new Sleep("", -1);
  }

  /**
   * @param groupOf the group to open a sleeping range's division with
   * @param pinned ranges that must stay awake for now (a replica leaving, locks to resolve, Raft members
   *     that differ from the descriptor's replicas)
   * @param link the node link: asks followers to sleep, and serves other leaders' requests
   * @param hibernateAfter how long a range must be idle before it sleeps; zero: never
   * @param raftDir the Raft storage directory (sleeping ranges' directories wait under it)
   */
  Hibernation(RaftServer server, String selfId, Map<Long, RangeStateMachine> replicas, LongFunction<RaftGroup> groupOf,
      LongPredicate pinned, WriteForwarding link, Duration hibernateAfter, File raftDir) {
    this.raftDir = raftDir;
    this.asleepDir = new File(raftDir, ASLEEP_DIR);
    this.server = server;
    this.selfId = selfId;
    this.replicas = replicas;
    this.groupOf = groupOf;
    this.pinned = pinned;
    this.link = link;
    this.idleNanos = hibernateAfter.toNanos();
    this.scanner = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "hibernation-" + selfId));
    this.closer = Executors.newFixedThreadPool(CLOSING_AT_ONCE, r -> daemon(r, "hibernation-closer-" + selfId));
    this.sleepers = Executors.newFixedThreadPool(CLOSING_AT_ONCE, r -> daemon(r, "hibernation-leader-" + selfId));
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** Starts looking for idle ranges this node leads (unless hibernation is off). */
  void start() {
    link.sleepWith(this::askedToSleep);
    if (idleNanos > 0) {
      long every = Math.max(200, TimeUnit.NANOSECONDS.toMillis(idleNanos) / 4);
      scanner.scheduleWithFixedDelay(this::scan, every, every, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Stops putting ranges to sleep, and waits (a few seconds at most) for the divisions closing
   * right now to finish and their directories to move, before the server closes under them.
   */
  void stop() {
    stopped = true;
    scanner.shutdownNow();
    sleepers.shutdown();
    closer.shutdown();
    try {
      if (!sleepers.awaitTermination(10, TimeUnit.SECONDS) || !closer.awaitTermination(10, TimeUnit.SECONDS)) {
        LOG.warn("node {}: ranges still falling asleep at shutdown", selfId);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  boolean enabled() {
    return idleNanos > 0;
  }

  /**
   * At start, before any range group is created: a range this node holds a replica of whose
   * group Ratis did not open (its directory waits under {@value #ASLEEP_DIR}, or it has none yet:
   * a new cluster's ranges, or a split's right half the node crashed before creating) sleeps,
   * with an {@code unopened} replica standing for it until its first use opens it (with
   * hibernation off, {@link #openIfOff} opens them once the server runs). Called before the
   * server starts, so that no message finds such a range unmarked. Directories of ranges this
   * node no longer holds are removed.
   *
   * @param held the ranges this node holds a replica of
   * @param unopened a replica object, loaded but not opened, for a range that sleeps
   */
  void recover(Map<Long, RangeDescriptor> held, ReplicaFactory unopened) throws IOException {
    java.util.Set<Long> opened = new java.util.HashSet<>();
    for (RaftGroupId g : server.getGroupIds()) {
      RangeGroups.rangeId(g).ifPresent(opened::add);
    }
    File[] waiting = asleepDir.listFiles(File::isDirectory);
    for (File dir : waiting == null ? new File[0] : waiting) {
      OptionalLong rangeId;
      try {
        rangeId = RangeGroups.rangeId(RaftGroupId.valueOf(java.util.UUID.fromString(dir.getName())));
      } catch (IllegalArgumentException e) {
        continue;
      }
      if (rangeId.isPresent() && !held.containsKey(rangeId.getAsLong())) {
        org.apache.ratis.util.FileUtils.deleteFully(dir); // merged away or moved off while this node was down
        LOG.info("node {}: removed the sleeping Raft directory of range {}, which it no longer holds", selfId,
            rangeId.getAsLong());
      }
    }
    for (Map.Entry<Long, RangeDescriptor> e : held.entrySet()) {
      long rangeId = e.getKey();
      if (opened.contains(rangeId)) {
        continue;
      }
      replicas.putIfAbsent(rangeId, unopened.create(rangeId));
      asleep.put(rangeId, Sleep.UNKNOWN);
    }
  }

  /** With hibernation off, opens the ranges {@link #recover} found closed; once the server runs. */
  void openIfOff() {
    if (!enabled()) {
      for (Long rangeId : List.copyOf(asleep.keySet())) {
        wake(rangeId);
      }
    }
  }

  /** Makes the replica object of a range whose division is not open. */
  @FunctionalInterface
  interface ReplicaFactory {
    RangeStateMachine create(long rangeId) throws IOException;
  }

  boolean isAsleep(long rangeId) {
    return asleep.containsKey(rangeId);
  }

  /**
   * True when the range sleeps here and this node reports it to the placement driver: its
   * descriptor's first replica. Every replica of a sleeping range holds the same descriptor, so
   * they agree on that node whoever led the range last, and after a restart too (a sleeping
   * range runs no election that would name a leader to report it).
   */
  boolean reportsAsleep(long rangeId) {
    if (!asleep.containsKey(rangeId)) {
      return false;
    }
    RangeStateMachine replica = replicas.get(rangeId);
    RangeDescriptor d = replica == null ? null : replica.descriptor();
    return d != null && d.getReplicasCount() > 0 && d.getReplicas(0).equals(selfId);
  }

  int asleepCount() {
    return asleep.size();
  }

  /**
   * Since this node started: ranges put to sleep, ranges woken, and wakes for a use here that
   * started an election at once (here or on the range's preferred replica).
   */
  long[] counts() {
    return new long[] {slept.sum(), woken.sum(), campaigned.sum()};
  }

  /**
   * Opens the range's division if it sleeps here; returns at once otherwise. A caller about to
   * use the range notes the use on its replica first ({@link RangeStateMachine#noteUse}).
   */
  void wake(long rangeId) {
    wake(rangeId, Long.MAX_VALUE, false);
  }

  /**
   * As {@link #wake(long)}, for a use of the range: a division opened here asks for votes at
   * once. The caller notes the use on its replica first ({@link RangeStateMachine#noteUse}).
   */
  void wakeToUse(long rangeId) {
    wake(rangeId, Long.MAX_VALUE, true);
  }

  /**
   * As {@link #wake(long)}, but false when the range is falling asleep and that takes over
   * {@code waitMillis}; with {@code campaign}, a division opened here starts an election at once.
   */
  private boolean wake(long rangeId, long waitMillis, boolean campaign) {
    if (!asleep.containsKey(rangeId)) {
      return true;
    }
    ReentrantLock lock = lock(rangeId);
    try {
      if (!lock.tryLock(waitMillis, TimeUnit.MILLISECONDS)) {
        return false;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
    try {
      // Marked asleep until the division runs: a message arriving meanwhile waits above for the
      // lock rather than reach a division Ratis has not started yet (it refuses those as "not
      // ready"). Re-entered on this thread while opening: nothing more to do.
      if (!asleep.containsKey(rangeId) || lock.getHoldCount() > 1) {
        return true;
      }
      try {
        File dir = groupDir(raftDir, rangeId);
        File waiting = groupDir(asleepDir, rangeId);
        if (waiting.isDirectory() && !dir.exists()) {
          java.nio.file.Files.move(waiting.toPath(), dir.toPath(), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        // No directory at all: a range that has not run here yet (a new cluster's), created now.
        server.groupManagement(GroupManagementRequest.newAdd(localClient, server.getId(), callIds.incrementAndGet(),
            groupOf.apply(rangeId), !dir.exists()));
        asleep.remove(rangeId);
        woken.increment();
        LOG.debug("node {}: woke range {}", selfId, rangeId);
      } catch (IOException | RuntimeException e) {
        // Still closed, and still marked: the next use tries again. A message from the network
        // is refused as unavailable meanwhile (retried by its sender), not handed to a Ratis
        // that would answer "no such group", which its client takes as final.
        LOG.warn("node {}: could not wake range {}: {}", selfId, rangeId, e.toString());
        return false;
      }
      if (campaign) {
        campaign(rangeId);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Has an election start now for the range whose division just opened here for a use, rather
   * than after a first election timeout. Every replica held the whole log when the range fell
   * asleep, so any of them can win; the one to stand is the range's preferred replica (the
   * highest priority in its configuration), since Ratis would hand a lead won by another over
   * to it straight away, and the use would wait for that too. Ratis starts an election at once
   * when a leader asks a follower to (as in a leadership transfer); here this node asks, in its
   * own name, with its own last entry, which passes the checks of such a request on a division
   * that knows no leader: in-process when this replica is the preferred one, else over the
   * network to the preferred replica's node (whose division that message opens). When that
   * node cannot be reached, this replica stands itself; when nothing can start, the election
   * timers still run. Such an election, which skips Ratis's pre-vote, can unseat a leader the
   * other replicas elected a moment before (when this replica slept on a little after they
   * woke): that costs one more election, never a write.
   */
  private void campaign(long rangeId) {
    RaftGroupId group = RangeGroups.groupId(rangeId);
    RaftServer.Division division;
    try {
      division = server.getDivision(group);
    } catch (IOException e) {
      return;
    }
    RaftPeer preferred = preferredPeer(division);
    if (preferred == null || preferred.getId().equals(server.getId())) {
      standForElection(rangeId, division);
      return;
    }
    // Over the network: never on the caller's thread, which may be a network thread itself.
    try {
      sleepers.execute(() -> askToStand(rangeId, division, preferred.getId()));
    } catch (RejectedExecutionException e) {
      // stopping: the division closes with the node
    }
  }

  /**
   * Asks the preferred replica's node to stand for election; stands here when that node cannot
   * be reached. A refusal means the preferred replica knows a leader or stands already (another
   * use woke the range there too): then nothing more is started, since a second candidate would
   * only unseat the first.
   */
  private void askToStand(long rangeId, RaftServer.Division division, RaftPeerId preferred) {
    try {
      if (server.getServerRpc().startLeaderElection(startElection(division, preferred)).getServerReply().getSuccess()) {
        campaigned.increment();
      }
    } catch (IOException | RuntimeException e) {
      standForElection(rangeId, division);
    }
  }

  /** The peer of highest priority in the division's configuration, if one outranks all others. */
  private static RaftPeer preferredPeer(RaftServer.Division division) {
    RaftPeer best = null;
    boolean tie = false;
    for (RaftPeer p : division.getRaftConf().getCurrentPeers()) {
      if (best == null || p.getPriority() > best.getPriority()) {
        best = p;
        tie = false;
      } else if (p.getPriority() == best.getPriority()) {
        tie = true;
      }
    }
    return tie ? null : best;
  }

  /** Has this node's division of the range start an election now, if it can. */
  private void standForElection(long rangeId, RaftServer.Division division) {
    try {
      if (division instanceof RaftServerProtocol protocol && division.getInfo().isFollower()
          && protocol.startLeaderElection(startElection(division, server.getId())).getServerReply().getSuccess()) {
        campaigned.increment();
      } else {
        LOG.debug("node {}: range {} woke without an election of its own", selfId, rangeId);
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("node {}: range {} woke without an election of its own: {}", selfId, rangeId, e.toString());
    }
  }

  /** A request that {@code to}'s division of the range start an election, sent in this division's name. */
  private RaftProtos.StartLeaderElectionRequestProto startElection(RaftServer.Division division, RaftPeerId to) {
    TermIndex last = division.getRaftLog().getLastEntryTermIndex();
    RaftProtos.RaftRpcRequestProto header = RaftProtos.RaftRpcRequestProto.newBuilder()
        .setRequestorId(server.getId().toByteString()).setReplyId(to.toByteString())
        .setRaftGroupId(ProtoUtils.toRaftGroupIdProtoBuilder(division.getGroup().getGroupId()))
        .setCallId(callIds.incrementAndGet()).build();
    return RaftProtos.StartLeaderElectionRequestProto.newBuilder().setServerRequest(header)
        .setLeaderLastEntry(last == null ? RaftProtos.TermIndexProto.getDefaultInstance() : last.toProto())
        .build();
  }

  private static File groupDir(File parent, long rangeId) {
    return new File(parent, RangeGroups.groupId(rangeId).getUuid().toString());
  }

  private ReentrantLock lock(long rangeId) {
    return changes.computeIfAbsent(rangeId, id -> new ReentrantLock());
  }

  /**
   * Sees every message arriving on the Raft ports: opens the division of a sleeping range it is
   * for, before Ratis looks the group up (else Ratis answers that it does not host the group,
   * which a Raft client treats as final). Client requests and read-index requests also count as
   * use of the range; heartbeats and votes do not.
   */
  ServerInterceptor interceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
          ServerCallHandler<Q, A> next) {
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
          private boolean failed;

          @Override
          public void onMessage(Q message) {
            if (failed) {
              return;
            }
            if (!arriving(message)) {
              failed = true;
              call.close(Status.UNAVAILABLE.withDescription("the range is falling asleep; retry"), new Metadata());
              return;
            }
            super.onMessage(message);
          }

          @Override
          public void onHalfClose() {
            if (!failed) { // a closed call's handler must not answer it again
              super.onHalfClose();
            }
          }
        };
      }
    };
  }

  /** False when the message's range is falling asleep right now and must not get it yet. */
  private boolean arriving(Object message) {
    if (!enabled() && asleep.isEmpty()) {
      return true; // nothing sleeps here, and nothing will
    }
    RaftProtos.RaftRpcRequestProto header;
    boolean use;
    if (message instanceof RaftProtos.RaftClientRequestProto m) {
      header = m.getRpcRequest();
      use = true;
    } else if (message instanceof RaftProtos.ReadIndexRequestProto m) {
      header = m.getServerRequest();
      use = true;
    } else if (message instanceof RaftProtos.SetConfigurationRequestProto m) {
      header = m.getRpcRequest();
      use = true;
    } else if (message instanceof RaftProtos.TransferLeadershipRequestProto m) {
      header = m.getRpcRequest();
      use = true;
    } else if (message instanceof RaftProtos.AppendEntriesRequestProto m) {
      header = m.getServerRequest();
      use = false;
      if (m.getEntriesCount() == 0 && lateHeartbeat(header, m.getLeaderTerm())) {
        return true;
      }
    } else if (message instanceof RaftProtos.RequestVoteRequestProto m) {
      header = m.getServerRequest();
      use = false;
    } else if (message instanceof RaftProtos.StartLeaderElectionRequestProto m) {
      header = m.getServerRequest();
      use = false;
    } else {
      return true;
    }
    if (!header.hasRaftGroupId()) {
      return true;
    }
    OptionalLong rangeId = RangeGroups.rangeId(RaftGroupId.valueOf(header.getRaftGroupId().getId()));
    if (rangeId.isEmpty()) {
      return true;
    }
    if (use) { // noted before the wake: see trySleep
      RangeStateMachine replica = replicas.get(rangeId.getAsLong());
      if (replica != null) {
        replica.noteUse();
      }
    }
    return wake(rangeId.getAsLong(), ARRIVING_WAIT_MILLIS, use);
  }

  /**
   * A heartbeat from the leader the range fell asleep under, in that term: sent before that
   * leader closed its division (it closes last), so it must not wake the range. Ratis answers it
   * that the group is not here, and the leader stops sending once closed. Anything newer (a
   * vote, an entry, another term) wakes the range.
   */
  private boolean lateHeartbeat(RaftProtos.RaftRpcRequestProto header, long term) {
    if (!header.hasRaftGroupId()) {
      return false;
    }
    OptionalLong rangeId = RangeGroups.rangeId(RaftGroupId.valueOf(header.getRaftGroupId().getId()));
    Sleep s = rangeId.isEmpty() ? null : asleep.get(rangeId.getAsLong());
    return s != null && s.term() == term && s.leader().equals(header.getRequestorId().toStringUtf8());
  }

  // ---- going to sleep ---------------------------------------------------------------------

  /** Puts to sleep the idle ranges this node leads, several at once. */
  private void scan() {
    try {
      for (long rangeId : new ArrayList<>(replicas.keySet())) {
        if (!asleep.containsKey(rangeId) && idleLeader(rangeId).isPresent() && going.add(rangeId)) {
          sleepers.execute(() -> {
            try {
              trySleep(rangeId);
            } catch (RuntimeException e) {
              LOG.warn("node {}: could not put range {} to sleep: {}", selfId, rangeId, e.toString(), e);
            } finally {
              going.remove(rangeId);
            }
          });
        }
      }
    } catch (RuntimeException e) {
      LOG.warn("node {}: hibernation scan failed: {}", selfId, e.toString(), e);
    }
  }

  /** The leader's side: when the range is idle everywhere, close here, then on the followers. */
  private void trySleep(long rangeId) {
    if (stopped) {
      return;
    }
    Optional<Idle> idle = idleLeader(rangeId);
    if (idle.isEmpty()) {
      return;
    }
    Idle at = idle.get();
    SleepRequest.Builder ask = SleepRequest.newBuilder().setRangeId(rangeId).setLeader(selfId)
        .setTerm(at.term()).setIndex(at.index());
    List<CompletableFuture<SleepReply>> answers = new ArrayList<>();
    for (String follower : at.followers()) {
      answers.add(link.askToSleep(follower, ask.setDryRun(true).build(), ASK_MILLIS));
    }
    for (CompletableFuture<SleepReply> answer : answers) {
      SleepReply reply = answer.join(); // completes within ASK_MILLIS, never exceptionally
      if (!reply.getAgreed()) {
        LOG.debug("node {}: range {} stays awake: {}", selfId, rangeId, reply.getReason());
        return;
      }
    }
    ReentrantLock lock = lock(rangeId);
    lock.lock();
    try {
      // Marked first: from here on a new use of the range (noted before it looks at the mark)
      // either shows in the check below or finds the mark and waits to open the division again.
      asleep.put(rangeId, new Sleep(selfId, at.term()));
      // Still idle and leading at the same place: nothing came in while the followers answered.
      if (!idleLeader(rangeId).equals(idle)) {
        asleep.remove(rangeId);
        return;
      }
      // The followers are told before this division closes: closed first, it would stop
      // heartbeating, and a follower could time out and campaign before it heard. Heartbeats
      // this division sends meanwhile do not wake them (lateHeartbeat).
      for (String follower : at.followers()) {
        link.askToSleep(follower, ask.setDryRun(false).build(), ASK_MILLIS).thenAccept(reply -> {
          if (!reply.getAgreed()) {
            // It keeps running; its election timer will wake the others again.
            LOG.info("node {}: follower {} kept range {} awake: {}", selfId, follower, rangeId, reply.getReason());
          }
        });
      }
      if (!close(rangeId)) {
        asleep.remove(rangeId);
      }
    } finally {
      lock.unlock();
    }
  }

  private record Idle(long term, long index, List<String> followers) {}

  /** Where this node's replica leads the range from, when the range may sleep. */
  private Optional<Idle> idleLeader(long rangeId) {
    RangeStateMachine replica = replicas.get(rangeId);
    if (replica == null || replica.idleNanos() < idleNanos || pinned.test(rangeId)) {
      return Optional.empty();
    }
    RaftServer.Division division;
    try {
      division = server.getDivision(RangeGroups.groupId(rangeId));
    } catch (IOException e) {
      return Optional.empty();
    }
    DivisionInfo info = division.getInfo();
    TermIndex last = division.getRaftLog().getLastEntryTermIndex();
    if (!info.isLeader() || !info.isLeaderReady() || last == null || info.getLastAppliedIndex() != last.getIndex()
        || !division.getRaftConf().getPreviousPeers().isEmpty()) {
      return Optional.empty();
    }
    List<String> followers = new ArrayList<>();
    for (RaftPeer p : division.getRaftConf().getCurrentPeers()) {
      if (!p.getId().equals(server.getId())) {
        followers.add(p.getId().toString());
      }
    }
    long[] matched = info.getFollowerMatchIndices();
    if (matched.length != followers.size()) {
      return Optional.empty();
    }
    for (long m : matched) {
      if (m != last.getIndex()) {
        return Optional.empty();
      }
    }
    for (RaftProtos.CommitInfoProto c : division.getCommitInfos()) {
      if (c.getCommitIndex() < last.getIndex()) {
        return Optional.empty(); // a follower that has not learned the entries committed
      }
    }
    return Optional.of(new Idle(info.getCurrentTerm(), last.getIndex(), List.copyOf(followers)));
  }

  /** The follower's side: agree (and, unless a dry run, close) while following that leader, idle. */
  private CompletableFuture<SleepReply> askedToSleep(SleepRequest request) {
    return CompletableFuture.supplyAsync(() -> {
      long rangeId = request.getRangeId();
      if (stopped) {
        return refuse("node " + selfId + " is stopping");
      }
      if (idleNanos <= 0) {
        return refuse("hibernation is off on node " + selfId);
      }
      ReentrantLock lock = lock(rangeId);
      lock.lock();
      try {
        if (asleep.containsKey(rangeId)) {
          return SleepReply.newBuilder().setAgreed(true).build();
        }
        if (!request.getDryRun()) {
          asleep.put(rangeId, new Sleep(request.getLeader(), request.getTerm())); // marked before the check, as the leader does
        }
        String why = whyNotFollowerAsleep(rangeId, request);
        if (why == null && !request.getDryRun() && !close(rangeId)) {
          why = "could not close the division";
        }
        if (why != null) {
          asleep.remove(rangeId);
          return refuse(why);
        }
        return SleepReply.newBuilder().setAgreed(true).build();
      } finally {
        lock.unlock();
      }
    }, closer);
  }

  private static SleepReply refuse(String why) {
    return SleepReply.newBuilder().setReason(why).build();
  }

  private String whyNotFollowerAsleep(long rangeId, SleepRequest request) {
    RangeStateMachine replica = replicas.get(rangeId);
    if (replica == null) {
      return "no replica here";
    }
    if (replica.idleNanos() < idleNanos) {
      return "used recently here";
    }
    if (pinned.test(rangeId)) {
      return "busy here";
    }
    RaftServer.Division division;
    try {
      division = server.getDivision(RangeGroups.groupId(rangeId));
    } catch (IOException e) {
      return "no division here";
    }
    DivisionInfo info = division.getInfo();
    TermIndex last = division.getRaftLog().getLastEntryTermIndex();
    if (!info.isFollower() || info.getLeaderId() == null || !info.getLeaderId().toString().equals(request.getLeader())
        || info.getCurrentTerm() != request.getTerm()) {
      return "it is " + info.getCurrentRole() + " in term " + info.getCurrentTerm() + " under leader "
          + info.getLeaderId() + ", not a follower of " + request.getLeader() + " in term " + request.getTerm();
    }
    if (last == null || last.getIndex() != request.getIndex() || info.getLastAppliedIndex() != request.getIndex()) {
      return "not at the leader's index";
    }
    return null;
  }

  /**
   * Closes the range's division and moves its directory aside (a restart leaves it asleep); its
   * lock held, marked asleep.
   */
  private boolean close(long rangeId) {
    try {
      server.groupManagement(GroupManagementRequest.newRemove(localClient, server.getId(), callIds.incrementAndGet(),
          RangeGroups.groupId(rangeId), false, false));
    } catch (IOException | RuntimeException e) {
      LOG.warn("node {}: could not close the division of range {}: {}", selfId, rangeId, e.toString());
      return false;
    }
    try {
      java.nio.file.Files.createDirectories(asleepDir.toPath());
      java.nio.file.Files.move(groupDir(raftDir, rangeId).toPath(), groupDir(asleepDir, rangeId).toPath(),
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | RuntimeException e) {
      // Asleep all the same; a restart opens it, and it falls asleep again when idle.
      LOG.warn("node {}: range {} sleeps, but its directory stays in place: {}", selfId, rangeId, e.toString());
    }
    slept.increment();
    return true;
  }
}
