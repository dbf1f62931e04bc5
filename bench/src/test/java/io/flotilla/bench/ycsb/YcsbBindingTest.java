package io.flotilla.bench.ycsb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.bench.load.KeyDistribution;
import io.flotilla.bench.load.Workloads;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import site.ycsb.ByteIterator;
import site.ycsb.StringByteIterator;
import org.junit.jupiter.api.Test;

class YcsbBindingTest {
  @Test
  void aRecordSurvivesEncodingWithItsFieldsInOrder() {
    Map<String, byte[]> record = new LinkedHashMap<>();
    record.put("field1", new byte[] {1, 2, 3});
    record.put("field0", new byte[0]);
    record.put("fïeld", "value".getBytes(StandardCharsets.UTF_8));
    Map<String, byte[]> back = RecordCodec.decode(RecordCodec.encode(record));
    assertEquals(List.copyOf(record.keySet()), List.copyOf(back.keySet()));
    record.forEach((name, value) -> assertArrayEquals(value, back.get(name), name));
  }

  @Test
  void aValueThatIsNotARecordIsRefusedWithAReason() {
    IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class,
        () -> RecordCodec.decode("plain".getBytes(StandardCharsets.UTF_8)));
    assertTrue(wrong.getMessage().contains("not a YCSB record"));
    byte[] cut = RecordCodec.encode(Map.of("f", new byte[100]));
    assertThrows(IllegalArgumentException.class, () -> RecordCodec.decode(java.util.Arrays.copyOf(cut, 50)));
  }

  @Test
  void readsReturnOnlyTheAskedFieldsOrAllOfThem() {
    Map<String, byte[]> record = FlotillaYcsbClient.bytesOf(StringByteIterator.getByteIteratorMap(
        Map.of("a", "1", "b", "2", "c", "3")));
    Map<String, ByteIterator> some = new HashMap<>();
    FlotillaYcsbClient.copyFields(record, Set.of("b"), some);
    assertEquals(Set.of("b"), some.keySet());
    assertEquals("2", some.get("b").toString());
    Map<String, ByteIterator> all = new HashMap<>();
    FlotillaYcsbClient.copyFields(record, null, all);
    assertEquals(Set.of("a", "b", "c"), all.keySet());
  }

  @Test
  void aTablesRecordsFormOneSpanThatScansStayIn() {
    assertEquals("usertable/user42", YcsbKeys.of("usertable", "user42"));
    String end = YcsbKeys.tableEnd("usertable");
    assertTrue(YcsbKeys.of("usertable", "zzzz").compareTo(end) < 0);
    assertTrue("usertable0".compareTo(end) >= 0 && "usertables/x".compareTo(end) > 0);
  }

  @Test
  void ycsbRunsTheGeneratorsMixes() {
    Map<String, String> a = YcsbWorkloadProperties.of(Workloads.parse("ycsb-a", KeyDistribution.UNIFORM));
    assertEquals("0.5", a.get("readproportion"));
    assertEquals("0.5", a.get("updateproportion"));
    assertEquals("0.0", a.get("insertproportion"));
    assertEquals("zipfian", a.get("requestdistribution"));
    Map<String, String> d = YcsbWorkloadProperties.of(Workloads.parse("ycsb-d", KeyDistribution.UNIFORM));
    assertEquals("latest", d.get("requestdistribution"));
    assertEquals("0.05", d.get("insertproportion"));
    Map<String, String> e = YcsbWorkloadProperties.of(Workloads.parse("ycsb-e", KeyDistribution.UNIFORM));
    assertEquals("0.95", e.get("scanproportion"));
    assertEquals("100", e.get("maxscanlength"));
    Map<String, String> f = YcsbWorkloadProperties.of(Workloads.parse("ycsb-f", KeyDistribution.UNIFORM));
    assertEquals("0.5", f.get("readmodifywriteproportion"));
  }

  @Test
  void theCommandLineLoadsOrRunsWithTheBindingAndTheNodes() {
    YcsbMain main = new YcsbMain();
    new picocli.CommandLine(main).parseArgs("--phase", "load", "--workload", "ycsb-c", "--nodes",
        "http://127.0.0.11:7001,http://127.0.0.12:7001", "--target", "500", "-p", "fieldcount=5");
    List<String> args = main.arguments();
    assertEquals(List.of("-load", "-db", FlotillaYcsbClient.class.getName(), "-threads", "16", "-s", "-target", "500"),
        args.subList(0, 8));
    assertTrue(args.contains("flotilla.nodes=http://127.0.0.11:7001,http://127.0.0.12:7001"), args.toString());
    assertTrue(args.contains("readproportion=1.0") && args.contains("fieldcount=5"), args.toString());
  }
}
