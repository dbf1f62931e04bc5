package io.flotilla.raft;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.flotilla.client.Completions;
import io.flotilla.common.ClusterNode;
import io.flotilla.common.FlotillaException;
import io.flotilla.proto.ForwardedWriteReplies;
import io.flotilla.proto.ForwardedWriteReply;
import io.flotilla.proto.ForwardedWrites;
import io.flotilla.proto.SleepReply;
import io.flotilla.proto.SleepRequest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.ratis.grpc.server.GrpcServices;
import org.apache.ratis.thirdparty.io.grpc.CallOptions;
import org.apache.ratis.thirdparty.io.grpc.ClientStreamTracer;
import org.apache.ratis.thirdparty.io.grpc.Context;
import org.apache.ratis.thirdparty.io.grpc.ManagedChannel;
import org.apache.ratis.thirdparty.io.grpc.Metadata;
import org.apache.ratis.thirdparty.io.grpc.MethodDescriptor;
import org.apache.ratis.thirdparty.io.grpc.ServerInterceptor;
import org.apache.ratis.thirdparty.io.grpc.ServerServiceDefinition;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyChannelBuilder;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyServerBuilder;
import org.apache.ratis.thirdparty.io.grpc.stub.ClientCalls;
import org.apache.ratis.thirdparty.io.grpc.stub.ServerCalls;
import org.apache.ratis.thirdparty.io.grpc.stub.StreamObserver;

/**
 * Carries single-key writes from the node that received them to the node that leads their
 * range: a gRPC service added to the node's Raft port, and one long-lived channel per peer.
 *
 * <p>The caller learns which of three things happened: the leader's node answered (a result,
 * a refusal, or a failure it saw); the write never left this node, because no connection to
 * the peer could be had (reported as {@code declined}, safe to send another way); or it left
 * and no answer came back, an unknown outcome, since the peer may have proposed it.
 *
 * <p>The same service carries a leader's requests that its followers put an idle range to sleep
 * ({@link Hibernation}), and the server it is added to gets the interceptor that wakes them.
 */
public final class WriteForwarding implements AutoCloseable {
  static final String SERVICE = "flotilla.NodeLink";

  /** Serves writes forwarded to this node. */
  @FunctionalInterface
  public interface Handler {
    /** Completes with one reply per write, in order. */
    CompletableFuture<ForwardedWriteReplies> handle(ForwardedWrites writes);
  }

  private static final MethodDescriptor<ForwardedWrites, ForwardedWriteReplies> WRITE =
      MethodDescriptor.<ForwardedWrites, ForwardedWriteReplies>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Write"))
          .setRequestMarshaller(new ProtoMarshaller<>(ForwardedWrites.parser()))
          .setResponseMarshaller(new ProtoMarshaller<>(ForwardedWriteReplies.parser()))
          .build();

  /** Serves a peer's request to put this node's replica of a range to sleep ({@link Hibernation}). */
  @FunctionalInterface
  interface SleepHandler {
    CompletableFuture<SleepReply> handle(SleepRequest request);
  }

  private static final MethodDescriptor<SleepRequest, SleepReply> SLEEP =
      MethodDescriptor.<SleepRequest, SleepReply>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Sleep"))
          .setRequestMarshaller(new ProtoMarshaller<>(SleepRequest.parser()))
          .setResponseMarshaller(new ProtoMarshaller<>(SleepReply.parser()))
          .build();

  private static final Handler NOT_YET = w -> CompletableFuture.completedFuture(
      declined(w.getWritesCount(), "this node does not serve forwarded writes yet"));
  private static final Handler STOPPED = w -> CompletableFuture.completedFuture(
      declined(w.getWritesCount(), "this node is shutting down"));
  /** Replies come from trusted peers; a reply to 256 writes refused with long range bounds can be large. */
  private static final int MIN_INBOUND_BYTES = 64 << 20;

  private final Function<String, Optional<ClusterNode>> nodes;
  private final int maxMessageBytes;
  /** The client side of mutual TLS to peers, or null (plaintext). */
  private final org.apache.ratis.thirdparty.io.netty.handler.ssl.SslContext tls;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private volatile Handler handler = NOT_YET;
  private volatile SleepHandler sleeper = r -> CompletableFuture.completedFuture(
      SleepReply.newBuilder().setReason("this node does not hibernate ranges yet").build());
  private volatile boolean closed;

  /**
   * @param nodes the cluster's nodes by id (for a peer's Raft address)
   * @param maxMessageBytes the largest reply a peer may send (at least 64 MiB is accepted)
   */
  WriteForwarding(Function<String, Optional<ClusterNode>> nodes, int maxMessageBytes) {
    this(nodes, maxMessageBytes, null);
  }

