package io.flotilla.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.flotilla.common.ClusterNode;
import io.flotilla.common.Keys;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.GetOp;
import io.flotilla.proto.PutOp;
import io.flotilla.proto.Query;
import io.flotilla.proto.QueryResult;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeState;
import io.flotilla.proto.Rejection;
import io.flotilla.client.RangeGroups;
import io.flotilla.statemachine.ColumnFamily;
import io.flotilla.statemachine.InMemoryKvEngine;
import io.flotilla.statemachine.MetaKeys;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A one-node Raft host over a real Ratis server and an in-memory engine: write, read, restart. */
class NodeHostTest {
  @TempDir
  Path dir;

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.9.1"))) {
      return s.getLocalPort();
    }
  }

  private static RaftSettings fast() {
    return new RaftSettings(Duration.ofMillis(150), Duration.ofMillis(300), 20, 1 << 20, Duration.ofSeconds(3), 20, 1 << 20, true, true, Duration.ZERO);
  }

  private static CommandResult put(NodeHost host, String key, String value) throws Exception {
    RangeDescriptor range = host.routing().lookup(Keys.utf8(key));
    return host.client(range).write(Command.newBuilder().setRangeId(range.getId()).setEpoch(range.getEpoch())
        .setProposedAtMillis(System.currentTimeMillis())
        .setPut(PutOp.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(value)))
        .build()).get(30, TimeUnit.SECONDS);
  }

  private static QueryResult get(NodeHost host, String key) throws Exception {
    RangeDescriptor range = host.routing().lookup(Keys.utf8(key));
    return host.client(range).read(Query.newBuilder().setRangeId(range.getId()).setEpoch(range.getEpoch())
        .setNowMillis(System.currentTimeMillis()).setGet(GetOp.newBuilder().setKey(ByteString.copyFromUtf8(key)))
        .build()).get(30, TimeUnit.SECONDS);
  }

  @Test
  void aRestartedHostRecoversEveryGroupAndResumesRevisionsWhereTheyStopped() throws Exception {
    InMemoryKvEngine engine = new InMemoryKvEngine();
    ClusterNode self = new ClusterNode("n1", "http://127.0.9.1:1", "127.0.9.1:" + freePort());
    long revisionBefore;
    try (NodeHost host = new NodeHost(self, List.of(self), engine, dir.toFile(), fast(), (n, r) -> {
      throw new IOException("no peers to fetch snapshots from");
    })) {
      host.start(List.of("m"), 3);
      assertEquals(2, host.routing().all().size());
      for (int i = 0; i < 50; i++) { // more than the snapshot threshold: the log gets purged
        CommandResult r = put(host, "a" + i, "v" + i);
        assertTrue(r.hasPut(), r::toString);
      }
      revisionBefore = put(host, "z", "last").getRevision();
      assertEquals("v7", get(host, "a7").getGet().getKv().getValue().toStringUtf8());
    }
    try (NodeHost again = new NodeHost(self, List.of(self), engine, dir.toFile(), fast(), (n, r) -> {
      throw new IOException("no peers to fetch snapshots from");
    })) {
      again.start(List.of("m"), 3);
      assertEquals(2, again.hostedRanges().size(), "both groups were recovered from their directories");
      assertEquals("v49", get(again, "a49").getGet().getKv().getValue().toStringUtf8());
      CommandResult next = put(again, "z", "after restart");
      assertEquals(revisionBefore + 1, next.getRevision(), "no entry was applied twice and none was lost");
      assertEquals(next.getRevision(), next.getPut().getVersion());
    }
  }

  /**
   * A copy of an applied write reaching the leader after it forgot the call (the client's next
   * request listed it as answered, or the node restarted) is not applied a second time: the
   * register keeps the later value. Regression for the chaos run where a put delayed by a
   * partition was applied again seconds after it was acknowledged.
   */
  @Test
  void aCopyOfAnAppliedWriteIsNotAppliedAgainOnceTheLeaderForgotTheCall() throws Exception {
    InMemoryKvEngine engine = new InMemoryKvEngine();
    ClusterNode self = new ClusterNode("n1", "http://127.0.9.1:1", "127.0.9.1:" + freePort());
    ClientId client = ClientId.randomId();
    Command old = putCommand("k", "old");
    try (NodeHost host = new NodeHost(self, List.of(self), engine, dir.toFile(), fast(), (n, r) -> {
      throw new IOException("no peers to fetch snapshots from");
    })) {
      host.start(List.of("m"), 3);
      awaitReadyLeader(host, "k");
      RaftClientReply first = submit(host, client, 7, old, List.of());
      assertTrue(first.isSuccess(), first::toString);
      assertTrue(put(host, "k", "new").hasPut());
      RaftClientReply copy = submit(host, client, 7, old, List.of(7L)); // "7 was answered": out of the retry cache
      assertTrue(copy.isSuccess(), copy::toString);
      assertEquals(first.getMessage().getContent(), copy.getMessage().getContent(),
          "the copy is answered with the first application's result");
      assertEquals("new", get(host, "k").getGet().getKv().getValue().toStringUtf8());
    }
    try (NodeHost again = new NodeHost(self, List.of(self), engine, dir.toFile(), fast(), (n, r) -> {
      throw new IOException("no peers to fetch snapshots from");
    })) {
      again.start(List.of("m"), 3);
      awaitReadyLeader(again, "k");
      RaftClientReply copy = submit(again, client, 7, old, List.of());
      CommandResult answer = CommandResult.parseFrom(copy.getMessage().getContent().toByteArray());
      assertEquals(Rejection.Reason.DUPLICATE, answer.getRejected().getReason(),
          "after a restart the table still knows the call; only its result is gone");
      assertEquals("new", get(again, "k").getGet().getKv().getValue().toStringUtf8());
      RaftClientReply next = submit(again, client, 8, putCommand("k", "newest"), List.of());
      assertTrue(CommandResult.parseFrom(next.getMessage().getContent().toByteArray()).hasPut(),
          "the client's next call applies");
      assertEquals("newest", get(again, "k").getGet().getKv().getValue().toStringUtf8());
    }
  }

  /**
   * A range client stamps each write with its writer id and number, the same on every send: a
   * write its leader answered "stepping down" (perhaps a copy of one in the log already) goes
   * again under a new Raft call, perhaps through a new Raft client. The range takes it as the
   * first request: answered with its result if it applied, applied once if it did not.
   */
  @Test
  void aWriteSentAgainUnderANewCallWithItsWriterAndNumberAppliesOnce() throws Exception {
    InMemoryKvEngine engine = new InMemoryKvEngine();
    ClusterNode self = new ClusterNode("n1", "http://127.0.9.1:1", "127.0.9.1:" + freePort());
    ByteString writer = ByteString.copyFromUtf8("writer-of-test-1");
    try (NodeHost host = new NodeHost(self, List.of(self), engine, dir.toFile(), fast(), (n, r) -> {
      throw new IOException("no peers to fetch snapshots from");
    })) {
      host.start(List.of("m"), 3);
      awaitReadyLeader(host, "k");
      Command old = putCommand("k", "old").toBuilder().setWriter(writer).setWriteSeq(7).build();
      RaftClientReply first = submit(host, ClientId.randomId(), 7, old, List.of());
      assertTrue(first.isSuccess(), first::toString);
      assertTrue(put(host, "k", "new").hasPut());
      RaftClientReply resent = submit(host, ClientId.randomId(), 3, old, List.of()); // another Raft client and call
      assertEquals(first.getMessage().getContent(), resent.getMessage().getContent(),
          "answered with the first send's result");
      assertEquals("new", get(host, "k").getGet().getKv().getValue().toStringUtf8(), "and not applied again");

      Command once = putCommand("j", "once").toBuilder().setWriter(writer).setWriteSeq(8).build();
      RaftClientReply applied = submit(host, ClientId.randomId(), 12, once, List.of());
      assertTrue(CommandResult.parseFrom(applied.getMessage().getContent().toByteArray()).hasPut(),
          "a write whose earlier send never reached the log applies");
      RaftClientReply copy = submit(host, ClientId.randomId(), 13, once, List.of());
      assertEquals(applied.getMessage().getContent(), copy.getMessage().getContent(), "once");
    }
  }

  /**
   * A write to a range the node leads goes to its own server in-process, under the node's own
   * Raft client id (the range's applied-calls record lists it), and applies once.
   */
  @Test
  void aWriteToARangeTheNodeLeadsIsProposedInProcess() throws Exception {
    InMemoryKvEngine engine = new InMemoryKvEngine();
    try (NodeHost host = startedAlone(engine)) {
      awaitReadyLeader(host, "k");
      RangeDescriptor range = range(host, "k");
      long revision = host.replica(range.getId()).orElseThrow().revision();
      CommandResult written = host.write(range, routed(host, putCommand("k", "v1"))).get(30, TimeUnit.SECONDS);
      assertTrue(written.hasPut(), written::toString);
      assertEquals(revision + 1, written.getRevision(), "applied once");
      assertEquals("v1", get(host, "k").getGet().getKv().getValue().toStringUtf8());
      RangeState state = RangeState.parseFrom(engine.get(ColumnFamily.META, MetaKeys.state(range.getId())));
      ByteString writer = ByteString.copyFrom(host.localWriter().toByteString().toByteArray());
      assertTrue(state.getClientsList().stream().anyMatch(c -> c.getClientId().equals(writer)),
          "the write came from the node's in-process writer: " + state.getClientsList());
    }
  }

  /**
   * A request to drop this node's replica that carries a configuration older than the one the
   * node holds, which lists it (the replica moved away and back since), is refused and leaves
   * the replica and its data; one at a newer configuration that no longer lists the node drops it.
   */
  @Test
  void aLateDropOfAReplicaThatMovedBackIsRefused() throws Exception {
    InMemoryKvEngine engine = new InMemoryKvEngine();
    try (NodeHost host = startedAlone(engine)) {
      awaitReadyLeader(host, "k");
      assertTrue(put(host, "k", "kept").hasPut());
      RangeDescriptor range = range(host, "k");
      RangeDescriptor elsewhere = range.toBuilder().clearReplicas().addReplicas("n9").build();

      RangeDescriptor late = elsewhere.toBuilder()
          .setEpoch(range.getEpoch().toBuilder().setConf(range.getEpoch().getConf() - 1)).build();
      IllegalStateException refused = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
          () -> host.removeReplica(range.getId(), late));
      assertTrue(refused.getMessage().contains("newer"), refused.getMessage());
      assertTrue(host.replica(range.getId()).isPresent(), "the replica was kept");
      assertEquals("kept", get(host, "k").getGet().getKv().getValue().toStringUtf8());

      RangeDescriptor moved = elsewhere.toBuilder()
          .setEpoch(range.getEpoch().toBuilder().setConf(range.getEpoch().getConf() + 1)).build();
      host.removeReplica(range.getId(), moved);
      assertFalse(host.replica(range.getId()).isPresent(), "a drop at a newer configuration removes the replica");
      org.junit.jupiter.api.Assertions.assertNull(engine.get(ColumnFamily.META, MetaKeys.descriptor(range.getId())));
    }
  }

  /**
   * The fate of a call the replica appended and then lost the lead over is told by the entry
   * committed at its index: the same term and index is the call itself (its result), another
   * entry there means the call was dropped. A caller that asks before the replica applied that
   * far waits.
   */
  @Test
  void theFateOfAnAppendedCallIsTheEntryCommittedAtItsIndex() throws Exception {
    try (NodeHost host = startedAlone(new InMemoryKvEngine())) {
      awaitReadyLeader(host, "k");
      RangeStateMachine replica = host.replica(range(host, "k").getId()).orElseThrow();
      long term = host.division(range(host, "k").getId()).orElseThrow().getCurrentTerm();
      RaftClientReply applied = submit(host, host.localWriter(), 1000, putCommand("k", "a"), List.of());
      assertTrue(applied.isSuccess(), applied::toString);
      TermIndex at = TermIndex.valueOf(term, applied.getLogIndex());

      RangeStateMachine.LocalFate fate = replica.fateOf(1000, at).get(5, TimeUnit.SECONDS);
      assertEquals(applied.getMessage().getContent(), fate.reply().getContent(), "the call applied: its result");
      assertTrue(replica.fateOf(1001, TermIndex.valueOf(term + 1, at.getIndex())).get(5, TimeUnit.SECONDS).dropped(),
          "another entry holds that index: dropped");

      TermIndex next = TermIndex.valueOf(term, at.getIndex() + 1);
      java.util.concurrent.CompletableFuture<RangeStateMachine.LocalFate> waiting = replica.fateOf(1002, next);
      java.util.concurrent.CompletableFuture<RangeStateMachine.LocalFate> other =
          replica.fateOf(1003, TermIndex.valueOf(term + 1, at.getIndex() + 1));
      assertFalse(waiting.isDone(), "that index is not applied yet");
      RaftClientReply later = submit(host, host.localWriter(), 1002, putCommand("k", "b"), List.of());
      assertEquals(next.getIndex(), later.getLogIndex());
      assertEquals(later.getMessage().getContent(), waiting.get(5, TimeUnit.SECONDS).reply().getContent());
      assertTrue(other.get(5, TimeUnit.SECONDS).dropped());
    }
  }

  /**
   * A call the replica refuses before it enters the log (no leader here: one of the range's two
   * replicas is down) goes the other way, once: nothing can apply the refused one.
   */
  @Test
  void aCallRefusedBeforeItEnteredTheLogGoesTheOtherWay() throws Exception {
    ClusterNode self = new ClusterNode("n1", "http://127.0.9.1:1", "127.0.9.1:" + freePort());
    ClusterNode absent = new ClusterNode("n2", "http://127.0.9.2:1", "127.0.9.2:" + freePort());
    try (NodeHost host = new NodeHost(self, List.of(self, absent), new InMemoryKvEngine(), dir.toFile(), fast(),
        (n, r) -> {
          throw new IOException("no peers to fetch snapshots from");
        })) {
      host.start(List.of(), 3);
      RangeDescriptor range = host.routing().all().get(0);
      RangeStateMachine replica = host.replica(range.getId()).orElseThrow();
      CommandResult elsewhere = CommandResult.newBuilder().setRevision(-1).build();
      java.util.concurrent.atomic.AtomicInteger otherWay = new java.util.concurrent.atomic.AtomicInteger();
      CommandResult answer = host.localWrites().write(replica, RangeGroups.groupId(range.getId()),
          putCommand("k", "v").toBuilder().setRangeId(range.getId()).setEpoch(range.getEpoch()).build(), () -> {
            otherWay.incrementAndGet();
            return java.util.concurrent.CompletableFuture.completedFuture(elsewhere);
          }).get(30, TimeUnit.SECONDS);
      assertEquals(elsewhere, answer);
      assertEquals(1, otherWay.get());
      assertEquals(0, replica.revision(), "nothing applied");
    }
  }

  /**
   * Waits until the replica of the key's range leads and is ready: it committed its first
   * entry of the term. Until then Ratis refuses writes before appending them (a read may be
   * answered a moment earlier, so a successful read is not enough).
   */
  private static void awaitReadyLeader(NodeHost host, String key) throws Exception {
    long rangeId = range(host, key).getId();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!host.division(rangeId).map(d -> d.isLeader() && d.isLeaderReady()).orElse(false)) {
      assertTrue(System.nanoTime() < deadline, "range " + rangeId + " has no ready leader after 30 s");
      Thread.sleep(20);
    }
  }

  /** A started one-node host with two ranges (split at "m") over {@code engine}. */
  private NodeHost startedAlone(InMemoryKvEngine engine) throws IOException {
    ClusterNode self = new ClusterNode("n1", "http://127.0.9.1:1", "127.0.9.1:" + freePort());
    // Election timeouts of 1-2 s: a one-node leader does not step down over a pause of a loaded machine.
    RaftSettings steady = new RaftSettings(Duration.ofSeconds(1), Duration.ofSeconds(2), 20, 1 << 20,
        Duration.ofSeconds(3), 20, 1 << 20, true, true, Duration.ZERO);
    NodeHost host = new NodeHost(self, List.of(self), engine, dir.toFile(), steady, (n, r) -> {
      throw new IOException("no peers to fetch snapshots from");
    });
    try {
      host.start(List.of("m"), 3);
      return host;
    } catch (IOException | RuntimeException e) {
      host.close();
      throw e;
    }
  }

  private static Command routed(NodeHost host, Command command) {
    RangeDescriptor range = range(host, command.getPut().getKey().toStringUtf8());
    return command.toBuilder().setRangeId(range.getId()).setEpoch(range.getEpoch()).build();
  }

  private static RangeDescriptor range(NodeHost host, String key) {
    return host.routing().lookup(Keys.utf8(key));
  }

  private static Command putCommand(String key, String value) {
    return Command.newBuilder().setProposedAtMillis(System.currentTimeMillis())
        .setPut(PutOp.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(value)))
        .build();
  }

  /** Hands the leader a write as a Ratis client would send it, with the given call ids. */
  private static RaftClientReply submit(NodeHost host, ClientId client, long callId, Command command,
      List<Long> answered) throws Exception {
    RangeDescriptor range = range(host, command.getPut().getKey().toStringUtf8());
    Command routed = routed(host, command);
    RaftClientRequest request = RaftClientRequest.newBuilder().setClientId(client)
        .setServerId(host.raftServer().getId()).setGroupId(RangeGroups.groupId(range.getId())).setCallId(callId)
        .setRepliedCallIds(answered).setMessage(Message.valueOf(UnsafeByteOperations.unsafeWrap(routed.toByteArray())))
        .setType(RaftClientRequest.writeRequestType()).build();
    return host.raftServer().submitClientRequestAsync(request).get(30, TimeUnit.SECONDS);
  }
}
