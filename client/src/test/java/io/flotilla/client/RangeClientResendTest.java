package io.flotilla.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.flotilla.proto.Command;
import io.flotilla.proto.PutOp;
import io.flotilla.proto.RangeEpoch;
import org.junit.jupiter.api.Test;

/** The bytes a range client sends: the command stamped with its writer id and write number. */
class RangeClientResendTest {
  @Test
  void aStampedCommandIsTheCommandNamingItsWriterAndNumber() throws Exception {
    Command command = Command.newBuilder().setRangeId(4).setEpoch(RangeEpoch.newBuilder().setVersion(3).setConf(2))
        .setProposedAtMillis(1234).setPut(PutOp.newBuilder().setKey(ByteString.copyFromUtf8("k"))
            .setValue(ByteString.copyFromUtf8("v".repeat(1000))))
        .build();
    ByteString writer = ByteString.copyFromUtf8("0123456789abcdef");
    byte[] stamped = RangeClient.stamp(command.toByteArray(), writer, Long.MAX_VALUE);
    assertEquals(command.toBuilder().setWriter(writer).setWriteSeq(Long.MAX_VALUE).build(), Command.parseFrom(stamped));
  }
}
