package io.flotilla.statemachine;

import static io.flotilla.statemachine.Replica.k;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RocksDbKvEngineTest extends KvEngineContract {
  private static final long CACHE = 8 << 20;

  @TempDir
  Path dir;
  private final List<RocksDbKvEngine> open = new ArrayList<>();

  @Override
  KvEngine engine() {
    return open(dir.resolve("db" + open.size()));
  }

  private RocksDbKvEngine open(Path path) {
    RocksDbKvEngine e = RocksDbKvEngine.open(path, CACHE);
    open.add(e);
    return e;
  }

  @AfterEach
  void closeEngines() {
    open.forEach(RocksDbKvEngine::close);
  }

  @Test
  void everyKindOfWriteSurvivesCloseAndReopen() {
    Path path = dir.resolve("reopen");
    RocksDbKvEngine e = RocksDbKvEngine.open(path, CACHE);
    e.write(new Mutations().put(ColumnFamily.DATA, k("a"), k("1")).put(ColumnFamily.DATA, k("b"), k("2"))
        .put(ColumnFamily.DATA, k("c"), k("3")).put(ColumnFamily.DATA, k("d"), k("4"))
        .put(ColumnFamily.META, k("s"), k("7")));
    e.write(new Mutations().delete(ColumnFamily.DATA, k("a")).deleteSpan(ColumnFamily.DATA, k("b"), k("d")));
    e.sync();
    e.close();

    RocksDbKvEngine reopened = open(path);
    assertNull(reopened.get(ColumnFamily.DATA, k("a")));
    assertNull(reopened.get(ColumnFamily.DATA, k("c")));
    assertArrayEquals(k("4"), reopened.get(ColumnFamily.DATA, k("d")));
    assertArrayEquals(k("7"), reopened.get(ColumnFamily.META, k("s")));
    assertEquals(List.of("d"), keys(reopened, "", "", false));
  }

  @Test
  void writesWithoutAnExplicitSyncSurviveACleanClose() {
    Path path = dir.resolve("nosync");
    RocksDbKvEngine e = RocksDbKvEngine.open(path, CACHE);
    e.write(new Mutations().put(ColumnFamily.DATA, k("a"), k("1")));
    e.close();
    assertArrayEquals(k("1"), open(path).get(ColumnFamily.DATA, k("a")));
  }

  @Test
  void aDirectoryInUseByAnotherEngineCannotBeOpenedTwice() {
    Path path = dir.resolve("locked");
    open(path);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> open(path));
    assertTrue(e.getMessage().contains(path.toString()), e.getMessage());
  }

  @Test
  void sizeEstimatesGrowWithTheData() {
    RocksDbKvEngine e = (RocksDbKvEngine) engine();
    Mutations m = new Mutations();
    for (int i = 0; i < 2_000; i++) {
      m.put(ColumnFamily.DATA, k(String.format("key%05d", i)), new byte[200]);
    }
    e.write(m);
    assertTrue(e.approximateSize(k(""), k("")) > 0);
    assertTrue(e.estimatedKeys() > 0);
    assertTrue(e.totalBytes() > 0);
  }
}
