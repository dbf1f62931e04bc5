package io.flotilla.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.flotilla.common.ClusterNode;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.ForwardedWrite;
import io.flotilla.proto.ForwardedWriteReplies;
import io.flotilla.proto.ForwardedWriteReply;
import io.flotilla.proto.ForwardedWrites;
import io.flotilla.proto.PutOp;
import io.flotilla.proto.RangeDescriptor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.EnumSet;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.grpc.server.GrpcServices;
import org.apache.ratis.thirdparty.io.grpc.Server;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyServerBuilder;
import org.apache.ratis.thirdparty.io.netty.util.concurrent.FastThreadLocalThread;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Forwarded writes over a real gRPC server on loopback: answered, never sent, or lost. */
class WriteForwardingTest {
  private static final String HOST = "127.0.0.31";
  /** Long enough for a loaded machine to connect: a call still waiting for its connection when it expires was never sent. */
  private static final long DEADLINE_MILLIS = 10_000;

  private final WriteForwarding serving = new WriteForwarding(id -> Optional.empty(), 1 << 20);
  private Server server;
  private WriteForwarding sending;

  @AfterEach
  void stop() throws InterruptedException {
    if (sending != null) {
      sending.close();
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Lets every call through as it came (the node's interceptor wakes sleeping ranges). */
  private static final org.apache.ratis.thirdparty.io.grpc.ServerInterceptor PASS =
      new org.apache.ratis.thirdparty.io.grpc.ServerInterceptor() {
        @Override
        public <Q, A> org.apache.ratis.thirdparty.io.grpc.ServerCall.Listener<Q> interceptCall(
            org.apache.ratis.thirdparty.io.grpc.ServerCall<Q, A> call, org.apache.ratis.thirdparty.io.grpc.Metadata headers,
            org.apache.ratis.thirdparty.io.grpc.ServerCallHandler<Q, A> next) {
          return next.startCall(call, headers);
        }
      };

  private int start() throws IOException {
    return start(true);
  }

  private int start(boolean onEventLoop) throws IOException {
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(HOST, 0));
    server = serving.customizer(onEventLoop, PASS).customize(builder, EnumSet.of(GrpcServices.Type.SERVER)).build().start();
    return server.getPort();
  }

  private WriteForwarding sender(int port) {
    sending = new WriteForwarding(id -> id.equals("n2") ? Optional.of(new ClusterNode("n2", "http://unused", HOST + ":" + port))
        : Optional.empty(), 1 << 20);
    return sending;
  }

  private CompletableFuture<ForwardedWriteReplies> forward(int port, String node, ForwardedWrites writes) {
    return sender(port).forward(node, writes, DEADLINE_MILLIS);
  }

  private static ForwardedWrites puts(String... keys) {
    ForwardedWrites.Builder all = ForwardedWrites.newBuilder();
    for (String key : keys) {
      all.addWrites(put(key));
    }
    return all.build();
  }

  private static ForwardedWrite put(String key) {
    return ForwardedWrite.newBuilder().setRange(RangeDescriptor.newBuilder().setId(3))
        .setCommand(Command.newBuilder().setRangeId(3)
            .setPut(PutOp.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8("v"))))
        .build();
  }

  @Test
  void theLeadersReplyComesBackAsItWasSent() throws Exception {
    AtomicReference<ForwardedWrites> seen = new AtomicReference<>();
    serving.serveWith(w -> {
      seen.set(w);
      ForwardedWriteReplies.Builder replies = ForwardedWriteReplies.newBuilder();
      for (int i = 0; i < w.getWritesCount(); i++) {
        replies.addReplies(ForwardedWriteReply.newBuilder().setResult(CommandResult.newBuilder().setRevision(7 + i)));
      }
      return CompletableFuture.completedFuture(replies.build());
    });
    ForwardedWriteReplies replies = forward(start(), "n2", puts("k1", "k2")).get(5, TimeUnit.SECONDS);
    assertEquals(2, replies.getRepliesCount());
    assertEquals(7, replies.getReplies(0).getResult().getRevision());
    assertEquals(8, replies.getReplies(1).getResult().getRevision());
    assertEquals(puts("k1", "k2"), seen.get());
  }

  @Test
  void writesAreServedOnTheNetworkThreadsOnlyWhenAsked() throws Exception {
    for (boolean onEventLoop : new boolean[] {true, false}) {
      AtomicReference<Thread> servedOn = new AtomicReference<>();
      serving.serveWith(w -> {
        servedOn.set(Thread.currentThread());
        return CompletableFuture.completedFuture(ForwardedWriteReplies.newBuilder()
            .addReplies(ForwardedWriteReply.newBuilder().setResult(CommandResult.newBuilder().setRevision(1))).build());
      });
      assertEquals(1, forward(start(onEventLoop), "n2", puts("k1")).get(5, TimeUnit.SECONDS).getRepliesCount());
      // gRPC's network threads are netty's; its default executor's are plain threads.
      assertEquals(onEventLoop, servedOn.get() instanceof FastThreadLocalThread, servedOn.get().getName());
      stop();
      server = null;
      sending = null;
    }
  }

  @Test
  void aServerThatHasNoHandlerYetDeclines() throws Exception {
    assertAllDeclined(forward(start(), "n2", puts("k1", "k2")).get(5, TimeUnit.SECONDS), 2,
        "does not serve forwarded writes yet");
  }

  @Test
  void aWriteThatCannotLeaveIsDeclinedNotLost() throws Exception {
    int port = start();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server = null;
    assertAllDeclined(forward(port, "n2", puts("k1", "k2", "k3")).get(5, TimeUnit.SECONDS), 3,
        "could not reach node n2");
  }

  @Test
  void anUnknownNodeIsDeclined() throws Exception {
    assertAllDeclined(forward(start(), "n9", puts("k1")).get(5, TimeUnit.SECONDS), 1, "n9");
  }

  @Test
  void aWriteThatLeftAndFailedThereHasAnUnknownOutcome() throws Exception {
    serving.serveWith(w -> CompletableFuture.failedFuture(new IllegalStateException("boom")));
    assertUnknown(forward(start(), "n2", puts("k1")));
  }

  @Test
  void aWriteThatLeftAndWasNeverAnsweredHasAnUnknownOutcome() throws Exception {
    serving.serveWith(w -> w.getWrites(0).getCommand().getPut().getKey().toStringUtf8().equals("warm")
        ? CompletableFuture.completedFuture(ForwardedWriteReplies.newBuilder()
            .addReplies(ForwardedWriteReply.newBuilder().setResult(CommandResult.getDefaultInstance())).build())
        : new CompletableFuture<>());
    WriteForwarding sender = sender(start());
    // Connected first: a call whose deadline passes while it still waits for a connection was never sent.
    ForwardedWriteReplies warm = sender.forward("n2", puts("warm"), DEADLINE_MILLIS).get(10, TimeUnit.SECONDS);
    assertEquals(ForwardedWriteReply.OutcomeCase.RESULT, warm.getReplies(0).getOutcomeCase(), warm::toString);
    assertUnknown(sender.forward("n2", puts("k1"), 500));
  }

  @Test
  void aPeerWithoutTheServiceDeclinesUnread() throws Exception {
    server = NettyServerBuilder.forAddress(new InetSocketAddress(HOST, 0)).build().start();
    assertAllDeclined(forward(server.getPort(), "n2", puts("k1")).get(5, TimeUnit.SECONDS), 1, "UNIMPLEMENTED");
  }

  @Test
  void aStoppingNodeDeclinesWhatItHasNotProposed() throws Exception {
    serving.serveWith(w -> new CompletableFuture<>());
    serving.stopServing();
    assertAllDeclined(forward(start(), "n2", puts("k1", "k2")).get(5, TimeUnit.SECONDS), 2, "shutting down");
  }

  private static void assertAllDeclined(ForwardedWriteReplies replies, int n, String why) {
    assertEquals(n, replies.getRepliesCount(), replies::toString);
    for (ForwardedWriteReply reply : replies.getRepliesList()) {
      assertEquals(ForwardedWriteReply.OutcomeCase.DECLINED, reply.getOutcomeCase(), reply::toString);
      assertTrue(reply.getDeclined().contains(why), reply.getDeclined());
    }
  }

  private static void assertUnknown(CompletableFuture<ForwardedWriteReplies> forwarded) throws Exception {
    ExecutionException e = assertThrows(ExecutionException.class, () -> forwarded.get(5, TimeUnit.SECONDS));
    FlotillaException unknown = assertInstanceOf(FlotillaException.class, e.getCause());
    assertEquals(ErrorCode.TIMEOUT, unknown.code());
    assertTrue(unknown.getMessage().contains("outcome is unknown"), unknown.getMessage());
  }
}
