package io.flotilla.statemachine;

import static io.flotilla.statemachine.Replica.k;
import static io.flotilla.statemachine.Replica.put;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.flotilla.proto.Query;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeState;
import io.flotilla.proto.ScanQuery;
import io.flotilla.proto.SnapshotEntry;
import io.flotilla.proto.SnapshotHeader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Range snapshots: streamed from a healthy replica, installed over a stale one, all or nothing. */
class RangeSnapshotsTest {
  private static final long ID = 5;
  private static final RangeDescriptor RANGE = Replica.range(ID, "c", "p", 2, 4);

  @TempDir
  Path dir;
  private int opened;
  private final List<RocksDbKvEngine> rocks = new java.util.ArrayList<>();

  @AfterEach
  void closeEngines() {
    rocks.forEach(RocksDbKvEngine::close);
  }

  private KvEngine rocks() {
    RocksDbKvEngine e = RocksDbKvEngine.open(dir.resolve("db" + opened++), 8 << 20);
    rocks.add(e);
    return e;
  }

  /** A healthy replica of RANGE: data written through the apply logic, descriptor and state in meta. */
  private static KvEngine leader(KvEngine engine) {
    Replica replica = new Replica(engine, RANGE);
    replica.apply(put("c", "first key"));
    replica.apply(put("d", "d"));
    replica.apply(Replica.putExpiring("e", "expired", replica.now + 1));
    replica.apply(put("k", "k"));
    replica.apply(put("k", "k2"));
    replica.apply(Replica.incr("ozz", 3));
    engine.write(new Mutations()
        .put(ColumnFamily.DATA, k("b"), new StoredValue(1, 0, k("left neighbour")).encode())
        .put(ColumnFamily.DATA, k("p"), new StoredValue(1, 0, k("right neighbour")).encode())
        .put(ColumnFamily.META, MetaKeys.descriptor(ID), RANGE.toByteArray())
        .put(ColumnFamily.META, MetaKeys.state(ID), state(replica.revision).toByteArray()));
    return engine;
  }

  private static RangeState state(long revision) {
    return RangeState.newBuilder().setAppliedTerm(3).setAppliedIndex(40).setRevision(revision).build();
  }