  /** @param tls the node's identity for mutual TLS to its peers' Raft ports, or null (plaintext) */
  WriteForwarding(Function<String, Optional<ClusterNode>> nodes, int maxMessageBytes, io.flotilla.common.NodeTls tls) {
    this.nodes = nodes;
    this.maxMessageBytes = Math.max(maxMessageBytes, MIN_INBOUND_BYTES);
    try {
      this.tls = tls == null ? null : org.apache.ratis.thirdparty.io.grpc.netty.GrpcSslContexts.forClient()
          .keyManager(tls.keyManager()).trustManager(tls.trustManager()).build();
    } catch (javax.net.ssl.SSLException e) {
      throw new IllegalArgumentException("cannot use the node's TLS identity for forwarding: " + e.getMessage(), e);
    }
  }

  /**
   * Adds the service to the builder of the server that listens on the Raft (server) port.
   *
   * @param onEventLoop run that server's handlers on its network threads (see
   *     {@link RaftSettings#rpcOnEventLoop()}); this service's own handler only queues the writes
   * @param wake sees every message arriving on the node's Raft ports first (it opens the
   *     division of a sleeping range the message is for: {@link Hibernation})
   */
  GrpcServices.Customizer customizer(boolean onEventLoop, ServerInterceptor wake) {
    return (NettyServerBuilder builder, EnumSet<GrpcServices.Type> types) -> {
      builder.intercept(wake);
      if (!types.contains(GrpcServices.Type.SERVER)) {
        return builder;
      }
      if (onEventLoop) {
        builder.directExecutor();
      }
      return (NettyServerBuilder) builder.addService(service());
    };
  }

  void serveWith(Handler h) {
    this.handler = h;
  }

  void sleepWith(SleepHandler h) {
    this.sleeper = h;
  }

  /** From now on declines every forwarded write (nothing is proposed): the node is stopping. */
  void stopServing() {
    this.handler = STOPPED;
  }

  private ServerServiceDefinition service() {
    return ServerServiceDefinition.builder(SERVICE)
        .addMethod(WRITE, ServerCalls.asyncUnaryCall(this::serve))
        .addMethod(SLEEP, ServerCalls.asyncUnaryCall(this::serveSleep))
        .build();
  }

  private void serveSleep(SleepRequest request, StreamObserver<SleepReply> answer) {
    CompletableFuture<SleepReply> reply;
    try {
      reply = sleeper.handle(request);
    } catch (RuntimeException e) {
      reply = CompletableFuture.failedFuture(e);
    }
    reply.whenComplete((r, error) -> {
      answer.onNext(error == null ? r : SleepReply.newBuilder().setReason("failed: " + error).build());
      answer.onCompleted();
    });
  }

