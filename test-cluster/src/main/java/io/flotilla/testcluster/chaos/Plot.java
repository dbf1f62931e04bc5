package io.flotilla.testcluster.chaos;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Latency over time as an SVG, the way Jepsen draws it: one dot per completed operation (ok
 * green, fail red, info orange) at its completion time and latency (log scale), with the
 * nemesis's fault windows shaded.
 */
final class Plot {
  private static final int W = 1000;
  private static final int H = 400;
  private static final int LEFT = 60;
  private static final int BOTTOM = 30;

  private Plot() {}

  static String latency(List<Op> ops, String title) {
    long last = ops.isEmpty() ? 1 : Math.max(1, ops.get(ops.size() - 1).nanos());
    double minMs = 0.5;
    double maxMs = 20_000;
    StringBuilder svg = new StringBuilder();
    svg.append(String.format("<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif' "
        + "font-size='11'>%n", W, H));
    svg.append(String.format("<text x='%d' y='14'>%s: latency (ms, log) over time (s)</text>%n", LEFT, escape(title)));
    Long faultStart = null;
    for (Op op : ops) {
      if (op.process() != History.NEMESIS) {
        continue;
      }
      if ("start".equals(op.f())) {
        faultStart = op.nanos();
      } else if (faultStart != null) {
        double x0 = x(faultStart, last);
        svg.append(String.format("<rect x='%.1f' y='20' width='%.1f' height='%d' fill='#ddd'><title>%s</title></rect>%n",
            x0, Math.max(1, x(op.nanos(), last) - x0), H - BOTTOM - 20, escape(op.value())));
        faultStart = null;
      }
    }
    Map<Integer, Op> open = new HashMap<>();
    for (Op op : ops) {
      if (op.process() == History.NEMESIS) {
        continue;
      }
      if (op.type() == Op.Type.INVOKE) {
        open.put(op.process(), op);
        continue;
      }
      Op inv = open.remove(op.process());
      if (inv == null) {
        continue;
      }
      double ms = Math.max(minMs, (op.nanos() - inv.nanos()) / 1e6);
      double y = (H - BOTTOM) - (Math.log10(ms / minMs) / Math.log10(maxMs / minMs)) * (H - BOTTOM - 20);
      String color = switch (op.type()) {
        case OK -> "#2a2";
        case FAIL -> "#d22";
        default -> "#f90";
      };
      svg.append(String.format("<circle cx='%.1f' cy='%.1f' r='1.5' fill='%s'/>%n", x(op.nanos(), last),
          Math.max(20, y), color));
    }
    for (double ms : new double[] {1, 10, 100, 1000, 10000}) {
      double y = (H - BOTTOM) - (Math.log10(ms / minMs) / Math.log10(maxMs / minMs)) * (H - BOTTOM - 20);
      svg.append(String.format("<text x='4' y='%.1f'>%s ms</text><line x1='%d' x2='%d' y1='%.1f' y2='%.1f' "
          + "stroke='#eee'/>%n", y + 4, ms >= 1000 ? (int) (ms / 1000) + "k" : String.valueOf((int) ms), LEFT, W, y, y));
    }
    for (int s = 0; s <= last / 1_000_000_000L; s += 10) {
      svg.append(String.format("<text x='%.1f' y='%d'>%d</text>%n", x(s * 1_000_000_000L, last), H - 10, s));
    }
    svg.append("</svg>\n");
    return svg.toString();
  }

  private static double x(long nanos, long last) {
    return LEFT + (double) nanos / last * (W - LEFT - 10);
  }

  private static String escape(String s) {
    return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
