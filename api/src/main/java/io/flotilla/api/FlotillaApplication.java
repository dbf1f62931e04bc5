package io.flotilla.api;

import io.dropwizard.core.Application;
import io.dropwizard.core.server.AbstractServerFactory;
import io.dropwizard.core.setup.Environment;
import io.dropwizard.lifecycle.Managed;
import io.flotilla.api.config.FlotillaConfiguration;
import io.flotilla.api.config.NodeConfig;
import io.flotilla.api.config.PeerConfig;
import io.flotilla.api.resources.AdminResource;
import io.flotilla.api.resources.Async;
import io.flotilla.api.resources.BatchResource;
import io.flotilla.api.resources.ErrorMappers;
import io.flotilla.api.resources.InternalResource;
import io.flotilla.api.resources.KvResource;
import io.flotilla.api.resources.OpsResource;
import io.flotilla.api.service.ClusterJoin;
import io.flotilla.api.service.KeyService;
import io.flotilla.api.service.OperationLog;
import io.flotilla.api.service.RangeOperations;
import io.flotilla.api.service.Sweeper;
import io.flotilla.api.service.NodeStats;
import io.flotilla.common.ClusterNode;
import io.flotilla.proto.JoinReply;
import io.flotilla.raft.NodeHost;
import io.flotilla.statemachine.KvEngine;
import io.flotilla.statemachine.RocksDbKvEngine;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/** A Flotilla node: storage, Raft host, and the HTTP API of shared/API.md on one port. */
public class FlotillaApplication extends Application<FlotillaConfiguration> {
  @Override
  public String getName() {
    return "flotilla";
  }

  /**
   * Keys may hold any character, so '%2F' and '%25' in a key's path segment are data, not
   * path syntax: let them through Jetty's URI checks (the key resource decodes them itself).
   */
  private static void acceptEveryKeyInPaths(FlotillaConfiguration config) {
    java.util.List<io.dropwizard.jetty.ConnectorFactory> connectors = new java.util.ArrayList<>();
    if (config.getServerFactory() instanceof io.dropwizard.core.server.SimpleServerFactory simple) {
      connectors.add(simple.getConnector());
    } else if (config.getServerFactory() instanceof io.dropwizard.core.server.DefaultServerFactory full) {
      connectors.addAll(full.getApplicationConnectors());
    }
    for (io.dropwizard.jetty.ConnectorFactory c : connectors) {
      if (c instanceof io.dropwizard.jetty.HttpConnectorFactory http) {
        http.setUriCompliance(org.eclipse.jetty.http.UriCompliance.UNSAFE);
      }
    }
  }

