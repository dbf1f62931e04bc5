package io.flotilla.statemachine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeEpoch;
import io.flotilla.proto.RangeState;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RangeSnapshotsTest {
  private static RangeDescriptor range(String start, String end, long version) {
    return RangeDescriptor.newBuilder().setId(5).setStart(ByteString.copyFromUtf8(start))
        .setEnd(ByteString.copyFromUtf8(end)).setEpoch(RangeEpoch.newBuilder().setVersion(version)).build();
  }

  private static byte[] k(String s) {
    return KvEngineContract.k(s);
  }

  private static InMemoryKvEngine leader() {
    InMemoryKvEngine e = new InMemoryKvEngine();
    e.write(new Mutations()
        .put(ColumnFamily.META, MetaKeys.descriptor(5), range("c", "p", 2).toByteArray())
        .put(ColumnFamily.META, MetaKeys.state(5), RangeState.newBuilder().setAppliedTerm(3).setAppliedIndex(40)
            .setRevision(17).build().toByteArray())
        .put(ColumnFamily.DATA, k("b"), new StoredValue(1, 0, k("outside")).encode())
        .put(ColumnFamily.DATA, k("d"), new StoredValue(4, 0, k("d")).encode())
        .put(ColumnFamily.DATA, k("k"), new StoredValue(9, 0, k("k")).encode()));
    return e;
  }

  @Test
  void anInstalledSnapshotReplacesTheReplicasSpanDescriptorAndState() throws IOException {
    InMemoryKvEngine leader = leader();
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    RangeSnapshots.write(leader, 5, stream);

    InMemoryKvEngine follower = new InMemoryKvEngine();
    follower.write(new Mutations()
        .put(ColumnFamily.META, MetaKeys.descriptor(5), range("a", "f", 1).toByteArray()) // before a merge
        .put(ColumnFamily.DATA, k("a1"), k("stale, inside the old span"))
        .put(ColumnFamily.DATA, k("e"), k("stale"))
        .put(ColumnFamily.DATA, k("z"), k("another range's key")));
    RangeSnapshots.install(follower, 5, new ByteArrayInputStream(stream.toByteArray()));

    assertNull(follower.get(ColumnFamily.DATA, k("a1")), "the old span is cleared");
    assertNull(follower.get(ColumnFamily.DATA, k("e")));
    assertArrayEquals(k("another range's key"), follower.get(ColumnFamily.DATA, k("z")));
    assertArrayEquals(leader.get(ColumnFamily.DATA, k("k")), follower.get(ColumnFamily.DATA, k("k")));
    assertEquals(range("c", "p", 2), RangeDescriptor.parseFrom(follower.get(ColumnFamily.META, MetaKeys.descriptor(5))));
    assertEquals(40, RangeState.parseFrom(follower.get(ColumnFamily.META, MetaKeys.state(5))).getAppliedIndex());
    assertEquals(RangeSnapshots.checksum(leader, range("c", "p", 2)), RangeSnapshots.checksum(follower, range("c", "p", 2)));
  }

  @Test
  void aTruncatedStreamIsRefusedAndInstallsNothing() throws IOException {
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    RangeSnapshots.write(leader(), 5, stream);
    byte[] cut = Arrays.copyOf(stream.toByteArray(), stream.size() - 12);
    InMemoryKvEngine follower = new InMemoryKvEngine();
    follower.write(new Mutations().put(ColumnFamily.DATA, k("e"), k("mine")));
    assertThrows(IOException.class, () -> RangeSnapshots.install(follower, 5, new ByteArrayInputStream(cut)));
    assertArrayEquals(k("mine"), follower.get(ColumnFamily.DATA, k("e")));
    assertNull(follower.get(ColumnFamily.META, MetaKeys.descriptor(5)));
  }
}
