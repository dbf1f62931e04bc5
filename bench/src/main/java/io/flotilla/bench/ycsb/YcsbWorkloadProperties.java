package io.flotilla.bench.ycsb;

import io.flotilla.bench.load.OpKind;
import io.flotilla.bench.load.Workload;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A generator {@link Workload} as the properties of YCSB's {@code CoreWorkload}, so YCSB runs the
 * very mixes of {@code io.flotilla.bench.load.Workloads} (which follow YCSB's workload files
 * a-f): one definition of each workload, two drivers.
 */
public final class YcsbWorkloadProperties {
  private YcsbWorkloadProperties() {}

  public static Map<String, String> of(Workload workload) {
    Map<OpKind, Double> mix = workload.mix().proportions();
    Map<String, String> p = new LinkedHashMap<>();
    p.put("workload", "site.ycsb.workloads.CoreWorkload");
    p.put("readallfields", "true");
    p.put("readproportion", proportion(mix, OpKind.READ));
    p.put("updateproportion", proportion(mix, OpKind.UPDATE));
    p.put("scanproportion", proportion(mix, OpKind.SCAN));
    p.put("insertproportion", proportion(mix, OpKind.INSERT));
    p.put("readmodifywriteproportion", proportion(mix, OpKind.READ_MODIFY_WRITE));
    p.put("requestdistribution", workload.keys().name().toLowerCase(Locale.ROOT));
    p.put("minscanlength", Integer.toString(workload.minScan()));
    p.put("maxscanlength", Integer.toString(workload.maxScan()));
    p.put("scanlengthdistribution", "uniform");
    return p;
  }

  /** Rounded to 9 decimals, so 1 - 0.95 prints as YCSB's files say it: 0.05. */
  private static String proportion(Map<OpKind, Double> mix, OpKind kind) {
    return Double.toString(Math.round(mix.getOrDefault(kind, 0.0) * 1e9) / 1e9);
  }
}