  private static byte[] stream(KvEngine leader) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    RangeSnapshots.write(leader, ID, out);
    return out.toByteArray();
  }

  /** A follower that last knew the range as [a, f), before it merged with its right neighbour. */
  private static KvEngine staleFollower(KvEngine engine) {
    engine.write(new Mutations()
        .put(ColumnFamily.META, MetaKeys.descriptor(ID), Replica.range(ID, "a", "f", 1, 4).toByteArray())
        .put(ColumnFamily.META, MetaKeys.state(ID), state(2).toByteArray())
        .put(ColumnFamily.DATA, k("0"), k("below both spans"))
        .put(ColumnFamily.DATA, k("a1"), k("stale, only in the old span"))
        .put(ColumnFamily.DATA, k("d"), k("stale, in both spans"))
        .put(ColumnFamily.DATA, k("kz"), k("stale, only in the new span"))
        .put(ColumnFamily.DATA, k("z"), k("above both spans")));
    return engine;
  }

  private static String data(KvEngine e, String key) {
    byte[] v = e.get(ColumnFamily.DATA, k(key));
    return v == null ? null : new String(v, java.nio.charset.StandardCharsets.UTF_8);
  }

  private static void assertInstalled(KvEngine leader, KvEngine follower) throws IOException {
    assertEquals(RANGE, RangeDescriptor.parseFrom(follower.get(ColumnFamily.META, MetaKeys.descriptor(ID))));
    assertEquals(RangeState.parseFrom(leader.get(ColumnFamily.META, MetaKeys.state(ID))),
        RangeState.parseFrom(follower.get(ColumnFamily.META, MetaKeys.state(ID))));
    assertEquals(RangeSnapshots.checksum(leader, RANGE), RangeSnapshots.checksum(follower, RANGE));
    assertEquals(KvEngineContract.keys(leader, "c", "p", false), KvEngineContract.keys(follower, "c", "p", false));
    for (String key : List.of("c", "d", "e", "k", "ozz")) {
      assertArrayEquals(leader.get(ColumnFamily.DATA, k(key)), follower.get(ColumnFamily.DATA, k(key)), key);
    }
  }

  private void installsBetween(Supplier<KvEngine> leaderEngine, Supplier<KvEngine> followerEngine) throws IOException {
    KvEngine leader = leader(leaderEngine.get());
    KvEngine follower = staleFollower(followerEngine.get());

    SnapshotHeader installed = RangeSnapshots.install(follower, ID, new ByteArrayInputStream(stream(leader)));

    assertEquals(RANGE, installed.getRange());
    assertInstalled(leader, follower);
    assertNull(data(follower, "a1"), "a key only in the old span is removed");
    assertNull(data(follower, "kz"), "a key of the new span that the snapshot lacks is removed");
    assertEquals("below both spans", data(follower, "0"));
    assertEquals("above both spans", data(follower, "z"));
    assertNull(data(follower, "b"), "the leader's neighbours are not part of the snapshot");
    assertNull(data(follower, "p"));
  }

  /**
   * Every node stores the first layout of all ranges, also of those it never hosted. A node
   * that received another range inside that old span since (here [p, z), moved to it) must keep
   * that range's data when the first range is then copied to it: only the rest of the old span
   * is cleared.
   */
  @Test
  void aStaleDescriptorNeverClearsTheDataOfAnotherRangeTheNodeHosts() throws IOException {
    KvEngine leader = leader(new InMemoryKvEngine());
    KvEngine node = new InMemoryKvEngine();
    RangeDescriptor hostedHere = Replica.range(9, "p", "z", 2, 1);
    node.write(new Mutations()
        .put(ColumnFamily.META, MetaKeys.descriptor(ID), Replica.range(ID, "a", "z", 1, 1).toByteArray())
        .put(ColumnFamily.DATA, k("a1"), k("left over from the first layout"))
        .put(ColumnFamily.DATA, k("q"), k("range 9's")));

    RangeSnapshots.install(node, ID, new ByteArrayInputStream(stream(leader)), List.of(hostedHere));

    assertInstalled(leader, node);
    assertEquals("range 9's", data(node, "q"), "the other range's key survives");
    assertNull(data(node, "a1"), "the rest of the old span is cleared");
  }

  @Test
  void clearingASpanSkipsOverlappingAndOpenEndedKeptRanges() {
    KvEngine node = new InMemoryKvEngine();
    Mutations data = new Mutations();
    for (String key : List.of("a1", "c1", "f", "h", "y")) {
      data.put(ColumnFamily.DATA, k(key), k(key));
    }
    node.write(data);
    Mutations clear = new Mutations();
    RangeSnapshots.clearSpanExcept(clear, Replica.range(ID, "a", "", 1, 1), List.of(
        Replica.range(2, "c", "e", 1, 1), Replica.range(3, "d", "g", 1, 1), Replica.range(4, "x", "", 1, 1)));
    node.write(clear);
    assertNull(data(node, "a1"));
    assertEquals("c1", data(node, "c1"));
    assertEquals("f", data(node, "f"));
    assertNull(data(node, "h"));
    assertEquals("y", data(node, "y"), "a kept range open to the end of the key space");
  }

  @Test
  void aSnapshotReplacesAStaleReplicaBetweenInMemoryEngines() throws IOException {
    installsBetween(InMemoryKvEngine::new, InMemoryKvEngine::new);
  }

  @Test
  void aSnapshotFromRocksDbInstallsIntoRocksDb() throws IOException {
    installsBetween(this::rocks, this::rocks);
  }

  @Test
  void aSnapshotCrossesEngineKindsBothWays() throws IOException {
    installsBetween(this::rocks, InMemoryKvEngine::new);
    installsBetween(InMemoryKvEngine::new, this::rocks);
  }

  @Test
  void aNewReplicaWithNoPriorDescriptorReceivesTheRange() throws IOException {
    KvEngine leader = leader(new InMemoryKvEngine());
    KvEngine follower = new InMemoryKvEngine();
    follower.write(new Mutations().put(ColumnFamily.DATA, k("a"), k("another range")));
    RangeSnapshots.install(follower, ID, new ByteArrayInputStream(stream(leader)));
    assertInstalled(leader, follower);
    assertEquals("another range", data(follower, "a"));
  }

  /** A range larger than one install part (4 MiB): installed whole; a cut stream installs nothing. */
  @Test
  void aLargeSnapshotInstallsInPartsAtomically() throws IOException {
    KvEngine leader = leader(rocks());
    byte[] value = new byte[64 * 1024];
    Arrays.fill(value, (byte) 'x');
    Mutations bulk = new Mutations();
    for (int i = 0; i < 200; i++) { // 12.5 MiB: four parts
      bulk.put(ColumnFamily.DATA, k(String.format("m%04d", i)), new StoredValue(7, 0, value).encode());
    }
    leader.write(bulk);
    byte[] stream = stream(leader);

    KvEngine follower = staleFollower(rocks());
    long before = RangeSnapshots.checksum(follower, Replica.range(ID, "a", "f", 1, 4));
    byte[] cut = Arrays.copyOf(stream, stream.length * 3 / 4);
    assertThrows(IOException.class, () -> RangeSnapshots.install(follower, ID, new ByteArrayInputStream(cut)));
    assertEquals(before, RangeSnapshots.checksum(follower, Replica.range(ID, "a", "f", 1, 4)),
        "a stream cut in its third part changed nothing");
    assertEquals("stale, only in the old span", data(follower, "a1"));
    assertNull(follower.get(ColumnFamily.DATA, k("m0000")));

    RangeSnapshots.install(follower, ID, new ByteArrayInputStream(stream));
    assertInstalled(leader, follower);
    assertArrayEquals(leader.get(ColumnFamily.DATA, k("m0199")), follower.get(ColumnFamily.DATA, k("m0199")));
  }

  @Test
  void aReplicaWhoseOldSpanRanToInfinityHasItAllCleared() throws IOException {
    KvEngine leader = leader(new InMemoryKvEngine());
    KvEngine follower = new InMemoryKvEngine();
    follower.write(new Mutations()
        .put(ColumnFamily.META, MetaKeys.descriptor(ID), Replica.range(ID, "c", "", 1, 1).toByteArray())
        .put(ColumnFamily.DATA, k("b"), k("below"))
        .put(ColumnFamily.DATA, k("zz"), k("stale"))
        .put(ColumnFamily.DATA, k("\u00e9t\u00e9"), k("stale")));
    RangeSnapshots.install(follower, ID, new ByteArrayInputStream(stream(leader)));
    assertInstalled(leader, follower);
    assertEquals(List.of("b", "c", "d", "e", "k", "ozz"), KvEngineContract.keys(follower, "", "", false));
  }

  @Test
  void theInstalledReplicaServesTheSameReadsAndContinuesTheRevision() throws IOException {
    KvEngine leader = leader(new InMemoryKvEngine());
    KvEngine follower = staleFollower(new InMemoryKvEngine());
    RangeSnapshots.install(follower, ID, new ByteArrayInputStream(stream(leader)));

    Query scan = Query.newBuilder().setRangeId(ID).setEpoch(RANGE.getEpoch()).setNowMillis(Replica.START_MILLIS + 5)
        .setScan(ScanQuery.newBuilder().setLimit(100)).build();
    assertEquals(RangeQueries.evaluate(scan, RANGE, 6, leader), RangeQueries.evaluate(scan, RANGE, 6, follower));

    long revision = RangeState.parseFrom(follower.get(ColumnFamily.META, MetaKeys.state(ID))).getRevision();
    Replica continued = new Replica(follower, RANGE);
    continued.revision = revision;
    assertEquals(revision + 1, continued.apply(put("k", "after")).getPut().getVersion());
  }

  @Test
  void aSnapshotIsAConsistentCopyEvenWhileTheLeaderKeepsWriting() throws IOException {
    KvEngine leader = leader(rocks());
    long checksumBefore = RangeSnapshots.checksum(leader, RANGE);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    OutputStream writesMidStream = new FilterOutputStream(bytes) {
      private boolean wrote;

      @Override
      public void write(int b) throws IOException {
        if (!wrote) {
          wrote = true;
          leader.write(new Mutations().put(ColumnFamily.DATA, k("f"), new StoredValue(9, 0, k("late")).encode())
              .delete(ColumnFamily.DATA, k("k")));
        }
        super.write(b);
      }
    };
    RangeSnapshots.write(leader, ID, writesMidStream);
    KvEngine follower = new InMemoryKvEngine();
    RangeSnapshots.install(follower, ID, new ByteArrayInputStream(bytes.toByteArray()));
    assertEquals(checksumBefore, RangeSnapshots.checksum(follower, RANGE));
    assertNull(data(follower, "f"));
    assertNotEquals(checksumBefore, RangeSnapshots.checksum(leader, RANGE), "the leader did change meanwhile");
  }

  @Test
  void writeReportsTheHeaderAndDefaultsAMissingState() throws IOException {
    KvEngine leader = new InMemoryKvEngine();
    leader.write(new Mutations().put(ColumnFamily.META, MetaKeys.descriptor(ID), RANGE.toByteArray()));
    SnapshotHeader header = RangeSnapshots.write(leader, ID, new ByteArrayOutputStream());
    assertEquals(RANGE, header.getRange());
    assertEquals(RangeState.getDefaultInstance(), header.getState());
  }

  @Test
  void writingARangeTheNodeDoesNotHoldIsRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> RangeSnapshots.write(leader(new InMemoryKvEngine()), ID + 1, new ByteArrayOutputStream()));
  }

  // ---- refused streams install nothing ----

  private static void assertRefusedAndUntouched(byte[] stream) throws IOException {
    KvEngine follower = staleFollower(new InMemoryKvEngine());
    KvEngine untouched = staleFollower(new InMemoryKvEngine());
    Throwable thrown = null;
    try {
      RangeSnapshots.install(follower, ID, new ByteArrayInputStream(stream));
    } catch (Exception e) {
      thrown = e;
    }
    assertEquals(KvEngineContract.keys(untouched, "", "", false), KvEngineContract.keys(follower, "", "", false));
    assertEquals(KvEngineContract.keys(untouched, ColumnFamily.META, "", "", false),
        KvEngineContract.keys(follower, ColumnFamily.META, "", "", false));
    assertArrayEquals(untouched.get(ColumnFamily.META, MetaKeys.descriptor(ID)),
        follower.get(ColumnFamily.META, MetaKeys.descriptor(ID)));
    assertEquals(RangeSnapshots.checksum(untouched, RANGE), RangeSnapshots.checksum(follower, RANGE));
    assertEquals("stale, only in the old span", data(follower, "a1"));
    assertTrue(thrown instanceof IOException,
        "nothing was installed, but the stream was refused with " + thrown + " instead of an IOException");
  }

  @Test
  void aStreamCutAtAnyByteIsRefusedAndInstallsNothing() throws IOException {
    // A cut right after an entry's length prefix parses as an empty entry, which looks like the
    // trailer: install must still see the bad count and refuse with an IOException.
    byte[] whole = stream(leader(new InMemoryKvEngine()));
    List<String> wrong = new java.util.ArrayList<>();
    for (int cut = 0; cut < whole.length; cut++) {
      try {
        assertRefusedAndUntouched(Arrays.copyOf(whole, cut));
      } catch (AssertionError e) {
        wrong.add("cut to " + cut + " of " + whole.length + " bytes: " + e.getMessage());
      }
    }
    assertEquals(List.of(), wrong);
  }

  @Test
  void aStreamForAnotherRangeIsRefused() throws IOException {
    KvEngine other = new InMemoryKvEngine();
    other.write(new Mutations().put(ColumnFamily.META, MetaKeys.descriptor(ID + 1),
        Replica.range(ID + 1, "c", "p", 2, 4).toByteArray()));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    RangeSnapshots.write(other, ID + 1, out);
    assertRefusedAndUntouched(out.toByteArray());
  }

  @Test
  void aStreamThatLostAnEntryIsRefusedByItsTrailerCount() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SnapshotHeader.newBuilder().setRange(RANGE).setState(state(9)).build().writeDelimitedTo(out);
    entry("c", "1").writeDelimitedTo(out);
    entry("d", "2").writeDelimitedTo(out);
    trailer(3).writeDelimitedTo(out);
    assertRefusedAndUntouched(out.toByteArray());
  }

  @Test
  void aStreamWithAKeyOutsideItsSpanIsRefused() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SnapshotHeader.newBuilder().setRange(RANGE).setState(state(9)).build().writeDelimitedTo(out);
    entry("c", "1").writeDelimitedTo(out);
    entry("z", "2").writeDelimitedTo(out);
    trailer(2).writeDelimitedTo(out);
    assertRefusedAndUntouched(out.toByteArray());
  }

  private static SnapshotEntry entry(String key, String value) {
    return SnapshotEntry.newBuilder().setKey(ByteString.copyFromUtf8(key))
        .setStoredValue(ByteString.copyFrom(new StoredValue(1, 0, k(value)).encode())).build();
  }

  private static SnapshotEntry trailer(long count) {
    return SnapshotEntry.newBuilder().setStoredValue(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(count).array()))
        .build();
  }

  // ---- checksum ----

  @Test
  void theChecksumSeesEveryByteOfTheRangeAndNothingOutsideIt() {
    KvEngine a = leader(new InMemoryKvEngine());
    KvEngine b = leader(new InMemoryKvEngine());
    assertEquals(RangeSnapshots.checksum(a, RANGE), RangeSnapshots.checksum(b, RANGE));

    b.write(new Mutations().put(ColumnFamily.DATA, k("zzz"), k("outside")).delete(ColumnFamily.DATA, k("b")));
    assertEquals(RangeSnapshots.checksum(a, RANGE), RangeSnapshots.checksum(b, RANGE));

    b.write(new Mutations().put(ColumnFamily.DATA, k("d"), new StoredValue(2, 0, k("D")).encode()));
    assertNotEquals(RangeSnapshots.checksum(a, RANGE), RangeSnapshots.checksum(b, RANGE));
  }
}
