package io.flotilla.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import io.flotilla.statemachine.InMemoryKvEngine;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
    return new RaftSettings(Duration.ofMillis(150), Duration.ofMillis(300), 20, 1 << 20, Duration.ofSeconds(3), 20, 1 << 20, true);
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
}