  /** Asks node {@code nodeId} to put its replica of a range to sleep (or, in a dry run, whether it would). */
  CompletableFuture<SleepReply> askToSleep(String nodeId, SleepRequest request, long deadlineMillis) {
    CompletableFuture<SleepReply> result = new CompletableFuture<>();
    try {
      ClientCalls.asyncUnaryCall(channel(nodeId).newCall(SLEEP,
          CallOptions.DEFAULT.withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS)), request, new StreamObserver<>() {
            @Override
            public void onNext(SleepReply reply) {
              result.complete(reply);
            }

            @Override
            public void onError(Throwable t) {
              result.complete(SleepReply.newBuilder().setReason("node " + nodeId + ": " + Status.fromThrowable(t)).build());
            }

            @Override
            public void onCompleted() {
              result.complete(SleepReply.newBuilder().setReason("node " + nodeId + " sent no reply").build());
            }
          });
    } catch (RuntimeException e) {
      result.complete(SleepReply.newBuilder().setReason("node " + nodeId + ": " + e).build());
    }
    return result;
  }

  private void serve(ForwardedWrites writes, StreamObserver<ForwardedWriteReplies> answer) {
    CompletableFuture<ForwardedWriteReplies> reply;
    try {
      // A call its sender gave up on already answered its callers "unknown": propose nothing.
      reply = Context.current().isCancelled()
          ? CompletableFuture.completedFuture(declined(writes.getWritesCount(), "the sender gave up"))
          : handler.handle(writes);
    } catch (RuntimeException e) {
      reply = CompletableFuture.failedFuture(e);
    }
    reply.whenComplete((r, error) -> {
      if (error != null || r == null) {
        answer.onError(Status.INTERNAL.withDescription("forwarded write failed: " + error).asRuntimeException());
      } else {
        answer.onNext(r);
        answer.onCompleted();
      }
    });
  }

  /**
   * Sends {@code writes} to node {@code nodeId}. Completes with the node's replies, or with
   * {@code declined} ones when the writes never left this node; fails with an unknown outcome
   * when they left and no reply came within {@code deadlineMillis}.
   */
  CompletableFuture<ForwardedWriteReplies> forward(String nodeId, ForwardedWrites writes, long deadlineMillis) {
    int n = writes.getWritesCount();
    ManagedChannel channel;
    try {
      channel = channel(nodeId);
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(declined(n, "no channel to node " + nodeId + ": " + e.getMessage()));
    }
    SentFlag sent = new SentFlag();
    CompletableFuture<ForwardedWriteReplies> result = new CompletableFuture<>();
    CallOptions options = CallOptions.DEFAULT.withStreamTracerFactory(sent)
        .withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS);
    try {
      ClientCalls.asyncUnaryCall(channel.newCall(WRITE, options), writes, new StreamObserver<>() {
        @Override
        public void onNext(ForwardedWriteReplies reply) {
          result.complete(reply);
        }

        @Override
        public void onError(Throwable t) {
          // UNIMPLEMENTED: a peer without this service (an older version) refused the call unread.
          if (sent.sent && Status.fromThrowable(t).getCode() != Status.Code.UNIMPLEMENTED) {
            result.completeExceptionally(FlotillaException.outcomeUnknown("the write forwarded to node " + nodeId, t));
          } else {
            result.complete(declined(n, "could not reach node " + nodeId + ": " + Status.fromThrowable(t)));
          }
        }

        @Override
        public void onCompleted() {
          if (!result.isDone()) {
            result.completeExceptionally(FlotillaException.outcomeUnknown("the write forwarded to node " + nodeId,
                new IOException("the call ended without a reply")));
          }
        }
      });
    } catch (RuntimeException e) {
      return sent.sent ? CompletableFuture.failedFuture(FlotillaException.outcomeUnknown("the write forwarded to node "
          + nodeId, e)) : CompletableFuture.completedFuture(declined(n, "forwarding to node " + nodeId
          + " failed to start: " + e));
    }
    return result;
  }

  private ManagedChannel channel(String nodeId) {
    if (closed) {
      throw new IllegalStateException("closed");
    }
    return channels.computeIfAbsent(nodeId, id -> {
      if (closed) {
        throw new IllegalStateException("closed");
      }
      ClusterNode node = nodes.apply(id).orElseThrow(() -> new IllegalArgumentException("unknown node " + id));
      int colon = node.raftAddress().lastIndexOf(':');
      NettyChannelBuilder b = NettyChannelBuilder.forAddress(node.raftAddress().substring(0, colon),
          Integer.parseInt(node.raftAddress().substring(colon + 1)));
      if (tls == null) {
        b.usePlaintext();
      } else {
        b.sslContext(tls);
      }
      return b
          // At most once: a call the peer may have processed is never resent by gRPC itself.
          .disableRetry()
          .disableServiceConfigLookUp()
          .maxInboundMessageSize(maxMessageBytes)
          .executor(Completions.EXECUTOR)
          .build();
    });
  }

  /** {@code n} writes declined for the same reason: none of them was proposed. */
  private static ForwardedWriteReplies declined(int n, String why) {
    ForwardedWriteReply one = ForwardedWriteReply.newBuilder().setDeclined(why).build();
    ForwardedWriteReplies.Builder all = ForwardedWriteReplies.newBuilder();
    for (int i = 0; i < n; i++) {
      all.addReplies(one);
    }
    return all.build();
  }

  @Override
  public void close() {
    closed = true;
    channels.values().forEach(ManagedChannel::shutdownNow);
    channels.clear();
  }

  /** Notes whether the call's message reached a transport stream, that is, may have been received. */
  private static final class SentFlag extends ClientStreamTracer.Factory {
    private volatile boolean sent;

    @Override
    public ClientStreamTracer newClientStreamTracer(ClientStreamTracer.StreamInfo info, Metadata headers) {
      return new ClientStreamTracer() {
        @Override
        public void outboundMessage(int seqNo) {
          sent = true;
        }
      };
    }
  }

  private record ProtoMarshaller<T extends MessageLite>(Parser<T> parser) implements MethodDescriptor.Marshaller<T> {
    @Override
    public InputStream stream(T value) {
      return new ByteArrayInputStream(value.toByteArray());
    }

    @Override
    public T parse(InputStream in) {
      try {
        return parser.parseFrom(in);
      } catch (InvalidProtocolBufferException e) {
        throw Status.INTERNAL.withDescription("malformed forwarded write message").withCause(e).asRuntimeException();
      }
    }
  }
}