  @Override
  public void run(FlotillaConfiguration config, Environment env) throws Exception {
    quietRatisNoise(config.getLoggingFactory());
    NodeConfig node = config.flotilla;
    ClusterNode self = node.self().toNode();
    List<ClusterNode> cluster = node.peers.stream().map(PeerConfig::toNode).toList();
    Path data = Path.of(node.dataDir);
    if (config.getServerFactory() instanceof AbstractServerFactory server) {
      server.setRegisterDefaultExceptionMappers(false); // ours produce API.md's JSON errors
    }
    List<Path> tlsFiles = node.tls.enabled ? node.tls.files(self.id()) : List.of();
    io.flotilla.common.NodeTls tls = node.tls.enabled
        ? io.flotilla.common.NodeTls.load(tlsFiles.get(0), tlsFiles.get(1), tlsFiles.get(2)) : null;
    if (tls != null) {
      HttpsOnly.apply(config, tls.sslContext());
      for (PeerConfig peer : node.peers) {
        if (!peer.http.startsWith("https://")) {
          throw new IllegalArgumentException("tls is on, so peer " + peer.id + " must be reached at an https:// URL, not "
              + peer.http);
        }
      }
    } else if (node.auth.enabled) {
      org.slf4j.LoggerFactory.getLogger(FlotillaApplication.class).warn("auth is on but tls is off: tokens travel in "
          + "the clear, and the Raft port ({}) takes replication, Ratis clients and forwarded writes from anyone who "
          + "reaches it, token or not; turn tls on, or keep that port on a network only the nodes reach",
          self.raftAddress());
    }
    acceptEveryKeyInPaths(config);
    env.getApplicationContext().getServletHandler().setDecodeAmbiguousURIs(true);
    env.getApplicationContext().setErrorHandler(new JsonErrorHandler());
    env.lifecycle().addServerLifecycleListener(server -> server.setErrorHandler(new JsonErrorHandler()));

    KvEngine engine = RocksDbKvEngine.open(data.resolve("db"), node.blockCacheMb << 20);
    // Calls to peers carry the cluster token when auth is on: /internal answers no one else.
    HttpClient.Builder peerHttp = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2));
    if (tls != null) {
      peerHttp.sslContext(tls.sslContext()); // presents the node's certificate, trusts the cluster's CA
    }
    HttpClient http = io.flotilla.api.auth.ClusterHttp.of(peerHttp.build(),
        node.auth.enabled ? node.auth.clusterToken : null);
    if (node.join != null && NodeHost.persistedMembers(engine).isEmpty()) {
      JoinReply joined = ClusterJoin.join(http, node.join, self, Duration.ofMinutes(2));
      cluster = joined.getMembersList().stream().map(ClusterJoin::node).toList();
      io.flotilla.api.service.PdClient.remember(engine, joined.getPlacementDriver()); // before the joined mark
      NodeHost.markJoined(engine, cluster, joined.getReplication(), joined.getFounders());
    }
    int replicas = NodeHost.persistedReplication(engine).orElse(node.replication);
    AtomicReference<NodeHost> hostRef = new AtomicReference<>();
    HttpSnapshotSource snapshots = new HttpSnapshotSource(http, id -> hostRef.get().nodes().get(id));
    NodeHost host = new NodeHost(self, cluster, engine, data.resolve("raft").toFile(), node.raft.toSettings(node.maxEntryBytes()),
        snapshots, tls);
    hostRef.set(host);
    io.flotilla.api.service.PdClient pd = new io.flotilla.api.service.PdClient(host);
    // Any node can come to host a member of the placement driver's group (the PD leader moves it
    // off nodes that leave); Ratis makes its state machine whenever it opens the group here.
    AtomicReference<io.flotilla.pd.PdStateMachine> pdMachine = new AtomicReference<>();
    host.registerGroup(io.flotilla.pd.PdGroups.groupId(), () -> {
      io.flotilla.pd.PdStateMachine machine = new io.flotilla.pd.PdStateMachine(host.nodes().values().stream()
          .limit(host.founders()).map(ClusterJoin::address).toList(), snapshots);
      machine.onJoin(joiner -> {
        try {
          host.addMember(ClusterJoin.node(joiner));
        } catch (java.io.IOException | RuntimeException e) {
          // Never fail the PD's apply: the member is learned again from the next heartbeat reply.
          org.slf4j.LoggerFactory.getLogger(FlotillaApplication.class).warn("could not record member {}: {}",
              joiner.getId(), e.toString());
        }
      });
      pdMachine.set(machine);
      return machine;
    });
    // A founding member creates its member of the group on its first start. A member added later
    // got its copy from the leader; if its directory were gone, creating an empty one would make
    // it a voter that forgot what it acknowledged.
    if (pd.isMember() && pd.known().getConfIndex() == 0) {
      host.hostGroup(pd.group());
    }
    AtomicBoolean started = new AtomicBoolean();
    AtomicReference<io.flotilla.api.service.PlacementController> placementRef = new AtomicReference<>();
    env.lifecycle().manage(new Managed() {
      @Override
      public void start() throws Exception {
        host.start(node.initialSplits, replicas);
        started.set(true);
      }

      @Override
      public void stop() throws Exception {
        started.set(false);
        try {
          try {
            handOffLeaderships(host, pd, Duration.ofMillis(node.leaderHandoffAtStop.toMilliseconds()),
                id -> placementRef.get() != null && placementRef.get().heardStopping(id));
          } finally {
            try {
              pd.close();
            } finally {
              host.close();
            }
          }
        } finally {
          engine.close();
        }
      }
    });

    io.flotilla.api.service.SkewableClock clock = new io.flotilla.api.service.SkewableClock(Clock.systemUTC());
    io.flotilla.api.service.Peers peers = new io.flotilla.api.service.Peers(host::nodes, http);
    io.flotilla.api.service.ReplicaReader replicaReader = new io.flotilla.api.service.ReplicaReader(host, peers);
    io.flotilla.api.service.RouteResolver resolver = new io.flotilla.api.service.RouteResolver(host.routing(), peers,
        () -> host.nodes().keySet().stream().filter(id -> !id.equals(self.id())).toList());
    KeyService keys = new KeyService(host, replicaReader, resolver, clock, node.requestTimeout.toMilliseconds(),
        node.requestTimeout.toMilliseconds() / 2,
        node.txnAbandonAfter.toMilliseconds(), node.maxEntryBytes(),
        new KeyService.Queues(node.limits.maxQueueDelay.toNanoseconds(), node.limits.maxQueuedPerRange,
            node.limits.maxQueuedWriteBytes),
        java.util.Set.copyOf(node.failpoints),
        node.forwardWrites, node.proposeInProcess, new io.flotilla.api.service.RangeMetrics(node.perRangeMetrics));
    for (String count : keys.forwardingCounts().keySet()) {
      env.metrics().register("flotilla.writes." + count,
          (com.codahale.metrics.Gauge<Long>) () -> keys.forwardingCounts().get(count));
    }
    env.metrics().register("flotilla.reads.stale-waiting-for-revision",
        (com.codahale.metrics.Gauge<Integer>) keys::staleReadsWaiting);
    env.lifecycle().manage(new Sweeper(host, keys, clock, node.sweepInterval.toMilliseconds(),
        node.txnAbandonAfter.toMilliseconds(), node.maxEntryBytes() / 4));
    // Ranges asleep on this node now, and how many it put to sleep and woke since it started.
    env.metrics().register("flotilla.ranges.asleep", (com.codahale.metrics.Gauge<Integer>) host::asleepCount);
    env.metrics().register("flotilla.ranges.slept", (com.codahale.metrics.Gauge<Long>) () -> host.hibernationCounts()[0]);
    env.metrics().register("flotilla.ranges.woken", (com.codahale.metrics.Gauge<Long>) () -> host.hibernationCounts()[1]);
    env.metrics().register("flotilla.ranges.woken_electing", (com.codahale.metrics.Gauge<Long>) () -> host.hibernationCounts()[2]);
    // The JIT's cumulative compile time: a node is warm once it stops growing (bench compare waits for that).
    java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
    if (jit != null && jit.isCompilationTimeMonitoringSupported()) {
      env.metrics().register("jvm.compilation.time_ms", (com.codahale.metrics.Gauge<Long>) jit::getTotalCompilationTime);
    }
    NodeStats stats = new NodeStats(host);
    Async async = new Async(Duration.ofMillis(node.requestTimeout.toMilliseconds()), env.metrics());
    KvResource kv = new KvResource(keys, node.limits, async, clock, env.getObjectMapper(), self.id());
    env.jersey().register(kv);
    long drainBound = 4L * Math.max(node.limits.maxValueBytes, node.limits.maxBatchBytes);
    // Registered first: who the caller is, and whether it may, comes before anything else.
    if (node.auth.enabled) {
      io.flotilla.api.auth.AuthFilter auth = new io.flotilla.api.auth.AuthFilter(
          io.flotilla.api.auth.Tokens.of(node.auth), env.getObjectMapper(), env.metrics());
      env.servlets().addFilter("auth", auth)
          .addMappingForUrlPatterns(java.util.EnumSet.of(jakarta.servlet.DispatcherType.REQUEST), true, "/*");
      env.admin().addFilter("auth", auth)
          .addMappingForUrlPatterns(java.util.EnumSet.of(jakarta.servlet.DispatcherType.REQUEST), true, "/*");
    }
    // Then: a request over its client's rate, or too large for the node to read now, is
    // refused before anything reads it.
    if (node.limits.clientRequestsPerSecond > 0) {
      env.servlets().addFilter("client-rate-limit", new io.flotilla.api.resources.ClientRateLimit(
          node.limits.clientRequestsPerSecond, node.limits.clientBurstRequests(), System::nanoTime,
          env.getObjectMapper(), env.metrics()))
          .addMappingForUrlPatterns(java.util.EnumSet.of(jakarta.servlet.DispatcherType.REQUEST), true, "/*");
    }
    env.servlets().addFilter("body-budget", new io.flotilla.api.resources.BodyBudget(node.limits.bodyBytesInFlight(),
        Math.max(node.limits.maxValueBytes, node.limits.maxBatchBytes), env.getObjectMapper(), env.metrics()))
        .addMappingForUrlPatterns(java.util.EnumSet.of(jakarta.servlet.DispatcherType.REQUEST), true, "/*");
    env.servlets().addFilter("kv-fast-path", new io.flotilla.api.resources.KvFastPath(kv, env.getObjectMapper(),
        drainBound, env.metrics())).addMappingForUrlPatterns(java.util.EnumSet.of(jakarta.servlet.DispatcherType.REQUEST), true,
        "/v1/kv/*");
    env.jersey().register(new BatchResource(keys, node.limits, async, env.getObjectMapper()));
    java.util.concurrent.ExecutorService adminExecutor = env.lifecycle().executorService("range-admin-%d")
        .minThreads(4).maxThreads(4).build();
    RangeOperations rangeOps = new RangeOperations(host, replicaReader, peers, resolver, clock, adminExecutor,
        node.requestTimeout.toMilliseconds() / 2, replicas);
    OperationLog operationLog = new OperationLog(self.id(), clock, engine, env.getObjectMapper());
    io.flotilla.api.service.ConsistencyChecks consistency = new io.flotilla.api.service.ConsistencyChecks(host, rangeOps,
        Duration.ofMillis(node.consistencyCheckInterval.toMilliseconds()), env.metrics());
    env.lifecycle().manage(consistency);
    long repairAfter = node.membershipRepairAfter.toMilliseconds();
    if (repairAfter != 0 && repairAfter <= 3 * node.requestTimeout.toMilliseconds()) {
      throw new IllegalArgumentException("membershipRepairAfter (" + node.membershipRepairAfter + ") must be longer "
          + "than three times requestTimeout (" + node.requestTimeout + "), or 0s to turn it off: a replica change "
          + "may take up to about that long between its two steps");
    }
    env.lifecycle().manage(new io.flotilla.api.service.MembershipRepair(host, rangeOps, operationLog, clock,
        Duration.ofMillis(repairAfter), env.metrics()));
    node.failpoints.stream().filter(f -> f.startsWith(io.flotilla.api.service.RangeOperations.STOP_AFTER_RAFT_CHANGE))
        .forEach(f -> rangeOps.stopReplicaChangesAfterRaftStepForTests(
            f.substring(io.flotilla.api.service.RangeOperations.STOP_AFTER_RAFT_CHANGE.length())));
    env.jersey().register(new AdminResource(host, replicaReader, stats, http, env.getObjectMapper(), async,
        node.limits.maxKeyBytes, replicas, rangeOps, operationLog, pd, consistency,
        node.requestTimeout.toMilliseconds() / 2));
    env.jersey().register(new OpsResource(host, started::get, env.metrics(), keys.rangeMetrics()));
    long abandonedMerge = node.placement.abandonedMergeAfter.toMilliseconds();
    if (abandonedMerge != 0 && abandonedMerge <= node.requestTimeout.toMilliseconds()) {
      throw new IllegalArgumentException("placement.abandonedMergeAfter (" + node.placement.abandonedMergeAfter
          + ") must be longer than requestTimeout (" + node.requestTimeout + "), or 0 to turn it off: "
          + "a merge waits up to half a request timeout for its freeze");
    }
    io.flotilla.api.service.PlacementController placement = new io.flotilla.api.service.PlacementController(host, pd,
        pdMachine::get, rangeOps, peers, new io.flotilla.pd.Planner(node.placement.toConfig(replicas)), clock,
        Duration.ofMillis(node.placement.interval.toMilliseconds()),
        Duration.ofMillis(node.placement.nodeDownAfter.toMilliseconds()),
        Duration.ofMillis(node.placement.operatorTimeout.toMilliseconds()),
        Duration.ofMillis(node.placement.abandonedMergeAfter.toMilliseconds()), node.placement.enabled);
    placementRef.set(placement);
    env.lifecycle().manage(placement);
    env.jersey().register(new InternalResource(host, stats, placement, pd, pdMachine::get, replicas, operationLog));
    if (node.failpoints.contains("corrupt-local-replica-for-tests")) {
      env.jersey().register(new io.flotilla.api.resources.CorruptionResource(engine));
    }
    if (node.clockSkewForTests) {
      env.jersey().register(new io.flotilla.api.resources.ClockResource(clock));
    }
    ErrorMappers.all().forEach(env.jersey()::register);
    env.jersey().register(new io.flotilla.api.resources.BodyDrain(drainBound));
    env.jersey().register(new io.flotilla.api.resources.ByteStringBodies());
    env.healthChecks().register("ranges-have-leaders", new com.codahale.metrics.health.HealthCheck() {
      @Override
      protected Result check() {
        return host.everyLocalRangeHasLeader() ? Result.healthy() : Result.unhealthy("a local range has no leader");
      }
    });
  }

  /**
   * Best effort: whatever goes wrong handing leaderships over, the node still closes its Raft
   * server and engine (an interrupt during the handoff is cleared, so that their waits for
   * work in progress are not cut short).
   */
  private static void handOffLeaderships(NodeHost host, io.flotilla.api.service.PdClient pd, Duration budget,
      java.util.function.Predicate<String> stopping) {
    try {
      io.flotilla.api.service.LeadershipHandoff.run(host, pd, budget, stopping);
    } catch (RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(FlotillaApplication.class).warn("node {}: handing leaderships over failed: {}",
          host.self().id(), e.toString());
    }
    if (Thread.interrupted()) {
      org.slf4j.LoggerFactory.getLogger(FlotillaApplication.class).info(
          "node {}: interrupted while handing leaderships over; closing all the same", host.self().id());
    }
  }

  /**
   * Turns off two Ratis loggers whose ERROR lines alarm operators about nothing, unless the
   * node's {@code logging.loggers} names them by their full names (an operator who does wants
   * them; a parent such as {@code org.apache.ratis}, which generated configurations set to
   * WARN, does not count):
   * <ul>
   *   <li>{@code JmxRegister}: Ratis names a replica's JMX bean after the last 12 hex digits of
   *       its group id, which the placement driver's group and range 1's group share. It then
   *       registers the second bean under its fallback name, but first logs the clash with a
   *       stack trace on every start. Nothing here reads those beans (metrics go to
   *       {@code /metrics}).
   *   <li>{@code OrderedAsync}: Ratis's client logs every failed attempt of a write at ERROR,
   *       with a stack trace, also the ones it or Flotilla then retries to success, such as a
   *       leader stepping down for a leader transfer. The final outcome of every write reaches
   *       its caller (an error, or an outcome reported as unknown), and the range calls a node
   *       makes are counted by outcome in {@code flotilla_range_requests_total} (unless
   *       {@code perRangeMetrics} is {@code none}).
   * </ul>
   */
  static void quietRatisNoise(io.dropwizard.logging.common.LoggingFactory logging) {
    java.util.Set<String> configured = logging instanceof io.dropwizard.logging.common.DefaultLoggingFactory d
        ? d.getLoggers().keySet() : java.util.Set.of();
    for (String name : RATIS_NOISE) {
      if (!configured.contains(name)
          && org.slf4j.LoggerFactory.getLogger(name) instanceof ch.qos.logback.classic.Logger logger) {
        logger.setLevel(ch.qos.logback.classic.Level.OFF);
      }
    }
  }

  static final List<String> RATIS_NOISE = List.of("org.apache.ratis.util.JmxRegister",
      "org.apache.ratis.client.impl.OrderedAsync");
}
