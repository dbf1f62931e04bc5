package io.flotilla.bench.jmh;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.PutResult;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * What a put costs in protobuf work on its way through the Raft log: the proposing node encodes
 * the command, every replica decodes it in apply, and the leader encodes the result.
 */
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CommandEncodingBench extends ShortRun {
  @Param({"1024"})
  int valueSize;

  private byte[] key;
  private byte[] value;
  private byte[] encoded;

  @Setup
  public void setUp() {
    key = BenchData.key(4242);
    value = BenchData.value(valueSize);
    encoded = BenchData.put(key, value).toByteArray();
  }

  @Benchmark
  public byte[] encodePut() {
    return BenchData.put(key, value).toByteArray();
  }

  @Benchmark
  public Command decodePut() throws InvalidProtocolBufferException {
    return Command.parseFrom(encoded);
  }

  @Benchmark
  public byte[] encodePutResult() {
    return CommandResult.newBuilder().setRevision(123_456).setPut(PutResult.newBuilder().setVersion(123_456))
        .build().toByteArray();
  }
}
