package io.flotilla.bench.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * The machine a comparison ran on, as the report states it: figures only mean something next
 * to the cores, memory, JDK and kernel that produced them, and the date.
 */
public record MachineInfo(int cores, String cpu, String memory, String jdk, String kernel, String date) {

  public static MachineInfo detect() {
    return new MachineInfo(Runtime.getRuntime().availableProcessors(), cpuModel(), totalMemory(),
        System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"),
        System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
        ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z", Locale.ROOT)));
  }

  /** One line such as "2 cores (AMD EPYC ...), 23.5 GiB memory, OpenJDK 64-Bit Server VM 17.0.15, Linux 6.1". */
  public String describe() {
    return cores + " cores (" + cpu + "), " + memory + " memory, " + jdk + ", " + kernel;
  }

  private static String cpuModel() {
    return procLine("/proc/cpuinfo", "model name").orElse("unknown CPU");
  }

  private static String totalMemory() {
    return procLine("/proc/meminfo", "MemTotal").map(v -> {
      long kib = Long.parseLong(v.replaceAll("[^0-9]", ""));
      return String.format(Locale.ROOT, "%.1f GiB", kib / 1024.0 / 1024.0);
    }).orElse("unknown");
  }

  /** The value after the colon of the first line of a /proc file that starts with {@code key}. */
  private static java.util.Optional<String> procLine(String file, String key) {
    try {
      List<String> lines = Files.readAllLines(Path.of(file));
      return lines.stream().filter(l -> l.startsWith(key)).findFirst()
          .map(l -> l.substring(l.indexOf(':') + 1).trim());
    } catch (IOException | RuntimeException e) {
      return java.util.Optional.empty();
    }
  }
}
