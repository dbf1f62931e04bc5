package io.flotilla.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import com.fasterxml.jackson.databind.node.TextNode;
import io.dropwizard.logging.common.DefaultLoggingFactory;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Ratis's noisy loggers are turned off, unless the node's configuration names them. */
class RatisNoiseTest {
  private static final String ORDERED_ASYNC = "org.apache.ratis.client.impl.OrderedAsync";
  private static final String JMX_REGISTER = "org.apache.ratis.util.JmxRegister";

  @AfterEach
  void resetLevels() {
    for (String name : FlotillaApplication.RATIS_NOISE) {
      logger(name).setLevel(null);
    }
  }

  @Test
  void unnamedNoisyLoggersAreTurnedOff() {
    FlotillaApplication.quietRatisNoise(new DefaultLoggingFactory());
    assertEquals(Level.OFF, logger(ORDERED_ASYNC).getLevel());
    assertEquals(Level.OFF, logger(JMX_REGISTER).getLevel());
  }

  @Test
  void aLoggerTheOperatorNamedKeepsTheOperatorsLevel() {
    DefaultLoggingFactory logging = new DefaultLoggingFactory();
    logging.setLoggers(Map.of(ORDERED_ASYNC, TextNode.valueOf("DEBUG")));
    FlotillaApplication.quietRatisNoise(logging);
    assertNull(logger(ORDERED_ASYNC).getLevel(), "left as the logging configuration set it");
    assertEquals(Level.OFF, logger(JMX_REGISTER).getLevel());
  }

  private static Logger logger(String name) {
    return (Logger) LoggerFactory.getLogger(name);
  }
}
