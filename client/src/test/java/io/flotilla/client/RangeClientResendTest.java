package io.flotilla.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.flotilla.proto.Command;
import io.flotilla.proto.PutOp;
import io.flotilla.proto.RangeEpoch;
import org.junit.jupiter.api.Test;

/** The bytes a range client sends again after a "stepping down" answer. */
class RangeClientResendTest {
  @Test
  void aResendIsTheCommandNamingItsFirstCall() throws Exception {
    Command command = Command.newBuilder().setRangeId(4).setEpoch(RangeEpoch.newBuilder().setVersion(3).setConf(2))
        .setProposedAtMillis(1234).setPut(PutOp.newBuilder().setKey(ByteString.copyFromUtf8("k"))
            .setValue(ByteString.copyFromUtf8("v")))
        .build();
    byte[] once = RangeClient.resendOf(command.toByteArray(), 41);
    assertEquals(command.toBuilder().setResendOfCall(41).build(), Command.parseFrom(once));
  }
}
