package io.flotilla.statemachine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RocksDbKvEngineTest extends KvEngineContract {
  @TempDir
  Path dir;
  private RocksDbKvEngine engine;

  @Override
  KvEngine engine() {
    engine = RocksDbKvEngine.open(dir.resolve("db"), 8 << 20);
    return engine;
  }

  @AfterEach
  void close() {
    if (engine != null) {
      engine.close();
    }
  }

  @Test
  void dataSurvivesCloseAndReopen() {
    KvEngine e = engine();
    e.write(new Mutations().put(ColumnFamily.DATA, k("a"), k("1")).put(ColumnFamily.META, k("s"), k("7")));
    e.sync();
    engine.close();
    engine = RocksDbKvEngine.open(dir.resolve("db"), 8 << 20);
    assertArrayEquals(k("1"), engine.get(ColumnFamily.DATA, k("a")));
    assertArrayEquals(k("7"), engine.get(ColumnFamily.META, k("s")));
  }
}
